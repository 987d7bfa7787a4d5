"""Neural style transfer (Gatys et al.) with a frozen VGG19: the engine's public API."""

from .errors import Cancelled, EngineError, ImageError, WeightsError
from .images import load_image
from .optimize import resolve_device, stylize, warm_up
from .options import Progress, Result, Strength, StyleOptions

__all__ = [
    "Cancelled",
    "EngineError",
    "ImageError",
    "Progress",
    "Result",
    "Strength",
    "StyleOptions",
    "WeightsError",
    "load_image",
    "resolve_device",
    "stylize",
    "warm_up",
]
