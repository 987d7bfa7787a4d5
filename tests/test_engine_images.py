"""Untrusted images: everything decodable becomes upright RGB, everything else an ImageError."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from engine import ImageError, load_image
from engine.images import fit, keep_luminance_only, match_colors, to_image, to_tensor
from tests.pictures import encode, gradient, stripes


def rgb_at(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = image.getpixel(xy)
    assert isinstance(value, tuple), f"{image.mode} has one band, not RGB"
    return value


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "TIFF"])
def test_common_formats_decode_to_rgb(fmt):
    image = load_image(encode(gradient(80, 60), fmt))
    assert image.mode == "RGB" and image.size == (80, 60)


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    image = load_image(encode(gradient(80, 40), "JPEG", exif=exif.tobytes()))
    assert image.size == (40, 80)


def test_transparency_is_flattened_onto_white():
    rgba = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    assert load_image(encode(rgba)).getpixel((5, 5)) == (255, 255, 255)
    palette = Image.new("P", (40, 40), 1)
    palette.putpalette([0, 0, 0, 0, 255, 0])
    palette.info["transparency"] = 0
    assert load_image(encode(palette, transparency=0)).getpixel((5, 5)) == (0, 255, 0)
    assert load_image(encode(Image.new("LA", (40, 40), (30, 255)))).getpixel((1, 1)) == (30,) * 3


def test_cmyk_and_sixteen_bit_images_are_converted():
    cmyk = load_image(encode(Image.new("CMYK", (40, 40), (0, 255, 255, 0)), "JPEG"))
    red, green, blue = rgb_at(cmyk, (20, 20))
    assert red > 200 and green < 60 and blue < 60
    deep = Image.new("I;16", (40, 40))
    deep.putdata([i * 40 for i in range(1600)])
    image = load_image(encode(deep))
    assert image.mode == "RGB"
    assert rgb_at(image, (0, 0))[0] < 10 and rgb_at(image, (39, 39))[0] > 245


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "could not read"),
        (b"hello, I am a text file", "could not read"),
        (encode(gradient(80, 60), "JPEG")[:200], "could not read"),  # truncated
        (encode(gradient(20, 200)), "too small"),
        (encode(gradient(80, 60), "ICO"), "could not read"),  # not a format we accept
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "could not read"),
    ],
    ids=["empty", "text", "truncated-jpeg", "tiny", "icon", "pdf"],
)
def test_bad_inputs_raise_readable_image_errors(data, message):
    with pytest.raises(ImageError, match=message) as error:
        load_image(data)
    assert "Traceback" not in str(error.value)


def _bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG header claiming a huge size, with a tiny compressed body."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    body = zlib.compress(b"\x00" * (1 + width // 8) * 16)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def test_decompression_bombs_are_refused_before_decoding():
    with pytest.raises(ImageError, match="too large"):
        load_image(_bomb_png(30_000, 30_000))


def test_oversized_files_and_missing_paths_are_refused(tmp_path):
    with pytest.raises(ImageError, match="over 50 MB"):
        load_image(b"\xff" * (50 * 1024 * 1024 + 1))
    with pytest.raises(ImageError, match="no image file"):
        load_image(tmp_path / "missing.jpg")


def test_large_jpeg_decodes_at_reduced_scale_when_asked():
    big = encode(gradient(1600, 1200), "JPEG")
    assert max(load_image(big, max_side=400).size) < 1600
    assert load_image(io.BytesIO(big)).size == (1600, 1200)


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
