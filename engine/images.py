"""Decode and validate untrusted images; tensor <-> image; colour preservation helpers."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import BinaryIO, cast

import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError, ImageProblem

#: Formats worth decoding from strangers; everything else is refused before parsing.
FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")  # JPEG covers MPO (phone photos)
MIN_SIDE = 32
MAX_PIXELS = 50_000_000  # a 50 MP photo is fine; more is a decompression bomb or a panorama
#: The long side at most this many times the short one: a longer strip, painted at the
#: engine's 384-512 px, would come out a few pixels thin (and Telegram refuses such photos).
MAX_ASPECT = 10
MAX_BYTES = 50 * 1024 * 1024

ImageSource = str | Path | bytes | BinaryIO | Image.Image


def load_image(source: ImageSource, *, max_side: int | None = None) -> Image.Image:
    """Open any supported image as upright RGB, or raise ``ImageError`` saying why not.

    ``max_side`` lets a JPEG decode at a reduced scale, which makes a 20 MP photo cheap.
    """
    if isinstance(source, Image.Image):
        return _validated(to_rgb(ImageOps.exif_transpose(source)))
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
            image = Image.open(source, formats=FORMATS)
            _check_size(image.size)
            if max_side and image.format == "JPEG":
                image.draft("RGB", (max_side, max_side))
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
    return _validated(to_rgb(ImageOps.exif_transpose(image)))


def _check_size(size: tuple[int, int]) -> None:
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


def _validated(image: Image.Image) -> Image.Image:
    _check_size(image.size)
    return image


def to_rgb(image: Image.Image) -> Image.Image:
    """Flatten any mode to 8-bit RGB: alpha over white, 16-bit and float scaled, CMYK converted."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # One band, so one (low, high) pair: the per-band tuple form is for multi-band modes.
        low, high = cast(tuple[float, float], image.getextrema())
        span = (high - low) or 1
        image = image.convert("F").point(lambda value: (value - low) * 255.0 / span).convert("L")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB") if image.mode != "RGB" else image


def fit(image: Image.Image, long_side: int) -> Image.Image:
    """Resize so the longer side is ``long_side``, keeping the aspect ratio."""
    width, height = image.size
    scale = long_side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)


def fit_area(image: Image.Image, pixels: float) -> Image.Image:
    """Resize to about ``pixels`` pixels in all, keeping the aspect ratio."""
    width, height = image.size
    scale = (pixels / (width * height)) ** 0.5
    size = (max(MIN_SIDE, round(width * scale)), max(MIN_SIDE, round(height * scale)))
    return image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)


def to_tensor(image: Image.Image, device: torch.device | str = "cpu") -> torch.Tensor:
    """RGB image -> float tensor (1, 3, H, W) in [0, 1]."""
    data = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
    tensor = data.view(image.height, image.width, 3).permute(2, 0, 1).unsqueeze(0)
    return tensor.to(device=device, dtype=torch.float32).div_(255).contiguous()


def to_image(tensor: torch.Tensor) -> Image.Image:
    """Float tensor (1, 3, H, W) in about [0, 1] -> RGB image, clamped."""
    data = tensor.detach()[0].clamp(0, 1).mul(255).round().to(torch.uint8)
    array = data.permute(1, 2, 0).contiguous().cpu()
    return Image.frombuffer("RGB", (array.shape[1], array.shape[0]), array.numpy().tobytes())


def resize_tensor(tensor: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bicubic resize to (width, height), for carrying an iterate to the next scale."""
    width, height = size
    return F.interpolate(tensor, size=(height, width), mode="bicubic", align_corners=False)


def match_colors(style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Give ``style`` the mean and covariance of ``content``'s colours (Gatys et al. 2016)."""

    def stats(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pixels = image[0].flatten(1)
        mean = pixels.mean(1, keepdim=True)
        centred = pixels - mean
        cov = centred @ centred.T / pixels.shape[1] + 1e-5 * torch.eye(3, device=image.device)
        return mean, cov

    def sqrtm(matrix: torch.Tensor, power: float) -> torch.Tensor:
        values: torch.Tensor
        vectors: torch.Tensor
        values, vectors = torch.linalg.eigh(matrix)
        return vectors @ torch.diag(values.clamp_min(1e-8) ** power) @ vectors.T

    style_mean, style_cov = stats(style)
    content_mean, content_cov = stats(content)
    transform = sqrtm(content_cov, 0.5) @ sqrtm(style_cov, -0.5)
    pixels = transform @ (style[0].flatten(1) - style_mean) + content_mean
    return pixels.view_as(style[0]).unsqueeze(0).clamp(0, 1)


def keep_luminance_only(stylised: Image.Image, content: Image.Image) -> Image.Image:
    """The stylised luminance with the content's colours (Gatys et al. 2016, luminance transfer)."""
    luminance, _, _ = stylised.convert("YCbCr").split()
    _, blue, red = content.resize(stylised.size, Image.Resampling.LANCZOS).convert("YCbCr").split()
    return Image.merge("YCbCr", (luminance, blue, red)).convert("RGB")
