"""The engine as a job queue's painter: picture bytes in, a PNG out, progress on the way.

Used by the embedded queue inside the bot's process and by ``stylebot-worker``; both run it
in a worker thread. Engine errors become the queue's vocabulary here, so the queue needs no
PyTorch and the bot never sees an engine exception.
"""

from __future__ import annotations

import dataclasses
import io
import threading
import time

from PIL import Image

from jobqueue import JSON, PaintCancelled, Painted, PictureRefused, ProgressInfo, Report

from .errors import Cancelled, ImageError
from .images import UNTRUSTED_FORMATS, load_image
from .makingof import FrameRecorder
from .optimize import stylize, warm_up
from .options import DEFAULT_MAX_SIDE, Progress, Strength, StyleOptions, size_sides

PREVIEW_SIDE = 320  # previews are small: they only show the picture taking shape


class EnginePainter:
    """Paints jobs with one warm model; ``base`` holds the operator's settings."""

    def __init__(self, base: StyleOptions, *, preview_interval: float = 15.0) -> None:
        self.base = base
        self.preview_interval = preview_interval

    def warm_up(self) -> str:
        return warm_up(self.base.device, self.base.weights, self.base.pooling)

    def options(self, job_options: JSON) -> StyleOptions:
        """The base options with what the job chose: its strength, and optionally its size
        (``size``: small, medium or large, turned into pixels here, by this painter's device;
        or an explicit ``max_side``, at most Large) and ``preserve_colors``."""
        from .optimize import resolve_device

        strength = Strength(job_options.get("strength", Strength.MEDIUM.value))
        chosen = dataclasses.replace(self.base, strength=strength, style_weight=None)
        if "preserve_colors" in job_options:
            chosen = dataclasses.replace(
                chosen, preserve_colors=bool(job_options["preserve_colors"])
            )
        kind = resolve_device(self.base.device).type
        sides = size_sides(self.base.max_side or DEFAULT_MAX_SIDE.get(kind, 384), kind)
        asked = job_options.get("max_side")
        if job_options.get("size") in sides:
            asked = sides[job_options["size"]]
        if isinstance(asked, int) and not isinstance(asked, bool):
            chosen = dataclasses.replace(chosen, max_side=max(32, min(asked, sides["large"])))
        return chosen

    def __call__(
        self, content: bytes, style: bytes, options: JSON, report: Report, cancel: threading.Event
    ) -> Painted:
        chosen = self.options(options)
        decode_side = 4 * (chosen.max_side or 1024)  # big pictures are decoded or reduced to this
        previews = _PreviewClock(self.preview_interval)
        frames = FrameRecorder()

        def on_progress(progress: Progress) -> None:
            frames(progress)
            report(_info(progress, previews))

        try:
            content_image = load_image(content, max_side=decode_side, formats=UNTRUSTED_FORMATS)
            style_image = load_image(style, max_side=decode_side, formats=UNTRUSTED_FORMATS)
            result = stylize(content_image, style_image, chosen, on_progress, cancel)
        except ImageError as error:
            raise PictureRefused(str(error), error.code, error.params) from None
        except Cancelled:
            raise PaintCancelled() from None
        png = io.BytesIO()
        result.image.save(png, "PNG")
        width, height = result.image.size
        film = frames.film(result.image)
        return Painted(png.getvalue(), width, height, result.elapsed, result.note or "", film)


@dataclasses.dataclass
class _PreviewClock:
    """A preview is encoded only when one is due: JPEG encoding is not free."""

    interval: float
    last: float = dataclasses.field(default_factory=time.monotonic)

    def due(self) -> bool:
        now = time.monotonic()
        if self.interval <= 0 or now - self.last < self.interval:
            return False
        self.last = now
        return True


def _info(progress: Progress, previews: _PreviewClock) -> ProgressInfo:
    preview = _jpeg(progress.preview()) if previews.due() else None
    return ProgressInfo(
        step=progress.step,
        total=progress.total,
        scale=progress.scale,
        scales=progress.scales,
        elapsed=progress.elapsed,
        eta=progress.eta,
        preview=preview,
    )


def _jpeg(image: Image.Image) -> bytes:
    image = image.copy()
    image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()
