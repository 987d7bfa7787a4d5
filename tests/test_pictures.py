"""Pictures from strangers: JPEG, PNG and WebP within bounds become upright RGB; everything
else an ImageError whose code and params a chat words in its user's language."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageFile, WebPImagePlugin

from pictures import ImageError, ImageProblem, decode_cost, is_heif, load_image
from tests.pictures import (
    encode,
    gradient,
    halves,
    jpeg_claiming,
    png_claiming,
    stripes,
    webp_claiming,
)


def rgb_at(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = image.getpixel(xy)
    assert isinstance(value, tuple), f"{image.mode} has one band, not RGB"
    return value


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_the_formats_a_chat_sends_decode_to_rgb(fmt):
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
        (encode(gradient(400, 32)), "too long and thin"),
        (encode(gradient(80, 60), "ICO"), "could not read"),  # not a format we accept
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "could not read"),
    ],
    ids=["empty", "text", "truncated-jpeg", "tiny", "thin", "icon", "pdf"],
)
def test_bad_inputs_raise_readable_image_errors(data, message):
    with pytest.raises(ImageError, match=message) as error:
        load_image(data)
    assert "Traceback" not in str(error.value)


def test_decompression_bombs_are_refused_before_decoding():
    with pytest.raises(ImageError, match="too large") as error:
        load_image(png_claiming(30_000, 30_000))
    assert error.value.code is ImageProblem.BOMB


def test_oversized_files_and_missing_paths_are_refused(tmp_path):
    with pytest.raises(ImageError, match="over 50 MB"):
        load_image(b"\xff" * (50 * 1024 * 1024 + 1))
    with pytest.raises(ImageError, match="no image file") as error:
        load_image(tmp_path / "missing.jpg")
    assert error.value.params == {"path": str(tmp_path / "missing.jpg")}


def test_large_jpeg_decodes_at_reduced_scale_when_asked():
    big = encode(gradient(1600, 1200), "JPEG")
    assert max(load_image(big, max_side=400).size) < 1600
    assert load_image(io.BytesIO(big)).size == (1600, 1200)


@pytest.mark.parametrize("fmt", ["TIFF", "BMP", "GIF"])
def test_other_formats_are_refused_by_content_whatever_the_name(fmt, tmp_path):
    named_jpeg = tmp_path / "photo.jpg"
    named_jpeg.write_bytes(encode(gradient(80, 60), fmt))
    with pytest.raises(ImageError, match="JPEG, PNG or WebP") as error:
        load_image(named_jpeg)
    assert error.value.code is ImageProblem.UNREADABLE


def test_phone_photos_in_mpo_count_as_jpeg():
    first, second = io.BytesIO(), gradient(80, 60)
    second.save(first, "MPO", save_all=True, append_images=[stripes(80, 60)])
    assert load_image(first.getvalue()).size == (80, 60)


def test_an_iphone_photo_is_recognised_by_its_ftyp_box():
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
    assert is_heif(heic)
    assert not is_heif(b"\x00\x00\x00\x18ftypisom")  # an MP4: not a picture
    assert not is_heif(encode(gradient(), "JPEG"))


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any picture's pixels are decoded (WebP decodes in its own load)."""

    def decode(image: ImageFile.ImageFile) -> None:
        raise AssertionError(f"a {image.format} picture was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decode)
    monkeypatch.setattr(WebPImagePlugin.WebPImageFile, "load", decode)


@pytest.mark.parametrize(
    ("data", "max_megapixels"),
    [
        (webp_claiming(4000, 4000), 12),  # WebP takes 16 bytes a pixel: 12.5 MP at most
        (jpeg_claiming(7000, 7000), 32),  # coefficients of all 49 MP, though drafted small
    ],
    ids=["16 MP webp", "49 MP progressive jpeg"],
)
def test_decodes_over_the_memory_budget_are_refused_from_the_header(
    data, max_megapixels, no_decoding
):
    with pytest.raises(ImageError, match=f"under {max_megapixels} megapixels") as error:
        load_image(data, max_side=1024)
    assert error.value.code is ImageProblem.TOO_MANY_PIXELS
    # With room for it, the same picture gets as far as decoding: the header was the judge.
    with pytest.raises(AssertionError, match="was decoded"):
        load_image(data, max_side=1024, budget=10**12)


def test_the_budget_counts_what_pillow_stores(no_decoding):
    def cost(image: Image.Image) -> int:
        opened = Image.open(io.BytesIO(encode(image)))
        return decode_cost(opened, opened.size)

    assert cost(Image.new("RGB", (100, 50))) == 100 * 50 * 4  # three bands stored in four
    assert cost(Image.new("L", (100, 50))) == 100 * 50
    assert cost(Image.new("I;16", (100, 50))) == 100 * 50 * 2
    with pytest.raises(ImageError, match="too large"):
        load_image(encode(Image.new("RGBA", (100, 50))), budget=100 * 50 * 4 - 1)


def test_big_pictures_are_reduced_before_turning_upright_and_flattening():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored lying down: red left, blue right; upright red is on top
    lying = halves((2400, 1200), (220, 30, 30), (30, 40, 210)).convert("RGBA")
    lying.paste((0, 0, 0, 0), (0, 0, 2400, 100))  # a transparent strip: white once upright
    image = load_image(encode(lying, exif=exif.tobytes()), max_side=300)
    assert image.size == (150, 300)  # 8 times smaller, then turned
    assert rgb_at(image, (145, 150)) == (255, 255, 255)
    assert rgb_at(image, (60, 40)) == (220, 30, 30)
    assert rgb_at(image, (60, 260)) == (30, 40, 210)
