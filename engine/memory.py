"""How big a picture fits on a GPU: a model of peak memory per pixel, and the largest size
up to the one asked that fits in the memory that is free.

The model counts what a run keeps at its peak, per pixel of the final scale (the largest):
VGG19's activations up to conv5_1 — 613 values per input pixel, counted with forward hooks —
kept for the backward pass and met by gradients of the same size there, and L-BFGS's history
(50 pairs of image-sized vectors). It is a model, not yet a measurement: ``make bench`` on a
GPU measures peak memory per output pixel, and these numbers should follow it (see
benchmarks/RESULTS.md; no GPU was lent to this project so far).
"""

from __future__ import annotations

from .options import Precision

ACTIVATIONS_PER_PIXEL = 613
LBFGS_HISTORY = 50
_ACTIVATION_BYTES = {"fp32": 4, "bf16": 2}
#: Weights (80 MB in fp32), the CUDA context, cuDNN's workspace and the allocator's slack.
FIXED_BYTES = 1024**3
#: Only this share of the free memory is planned for: other processes and fragmentation.
HEADROOM = 0.85
STEP = 16  # sizes are tried in steps of this many pixels of the long side


def bytes_per_pixel(precision: Precision = "fp32") -> int:
    activations = 2 * ACTIVATIONS_PER_PIXEL * _ACTIVATION_BYTES[precision]  # kept + gradients
    history = 2 * LBFGS_HISTORY * 3 * 4  # image-sized float32 vectors, 3 channels
    return activations + history


def peak_bytes(size: tuple[int, int], precision: Precision = "fp32") -> int:
    """The model's peak for a run whose final scale is ``size`` (width, height)."""
    return FIXED_BYTES + size[0] * size[1] * bytes_per_pixel(precision)


def largest_side(
    content_size: tuple[int, int], asked: int, free_bytes: int, precision: Precision = "fp32"
) -> int:
    """The longest side, at most ``asked``, whose run fits in ``free_bytes``; never larger
    than asked, and never below 32 px (a budget too small for that is the OOM path's)."""
    width, height = content_size
    budget = free_bytes * HEADROOM
    side = min(asked, max(width, height))
    while side > 32:
        scale = side / max(width, height)
        if peak_bytes((round(width * scale), round(height * scale)), precision) <= budget:
            return side
        side = max(32, side - STEP)
    return side
