"""Pictures from strangers, checked with Pillow alone.

The chat side validates each picture it is sent and the painter decodes the same bytes
again before painting; the chat side must not load torch (DESIGN.md, the house), so the
checks live here rather than in the engine, and this package imports nothing of ours.
"""

from .decode import (
    DECODE_BUDGET_BYTES,
    FORMATS,
    MAX_ASPECT,
    MAX_BYTES,
    MAX_PIXELS,
    MIN_SIDE,
    decode_cost,
    is_heif,
    load_image,
    to_rgb,
)
from .problems import ImageError, ImageProblem

__all__ = [
    "DECODE_BUDGET_BYTES",
    "FORMATS",
    "MAX_ASPECT",
    "MAX_BYTES",
    "MAX_PIXELS",
    "MIN_SIDE",
    "ImageError",
    "ImageProblem",
    "decode_cost",
    "is_heif",
    "load_image",
    "to_rgb",
]
