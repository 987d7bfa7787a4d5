"""Decode a stranger's picture within bounds: three formats judged by content, a memory
budget judged from the header, reduced before anything else touches it, then upright RGB."""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path
from typing import BinaryIO, cast

from PIL import Image, ImageFile, ImageMode, ImageOps, UnidentifiedImageError
from PIL.JpegImagePlugin import JpegImageFile

from .problems import ImageError, ImageProblem

#: What pictures may be: the three formats a chat sends, recognised by content whatever a
#: file is called; TIFF, BMP and GIF have decoders that are larger attack surfaces and nobody
#: needs them to send a photo.
FORMATS = ("JPEG", "PNG", "WEBP")  # JPEG covers MPO (phone photos)
#: The shortest side taken; the engine cannot paint a smaller one either.
MIN_SIDE = 32
MAX_PIXELS = 50_000_000  # a 50 MP photo is fine; more is a decompression bomb or a panorama
#: The long side at most this many times the short one: a longer strip, painted at the
#: engine's 384-512 px, would come out a few pixels thin (and Telegram refuses such photos).
MAX_ASPECT = 10
MAX_BYTES = 50 * 1024 * 1024
#: The most memory one decode may take, estimated from the header before decoding
#: (``decode_cost``). It is MAX_PIXELS at Pillow's widest storage (4 bytes a pixel; RGB is
#: stored in 4 too), so no picture that the pixel limit lets through is refused for its
#: pixels alone: a 50 MP JPEG (reduced by ``draft`` when ``max_side`` is given) or a 7000×7000
#: RGBA PNG still decodes. What it refuses is a decoder's hidden working memory on top: WebP
#: goes through three more frame-sized buffers (16 bytes a pixel: a 117 KB 7000×7000 WebP took
#: 750 MB), a progressive JPEG keeps every DCT coefficient of the full image whatever the
#: draft scale (a 49 MP 4:4:4 one took 290 MB to decode at 1750 px).
DECODE_BUDGET_BYTES = 4 * MAX_PIXELS
#: libwebp's animation decoder holds two RGBA canvases, Pillow copies the frame into bytes
#: and then into the image: measured at 16 bytes a pixel, for RGB and RGBA alike.
WEBP_BYTES_PER_PIXEL = 16
#: Rows of the full image converted at a time while reducing it (``_reduced``).
BAND_ROWS = 256
#: ``ftyp`` brands of HEIC/HEIF, the iPhone's format: Pillow cannot read it, so it is named.
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}

PictureSource = str | Path | bytes | BinaryIO


def load_image(
    source: PictureSource, *, max_side: int | None = None, budget: int = DECODE_BUDGET_BYTES
) -> Image.Image:
    """Open a picture of one of FORMATS (judged by content) as upright RGB, or raise
    ``ImageError`` saying why not.

    With ``max_side``, the picture comes back with its longer side between ``max_side`` and
    twice that (never smaller than it was, nor than MIN_SIDE): a JPEG decodes at a reduced
    scale, anything else is reduced right after decoding, before the conversions, so they
    work on the small image. The decode itself is refused, from the header, when its
    estimated memory exceeds ``budget`` bytes.
    """
    if isinstance(source, bytes):
        if len(source) > MAX_BYTES:
            raise ImageError(
                "This file is too large (over 50 MB).", ImageProblem.FILE_TOO_LARGE, max_mb=50
            )
        source = io.BytesIO(source)
    elif isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise ImageError(
                f"There is no image file at {path}.", ImageProblem.NO_FILE, path=str(path)
            )
        if path.stat().st_size > MAX_BYTES:
            raise ImageError(
                "This file is too large (over 50 MB).", ImageProblem.FILE_TOO_LARGE, max_mb=50
            )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source, formats=FORMATS)  # reads the header only
            header_size = image.size
            _check_size(header_size)
            target = _fitted(header_size, max_side) if max_side else header_size
            if max_side and isinstance(image, JpegImageFile):  # MPO too
                image.draft("RGB", target)  # decoded at 1/2, 1/4 or 1/8 scale
            _check_budget(image, header_size, budget)
            image.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow's own limit (about 89 MP) is far above ours: say what to send instead.
        raise ImageError(
            "This image is too large; please send one under 50 megapixels.",
            ImageProblem.BOMB,
            max_megapixels=50,
        ) from error
    except (OSError, ValueError, SyntaxError, UnidentifiedImageError) as error:
        raise ImageError(
            "I could not read this image. Please send a JPEG, PNG or WebP picture.",
            ImageProblem.UNREADABLE,
        ) from error
    factor = min(image.width // target[0], image.height // target[1])
    small = _reduced(image, factor) if factor > 1 else image
    ImageOps.exif_transpose(small, in_place=True)  # our own image: no copy needed
    flat = to_rgb(small)
    _check_size(flat.size)
    return flat


def is_heif(data: bytes) -> bool:
    """Whether ``data`` is a HEIC/HEIF image, by its ISO media ``ftyp`` box and brand: such a
    picture is named to its sender (an iPhone photo under a .jpg name, say), not just refused."""
    return data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS


def decode_cost(image: ImageFile.ImageFile, header_size: tuple[int, int]) -> int:
    """The bytes decoding ``image`` (opened, not loaded; after any ``draft``, so its size may
    be below ``header_size``) will hold at its peak: the decoded pixels, plus what its
    decoder keeps beside them."""
    pixels = image.width * image.height
    if image.format == "WEBP":
        return pixels * WEBP_BYTES_PER_PIXEL
    cost = pixels * _bytes_per_pixel(image.mode)
    if isinstance(image, JpegImageFile) and image.info.get("progressive"):
        # libjpeg keeps each component's coefficients for the whole image, 2 bytes a sample
        # at the component's own sampling, before it scales anything down.
        width, height = header_size
        most_h = max(h for _, h, _, _ in image.layer)
        most_v = max(v for _, _, v, _ in image.layer)
        for _, h, v, _ in image.layer:
            columns = math.ceil(width * h / most_h / 8) * 8
            rows = math.ceil(height * v / most_v / 8) * 8
            cost += 2 * columns * rows
    return cost


def _bytes_per_pixel(mode: str) -> int:
    """Pillow stores one band in its own width (1, 2 or 4 bytes), and two to four 8-bit
    bands in 4 bytes: RGB takes as much as RGBA."""
    description = ImageMode.getmode(mode)
    return 4 if len(description.bands) > 1 else int(description.typestr[2:])


def _check_budget(image: ImageFile.ImageFile, header_size: tuple[int, int], budget: int) -> None:
    """Refuse, before decoding, a picture whose decode would take over ``budget`` bytes; the
    megapixels it names are what this format and mode may have."""
    cost = decode_cost(image, header_size)
    if cost <= budget:
        return
    width, height = header_size
    megapixels = max(1, budget * width * height // cost // 1_000_000)
    raise ImageError(
        f"This image is too large ({width}×{height}); please send one under {megapixels} "
        "megapixels.",
        ImageProblem.TOO_MANY_PIXELS,
        width=width,
        height=height,
        max_megapixels=megapixels,
    )


def _fitted(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """``size`` scaled so its longer side is about ``max_side``, each side at least MIN_SIDE
    (and at most as it was)."""
    width, height = size
    long_side = max(width, height)
    return (
        min(width, max(MIN_SIDE, width * max_side // long_side)),
        min(height, max(MIN_SIDE, height * max_side // long_side)),
    )


def _reduced(image: Image.Image, factor: int) -> Image.Image:
    """``image`` made ``factor`` times smaller by averaging, a band of rows at a time.

    Pillow's own reduce of a whole RGBA image first makes a premultiplied copy of all of it,
    and a palette or 16-bit image must be converted before it can be averaged: done per band,
    those copies stay small, and the full-size decode is the only large image alive.
    """
    mode = _averageable_mode(image)
    width, height = image.size
    reduced = Image.new(mode, (-(-width // factor), -(-height // factor)))
    rows = factor * max(1, BAND_ROWS // factor)
    for top in range(0, height, rows):
        band = image.crop((0, top, width, min(height, top + rows)))
        if band.mode != mode:
            band = band.convert(mode)
        reduced.paste(band.reduce(factor), (0, top // factor))
    reduced.info = dict(image.info)  # the EXIF orientation, for exif_transpose
    return reduced


def _averageable_mode(image: Image.Image) -> str:
    """The mode ``image`` is averaged in: its own where Pillow's reduce can."""
    if image.mode == "P":
        return "RGBA" if "transparency" in image.info else "RGB"
    converted = {"PA": "RGBA", "1": "L", "I;16": "I", "I;16B": "I", "I;16L": "I"}
    return converted.get(image.mode, image.mode)


def _check_size(size: tuple[int, int]) -> None:
    """Refuse a picture with too many pixels, a side under MIN_SIDE, or a strip too thin."""
    width, height = size
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"This image is too large ({width}×{height}); please send one under 50 megapixels.",
            ImageProblem.TOO_MANY_PIXELS,
            width=width,
            height=height,
            max_megapixels=50,
        )
    if min(width, height) < MIN_SIDE:
        raise ImageError(
            f"This image is too small ({width}×{height}); it needs at least {MIN_SIDE} pixels "
            "on each side.",
            ImageProblem.TOO_SMALL,
            width=width,
            height=height,
            min_side=MIN_SIDE,
        )
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageError(
            f"This image is too long and thin ({width}×{height}); one side can be at most "
            f"{MAX_ASPECT} times the other. Please crop it.",
            ImageProblem.TOO_THIN,
            width=width,
            height=height,
            max_aspect=MAX_ASPECT,
        )


def to_rgb(image: Image.Image) -> Image.Image:
    """Flatten any mode to 8-bit RGB: alpha over white, 16-bit and float scaled, CMYK converted.

    Transparent pictures are pasted onto a white RGB canvas through their alpha, so at most
    the input and one converted copy are alive (compositing in RGBA took three more)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # One band, so one (low, high) pair: the per-band tuple form is for multi-band modes.
        low, high = cast(tuple[float, float], image.getextrema())
        span = (high - low) or 1
        image = image.convert("F").point(lambda value: (value - low) * 255.0 / span).convert("L")
    if image.mode in ("P", "PA"):
        transparent = image.mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if transparent else "RGB")
    if image.mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, (0, 0), rgba)  # colour × alpha + white × (1 − alpha)
        return flat
    return image.convert("RGB") if image.mode != "RGB" else image
