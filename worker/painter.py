"""The engine as a job queue's painter: picture bytes in, a PNG out, progress on the way.

The painting side of the house: it imports the engine, the queue and the picture checks, and
nothing imports it but ``stylebot-worker`` and, with the embedded queue only, the bot's
start-up. Both run it in a worker thread. The job's pictures are decoded with the same checks
the bot made (``pictures``) and handed to the engine as images; a job's typed order becomes
engine options here, and refusals and notes become the queue's vocabulary, so the queue
needs no PyTorch and the bot never sees an engine exception.
"""

from __future__ import annotations

import dataclasses
import io
import threading
import time

from PIL import Image

import pictures
from config import Settings
from engine import (
    Progress,
    Result,
    RunCancelled,
    Strength,
    StyleOptions,
    stylize,
    warm_up,
)
from engine.makingof import FrameRecorder
from engine.optimize import resolve_device
from jobqueue import (
    JobOrder,
    Note,
    NoteCode,
    PaintCancelled,
    Painted,
    PaintRefused,
    ProgressInfo,
    Report,
)
from jobqueue.orders import MEDIUM_SIDE, size_sides

PREVIEW_SIDE = 320  # previews are small: they only show the picture taking shape


class EnginePainter:
    """Paints jobs with one warm model; ``base`` holds the operator's settings."""

    def __init__(self, base: StyleOptions, *, preview_interval: float = 15.0) -> None:
        self.base = base
        self.preview_interval = preview_interval

    def warm_up(self) -> str:
        return warm_up(self.base.device, self.base.weights, self.base.pooling)

    def options(self, order: JobOrder) -> StyleOptions:
        """The base options with what the job asks: its strength, its colours, its faces, and
        its size, turned into pixels here, by this painter's own device."""
        kind = resolve_device(self.base.device).type
        medium = self.base.max_side or MEDIUM_SIDE.get(kind, MEDIUM_SIDE["cpu"])
        return dataclasses.replace(
            self.base,
            strength=Strength(order.strength.value),
            style_weight=None,
            preserve_colors=order.keep_colours,
            keep_faces=order.keep_faces,
            max_side=size_sides(medium, kind)[order.size],
        )

    def __call__(
        self, content: bytes, style: bytes, order: JobOrder, report: Report, cancel: threading.Event
    ) -> Painted:
        chosen = self.options(order)
        decode_side = 4 * (chosen.max_side or 1024)  # big pictures are decoded or reduced to this
        previews = _PreviewClock(self.preview_interval)
        frames = FrameRecorder()

        def on_progress(progress: Progress) -> None:
            frames(progress)
            report(_info(progress, previews))

        try:
            content_image = pictures.load_image(content, max_side=decode_side)
            style_image = pictures.load_image(style, max_side=decode_side)
        except pictures.ImageError as error:  # the bot checked them too; a worker trusts no bytes
            raise PaintRefused(str(error), error.code, error.params) from None
        try:
            result = stylize(content_image, style_image, chosen, on_progress, cancel)
        except RunCancelled:
            raise PaintCancelled() from None
        png = io.BytesIO()
        result.image.save(png, "PNG")
        width, height = result.image.size
        film = frames.film(result.image)
        note = _note(result, chosen)
        return Painted(png.getvalue(), width, height, result.elapsed, note, film, result.faces)


def painter_for(settings: Settings) -> EnginePainter:
    """The painter the operator's settings describe (strength and size come with each job)."""
    base = StyleOptions(
        device=settings.engine_device,
        max_side=settings.engine_max_side,
        steps=settings.engine_steps,
        weights=settings.engine_weights,
    )
    return EnginePainter(base, preview_interval=settings.preview_interval)


def _note(result: Result, chosen: StyleOptions) -> Note | None:
    """The engine's only remark, typed: the GPU had no room for the size asked."""
    made = max(result.image.size)
    if not result.note or chosen.max_side is None or made >= chosen.max_side:
        return None
    return Note(NoteCode.MADE_SMALLER, {"made": made, "asked": chosen.max_side})


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
