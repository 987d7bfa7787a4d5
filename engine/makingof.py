"""The making-of: a short animation of the painting appearing, from frames of the run.

Frames are taken at evenly spaced steps (about ``FRAMES`` of them, whatever the number of
steps), from the preview the optimiser already hands to ``on_progress``: a copy of the
iterate it makes anyway. They are decoded only after the run, so painting pays nothing, and
encoding takes a few tens of milliseconds. Coarse stages are smaller pictures; every frame
is scaled to one size so the film does not jump. The result is a GIF Telegram plays as an
animation: at most ``MAX_SECONDS`` long and ``MAX_BYTES`` big.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image

from .options import Progress

FRAMES = 30
SIDE = 320  # the film's longest side
MAX_SECONDS = 5.0
HOLD_LAST_SECONDS = 1.0  # the finished picture stays on screen a moment
MAX_BYTES = 3 * 1024 * 1024


@dataclass
class FrameRecorder:
    """Keeps a frame at every ``total / FRAMES``-th step; call it from ``on_progress``."""

    snapshots: list[Callable[[], Image.Image]] = field(default_factory=list)
    _next_step: float = 0.0

    def __call__(self, progress: Progress) -> None:
        if progress.step >= self._next_step:
            self._next_step = progress.step + progress.total / FRAMES
            self.snapshots.append(progress.preview)

    def film(self, final: Image.Image) -> bytes | None:
        """The GIF, ending on ``final``; None when the run gave no frame to show."""
        if not self.snapshots:
            return None
        last = final.copy()
        # (LANCZOS left out or None: Pillow's bicubic, a film no one tells apart: equivalent)
        last.thumbnail((SIDE, SIDE), Image.Resampling.LANCZOS)
        frames = [shot().resize(last.size, Image.Resampling.LANCZOS) for shot in self.snapshots]
        for keep in (len(frames), len(frames) // 2, len(frames) // 4, 1):
            data = _gif([*frames[:: max(1, len(frames) // max(keep, 1))], last])
            if len(data) <= MAX_BYTES:
                return data
        return None


def _gif(frames: list[Image.Image]) -> bytes:
    # A GIF keeps whole centiseconds (Pillow truncates): "1001 *" for "1000 *" never shows, and
    # "1000 / HOLD_LAST_SECONDS" is the same number while it is 1 s (equivalent mutants).
    step_ms = round(1000 * (MAX_SECONDS - HOLD_LAST_SECONDS) / max(len(frames) - 1, 1))
    durations = [step_ms] * (len(frames) - 1) + [round(1000 * HOLD_LAST_SECONDS)]
    # Fast octree quantising: ~1 ms a frame where Pillow's default takes ~100 ms. 255 colours,
    # not 256: the free slot lets a frame store what did not change as transparent (5x smaller).
    palette = [frame.quantize(255, method=Image.Quantize.FASTOCTREE) for frame in frames]
    out = io.BytesIO()
    # Pillow reads the format's name in any case, and (since 11.2; 13 here) append_images
    # implies save_all: mutants of either are equivalent with the Pillow installed.
    palette[0].save(
        out, "GIF", save_all=True, append_images=palette[1:], duration=durations, loop=0
    )
    return out.getvalue()
