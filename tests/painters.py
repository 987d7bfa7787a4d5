"""Painters without PyTorch, for tests of the queue: quick, obedient and observable.

``FakePainter`` paints on its own (inverting the photo); ``SteppedPainter`` paints one step
each time the test allows one, so a test holds a job wherever it likes. Both refuse
``REFUSE`` and crash on ``CRASH``. Each says it kept ``faces`` faces, as the engine says of
the faces it found, when the order asks to keep them.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass, field

from PIL import Image, ImageOps

from jobqueue import JSON, JobOrder, PaintCancelled, Painted, PaintRefused, ProgressInfo, Report
from tests.pictures import encode, gradient

REFUSE = b"refuse me"  # content bytes that make the painter refuse the picture (coded)
CRASH = b"crash me"  # content bytes that make it fail like a bug would
#: The code and numbers of REFUSE's refusal, as the engine gives them for a 16×16 picture.
TOO_SMALL: tuple[str, JSON] = ("too_small", {"width": 16, "height": 16, "min_side": 32})


def object_to(content: bytes) -> None:
    """What a painter says to the test pictures REFUSE and CRASH: a refusal, a bug."""
    if content == REFUSE:
        raise PaintRefused("This image is too small (16×16).", *TOO_SMALL)
    if content == CRASH:
        raise RuntimeError("simulated bug")


def kept(found: int, order: JobOrder) -> int:
    """The faces a painter says it kept: those it found, if the order asks to keep them."""
    return found if order.keep_faces else 0


@dataclass
class FakePainter:
    """Inverts the content photo in ``steps`` steps of ``step_seconds``, reporting each one.

    ``gate``, when given, must be set before each step: a test holds the job where it likes.
    """

    steps: int = 5
    step_seconds: float = 0.01
    gate: threading.Event | None = None
    faces: int = 0  # the faces "found" in every photo: kept when the order asks
    painted: list[JobOrder] = field(default_factory=list)  # the order of each finished job
    started: threading.Event = field(default_factory=threading.Event)

    def warm_up(self) -> str:
        return "fake"

    def __call__(
        self, content: bytes, style: bytes, order: JobOrder, report: Report, cancel: threading.Event
    ) -> Painted:
        object_to(content)
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
        self.painted.append(order)
        elapsed = time.perf_counter() - began
        return Painted(out.getvalue(), *result.size, elapsed, faces=kept(self.faces, order))


#: The picture a SteppedPainter paints, 8×8.
PNG = encode(gradient(8, 8))


@dataclass
class SteppedPainter:
    """Paints one step each time the test calls ``allow``; stops when cancelled.

    ``started`` is set as each run begins (a test may clear it to see the next one),
    ``cancelled`` as a run stops on its cancel event.
    """

    steps: int = 3
    preview_at: int = 0  # the step that sends a preview (b"jpeg-N"); 0: none
    film: bytes | None = None  # the making-of it returns
    faces: int = 0  # the faces "found" in every photo: kept when the order asks
    gate: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    started: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    painted: list[JobOrder] = field(default_factory=list)  # the order of each finished job
    runs: int = 0

    def allow(self, steps: int = 1) -> None:
        self.gate.release(steps)

    def warm_up(self) -> str:
        return "stepped"

    def __call__(
        self, content: bytes, style: bytes, order: JobOrder, report: Report, cancel: threading.Event
    ) -> Painted:
        object_to(content)
        self.runs += 1
        self.started.set()
        for step in range(1, self.steps + 1):
            while not self.gate.acquire(timeout=0.01):
                if cancel.is_set():
                    self.cancelled.set()
                    raise PaintCancelled()
            preview = f"jpeg-{step}".encode() if step == self.preview_at else None
            report(ProgressInfo(step, self.steps, 0, 1, 0.01 * step, 0.0, preview))
        self.painted.append(order)
        return Painted(PNG, 8, 8, 0.05, making_of=self.film, faces=kept(self.faces, order))
