"""Neural style transfer (Gatys et al.) with a frozen VGG19: the engine's public API."""

from .errors import EngineError, ImageError, RunCancelled, WeightsError
from .images import load_image
from .optimize import resolve_device, stylize, warm_up
from .options import Progress, Result, Strength, StyleOptions

__all__ = [
    "EngineError",
    "ImageError",
    "Progress",
    "Result",
    "RunCancelled",
    "Strength",
    "StyleOptions",
    "WeightsError",
    "load_image",
    "resolve_device",
    "stylize",
    "warm_up",
]
