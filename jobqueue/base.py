"""The one interface the bot and the workers speak, whichever backend holds the jobs."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from .model import JobEvent, JobRecord, JobSpec, Painted, ProgressInfo, QueueStats
from .orders import JobOrder

Report = Callable[[ProgressInfo], None]


class Painter(Protocol):
    """Paints one job in a worker thread.

    Calls ``report`` now and then, stops with ``PaintCancelled`` soon after ``cancel`` is
    set, raises ``PaintRefused`` for a picture the user must replace; anything else it
    raises is the operator's problem and reaches the user as a generic apology.
    """

    def warm_up(self) -> str:
        """Load the model; returns the device it runs on. Raises if it cannot."""
        ...

    def __call__(
        self,
        content: bytes,
        style: bytes,
        order: JobOrder,
        report: Report,
        cancel: threading.Event,
    ) -> Painted: ...


class JobQueue(Protocol):
    """Jobs from submit to delivery. Both backends keep them across restarts.

    A job's life: queued -> running -> done | failed | cancelled, then *acknowledged* once the
    submitter has told its user how it ended (and delivered the picture). Until then
    ``unfinished`` lists it, so a submitter that restarts picks it up again.
    """

    async def start(self) -> None:
        """Open the store, recover what a crash left behind, start local workers if any."""

    async def close(self) -> None:
        """Stop local workers (a running job goes back to the queue), close the store."""

    async def submit(self, spec: JobSpec) -> JobRecord:
        """Queue a job, also while no painter is online (it waits for one; its record and
        ``Queued`` events say so); raises ``AlreadyQueued``, ``QueueFull`` or
        ``QueueUnavailable``."""
        ...

    async def get(self, job_id: str) -> JobRecord | None: ...

    async def job_of(self, owner: str) -> JobRecord | None:
        """The owner's queued or running job, if any."""
        ...

    async def cancel(self, job_id: str) -> bool:
        """End a queued job now, or ask a running one to stop (within one step)."""
        ...

    def events(self, job_id: str) -> AsyncIterator[JobEvent]:
        """The job's current state as an event, then each change, ending with a terminal one."""
        ...

    async def annotate(self, job_id: str, **meta: object) -> None:
        """Add to the job's ``meta`` (e.g. the id of the message that shows its progress)."""

    async def result(self, job_id: str) -> bytes:
        """The finished picture (PNG), kept until the job is acknowledged."""
        ...

    async def making_of(self, job_id: str) -> bytes | None:
        """The film of the job's run (a GIF), kept a day after the job ended; None if gone."""
        ...

    async def acknowledge(self, job_id: str) -> None:
        """The user knows how the job ended: forget its pictures."""

    async def unfinished(self) -> list[JobRecord]:
        """Jobs not yet acknowledged, oldest first: what a restarted submitter must follow."""
        ...

    async def claim(self, job_id: str, holder: str, seconds: float) -> bool:
        """Take, or renew, the right to follow and deliver this job for ``seconds``: with
        several bot replicas on one queue, only the holder reports a job to its user.
        False while another holder has it."""
        ...

    async def release(self, job_id: str, holder: str) -> None:
        """Give the job up early (the holder is stopping, or is done with it)."""

    async def stats(self, since: float) -> QueueStats:
        """Depth and workers now; outcomes and painting times of jobs ended after ``since``
        (a ``time.time()`` value)."""
        ...

    @property
    def unavailable(self) -> str | None:
        """Why painting is unavailable right now (for logs and health checks); None: ready.

        Jobs are still taken while no painter is online: they wait for one, and are given up
        after ``NO_PAINTER_GIVE_UP_SECONDS`` without any."""
        ...
