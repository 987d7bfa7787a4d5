"""A painter without PyTorch, for tests of the queue: quick, obedient and observable."""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass, field

from PIL import Image, ImageOps

from jobqueue import JSON, PaintCancelled, Painted, PictureRefused, ProgressInfo, Report

REFUSE = b"refuse me"  # content bytes that make the painter refuse the picture (coded)
CRASH = b"crash me"  # content bytes that make it fail like a bug would
#: The code and numbers of REFUSE's refusal, as the engine gives them for a 16×16 picture.
TOO_SMALL: tuple[str, JSON] = ("too_small", {"width": 16, "height": 16, "min_side": 32})


@dataclass
class FakePainter:
    """Inverts the content photo in ``steps`` steps of ``step_seconds``, reporting each one.

    ``gate``, when given, must be set before each step: a test holds the job where it likes.
    """

    steps: int = 5
    step_seconds: float = 0.01
    gate: threading.Event | None = None
    painted: list[JSON] = field(default_factory=list)  # the options of each finished job
    started: threading.Event = field(default_factory=threading.Event)

    def warm_up(self) -> str:
        return "fake"

    def __call__(
        self, content: bytes, style: bytes, options: JSON, report: Report, cancel: threading.Event
    ) -> Painted:
        if content == REFUSE:
            raise PictureRefused("This image is too small (16×16).", *TOO_SMALL)
        if content == CRASH:
            raise RuntimeError("simulated bug")
        self.started.set()
        began = time.perf_counter()
        for step in range(1, self.steps + 1):
            if self.gate is not None:
                while not self.gate.wait(0.01):
                    if cancel.is_set():
                        raise PaintCancelled()
            if cancel.wait(self.step_seconds):
                raise PaintCancelled()
            elapsed = time.perf_counter() - began
            report(
                ProgressInfo(step, self.steps, 0, 1, elapsed, elapsed / step * (self.steps - step))
            )
        with Image.open(io.BytesIO(content)) as image:
            result = ImageOps.invert(image.convert("RGB"))
        out = io.BytesIO()
        result.save(out, "PNG")
        self.painted.append(options)
        return Painted(out.getvalue(), *result.size, time.perf_counter() - began)
