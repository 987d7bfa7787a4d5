"""The engine's own images: a person's files become upright RGB (any common format, no
chat limits), and tensors, resizing and colour transfer keep what they should."""

from __future__ import annotations

import functools
import io
import random
import re

import pytest
from PIL import Image, ImageSequence

from engine import ImageError, load_image, makingof
from engine.images import (
    fit,
    keep_luminance_only,
    match_colors,
    to_image,
    to_tensor,
)
from tests.pictures import encode, gradient, stripes


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF"])
def test_a_persons_own_file_is_read_in_any_common_format(fmt, tmp_path):
    path = tmp_path / f"picture.{fmt.lower()}"
    path.write_bytes(encode(gradient(80, 60), fmt))
    image = load_image(path)
    assert image.mode == "RGB" and image.size == (80, 60)


def test_no_chat_limits_apply_to_a_persons_own_file():
    panorama = load_image(io.BytesIO(encode(gradient(800, 40))))  # a chat finds it too thin
    assert panorama.size == (800, 40)


def test_phone_photos_come_upright_and_transparency_shows_white():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    assert load_image(io.BytesIO(encode(gradient(80, 40), "JPEG", exif=exif.tobytes()))).size == (
        40,
        80,
    )
    clear = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    assert load_image(clear).getpixel((5, 5)) == (255, 255, 255)


def test_deep_greys_are_spread_over_eight_bits():
    deep = Image.new("I;16", (40, 40))
    deep.putdata([i * 40 for i in range(1600)])  # 0 to 63960 of 65535
    image = load_image(io.BytesIO(encode(deep)))
    assert image.getpixel((0, 0)) == (0, 0, 0) and image.getpixel((39, 39)) == (255, 255, 255)
    assert image.getpixel((0, 20)) == (127, 127, 127)  # 32000: the middle, not clipped white


def test_what_cannot_be_painted_is_named_in_one_sentence(tmp_path):
    gone = tmp_path / "gone.png"
    with pytest.raises(ImageError, match=re.escape(f"there is no image file at {gone}")):
        load_image(gone)
    notes = tmp_path / "notes.png"
    notes.write_text("not a picture")
    with pytest.raises(ImageError, match=re.escape(f"cannot read {notes}: not a JPEG, PNG")):
        load_image(notes)
    with pytest.raises(ImageError, match=r"the image is too small \(16×16\)"):
        load_image(gradient(16, 16))


def test_tensor_round_trip_and_resizing_keep_pixels_and_aspect():
    image = stripes(48, 32)
    assert to_image(to_tensor(image)).tobytes() == image.tobytes()
    assert fit(gradient(300, 100), 120).size == (120, 40)


def test_colour_matching_and_luminance_transfer_keep_the_contents_colours():
    content, style = gradient(64, 64), stripes(64, 64)
    matched = match_colors(to_tensor(style), to_tensor(content))
    content_mean = to_tensor(content).mean(dim=(2, 3))
    assert (matched.mean(dim=(2, 3)) - content_mean).abs().max() < 0.05
    recoloured = to_tensor(keep_luminance_only(style, content).convert("YCbCr"))
    style_ycc, content_ycc = to_tensor(style.convert("YCbCr")), to_tensor(content.convert("YCbCr"))
    # chroma from the content, luminance from the stylised image (up to rounding and gamut)
    assert (recoloured[:, 1:] - content_ycc[:, 1:]).abs().mean() < 0.02
    assert (recoloured[:, :1] - style_ycc[:, :1]).abs().mean() < 0.02


def test_the_making_of_film_is_shrunk_to_fit_telegrams_cap():
    def frame(seed: int) -> Image.Image:  # noise: a GIF cannot compress it
        side = makingof.SIDE
        return Image.frombytes("RGB", (side, side), random.Random(seed).randbytes(side * side * 3))

    recorder = makingof.FrameRecorder()
    recorder.snapshots = [functools.partial(frame, seed) for seed in range(40)]
    every_frame = 40 * makingof.SIDE * makingof.SIDE  # a byte a pixel at the very least
    assert every_frame > makingof.MAX_BYTES, "all the frames would not fit"

    film = recorder.film(frame(40))
    assert film is not None
    assert len(film) <= makingof.MAX_BYTES
    with Image.open(io.BytesIO(film)) as gif:
        assert gif.format == "GIF" and gif.size == (makingof.SIDE, makingof.SIDE)
        frames = sum(1 for _ in ImageSequence.Iterator(gif))
        assert 1 < frames < 41, "fewer frames than were recorded, but still a film"
