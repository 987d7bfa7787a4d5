"""An asyncio job queue and its worker: the one door between the bot and the engine.

The bot submits a ``JobRequest`` and follows the job's events; the worker runs
``stylize`` in a thread, so the event loop stays free while a picture is painted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import shutil
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Cancelled, EngineError, ImageError
from .images import load_image
from .optimize import stylize, warm_up
from .options import Progress, Result, Strength, StyleOptions

logger = logging.getLogger(__name__)

FAILURE_MESSAGE = "Something went wrong while painting. Please try again."


class QueueFull(Exception):
    """Too many jobs are waiting; the caller should ask the user to come back later."""


class AlreadyQueued(Exception):
    """The owner already has a job waiting or running (one at a time per user)."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"owner {job.request.owner} already has job {job.id}")
        self.job = job


@dataclass(frozen=True)
class JobRequest:
    """What a job needs; ``workdir`` (if any) is deleted when the job ends, whatever happens."""

    owner: int
    chat_id: int
    content: Path
    style: Path
    strength: Strength = Strength.MEDIUM
    workdir: Path | None = None


@dataclass(frozen=True)
class Queued:
    ahead: int  # jobs that will run before this one, the running one included


@dataclass(frozen=True)
class Started:
    pass


@dataclass(frozen=True)
class Progressed:
    progress: Progress


@dataclass(frozen=True)
class Finished:
    result: Result


@dataclass(frozen=True)
class Failed:
    message: str  # readable by the user


@dataclass(frozen=True)
class WasCancelled:
    pass


JobEvent = Queued | Started | Progressed | Finished | Failed | WasCancelled
TERMINAL = (Finished, Failed, WasCancelled)


@dataclass(eq=False)
class Job:
    id: int
    request: JobRequest
    options: StyleOptions
    state: str = "queued"  # queued -> running -> done | failed | cancelled
    ahead: int = 0
    last_progress: Progress | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    _events: asyncio.Queue[JobEvent] = field(default_factory=asyncio.Queue, repr=False)
    _ended: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "cancelled")

    def _emit(self, event: JobEvent) -> None:
        if isinstance(event, Progressed):
            self.last_progress = event.progress
        self._events.put_nowait(event)

    async def events(self) -> AsyncIterator[JobEvent]:
        """Every event of this job in order, ending with Finished, Failed or WasCancelled."""
        while True:
            event = await self._events.get()
            yield event
            if isinstance(event, TERMINAL):
                return


Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Future[Any]"]


class StyleQueue:
    """In-process FIFO of style jobs with one worker per device."""

    def __init__(self, base_options: StyleOptions | None = None, *, max_waiting: int = 20) -> None:
        self.base_options = base_options or StyleOptions()
        self.max_waiting = max_waiting
        self._waiting: list[Job] = []
        self._running: Job | None = None
        self._wakeup: asyncio.Queue[None] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._tasks: list[asyncio.Future[Any]] = []
        self.device: str | None = None  # known once the model is warm

    async def start(self, spawn: Spawn = asyncio.ensure_future) -> None:
        """Start the worker and warm the model in the background (``spawn`` runs coroutines)."""
        self._tasks = [spawn(self._warm_up()), spawn(self._work())]

    async def stop(self, grace: float = 30.0) -> None:
        """Cancel every job, let the running one end (within a step), stop the worker.

        Cancelling the worker while it awaits the painting thread would leave the running job
        without a terminal event (its followers wait forever) and its workdir on disk, while
        the thread goes on reporting progress to a loop that is about to close.
        """
        running = self._running
        for job in [*self._waiting, *([running] if running else [])]:
            self.cancel(job)
        if running is not None:
            try:
                await asyncio.wait_for(running._ended.wait(), grace)
            except TimeoutError:
                logger.warning("Job %d did not stop within %.0f s", running.id, grace)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def submit(self, request: JobRequest) -> Job:
        """Queue a job; raises ``AlreadyQueued`` or ``QueueFull`` (the request's workdir stays)."""
        existing = self.job_of(request.owner)
        if existing is not None:
            raise AlreadyQueued(existing)
        if len(self._waiting) >= self.max_waiting:
            raise QueueFull()
        options = dataclasses.replace(
            self.base_options, strength=request.strength, style_weight=None
        )
        job = Job(next(self._ids), request, options)
        self._waiting.append(job)
        job.ahead = len(self._waiting) - 1 + (self._running is not None)
        job._emit(Queued(job.ahead))
        self._wakeup.put_nowait(None)
        return job

    def job_of(self, owner: int) -> Job | None:
        """The owner's waiting or running job, if any."""
        for job in [*([self._running] if self._running else []), *self._waiting]:
            if job.request.owner == owner:
                return job
        return None

    def cancel(self, job: Job) -> bool:
        """Cancel a waiting job now, or ask a running one to stop (it does within a step)."""
        if job in self._waiting:
            self._waiting.remove(job)
            self._end(job, "cancelled", WasCancelled())
            self._announce_positions()
            return True
        if job is self._running:
            job.cancel_event.set()
            return True
        return False

    async def _warm_up(self) -> None:
        try:
            self.device = await asyncio.to_thread(
                warm_up,
                self.base_options.device,
                self.base_options.weights,
                self.base_options.pooling,
            )
            logger.info("Engine ready on %s", self.device)
        except (EngineError, ValueError):
            logger.exception("Engine warm-up failed; jobs will report the error")

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.get()
            if not self._waiting:
                continue
            job = self._waiting.pop(0)
            self._running = job
            job.state = "running"
            job._emit(Started())
            self._announce_positions()
            try:
                result = await asyncio.to_thread(self._paint, job, loop)
            except Cancelled:
                self._end(job, "cancelled", WasCancelled())
            except ImageError as error:  # the user's picture: they can fix it, so say why
                logger.info("Job %d refused an image: %s", job.id, error)
                self._end(job, "failed", Failed(str(error)))
            except Exception:  # weights, device, memory, bugs: the operator's to fix, not theirs
                logger.exception("Job %d failed", job.id)
                self._end(job, "failed", Failed(FAILURE_MESSAGE))
            else:
                self._end(job, "done", Finished(result))
            finally:
                self._running = None

    def _paint(self, job: Job, loop: asyncio.AbstractEventLoop) -> Result:
        """Runs in a worker thread: progress crosses back to the loop thread-safely."""

        def report(progress: Progress) -> None:
            loop.call_soon_threadsafe(job._emit, Progressed(progress))

        content = load_image(job.request.content, max_side=4 * (job.options.max_side or 1024))
        style = load_image(job.request.style, max_side=4 * (job.options.max_side or 1024))
        return stylize(content, style, job.options, on_progress=report, cancel=job.cancel_event)

    def _end(self, job: Job, state: str, event: JobEvent) -> None:
        job.state = state
        if job.request.workdir is not None:
            shutil.rmtree(job.request.workdir, ignore_errors=True)
        job._emit(event)
        job._ended.set()

    def _announce_positions(self) -> None:
        for index, job in enumerate(self._waiting):
            ahead = index + (self._running is not None)
            if ahead != job.ahead:
                job.ahead = ahead
                job._emit(Queued(ahead))
