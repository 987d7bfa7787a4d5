"""A person's own images in and out of the engine: files to upright RGB, tensor <-> image,
colour preservation helpers.

The engine reads what its caller chose (the CLI a file named on its command line, the
library an image it was handed), bounded only by Pillow's own decompression-bomb limit.
Pictures from strangers are checked before they get here, by the ``pictures`` package: its
formats, pixel and memory limits are the chat's, not the engine's.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, cast

import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

from .errors import ImageError

#: What ``load_image`` reads, recognised by content whatever a file is called.
FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")  # JPEG covers MPO (phone photos)
#: The shortest side the engine paints: VGG19's deepest style layer sees a 16th of it.
MIN_SIDE = 32

ImageSource = str | Path | BinaryIO | Image.Image


def load_image(source: ImageSource) -> Image.Image:
    """The image at ``source`` (a path, an open file or an image), upright and in RGB, or
    ``ImageError`` saying, in a sentence that names the file, why not."""
    name = str(source) if isinstance(source, str | Path) else "the image"
    if isinstance(source, Image.Image):
        image = _to_rgb(ImageOps.exif_transpose(source))
    else:
        image = _to_rgb(_read(source, name))
    width, height = image.size
    if min(width, height) < MIN_SIDE:
        raise ImageError(
            f"{name} is too small ({width}×{height}): the engine needs at least {MIN_SIDE} "
            "pixels on each side"
        )
    return image


def _read(source: str | Path | BinaryIO, name: str) -> Image.Image:
    """Decode one of FORMATS, upright; Pillow refuses a decompression bomb (over about
    179 MP), nothing else is counted."""
    try:
        with Image.open(source, formats=FORMATS) as image:
            return ImageOps.exif_transpose(image)  # a decoded copy: the file may close
    except FileNotFoundError:
        raise ImageError(f"there is no image file at {name}") from None
    except Image.DecompressionBombError as error:
        raise ImageError(f"{name} is too large to read: {error}") from None
    except (OSError, ValueError, SyntaxError):
        raise ImageError(
            f"cannot read {name}: not a JPEG, PNG, WebP, BMP, TIFF or GIF image"
        ) from None


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any mode as 8-bit RGB, as a viewer shows it: transparent parts over white, deep greys
    (16-bit, 32-bit, float) spread over their own range. A person's own picture: unlike the
    checks for strangers' pictures, this spends memory freely."""
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        low, high = cast(tuple[float, float], image.getextrema())  # one band: one pair
        spread = 255.0 / ((high - low) or 1)
        image = image.convert("F").point(lambda value: (value - low) * spread).convert("L")
    if image.has_transparency_data:
        white = Image.new("RGBA", image.size, "white")
        return Image.alpha_composite(white, image.convert("RGBA")).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


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
