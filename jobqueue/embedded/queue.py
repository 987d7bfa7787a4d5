"""``EmbeddedQueue``: the JobQueue of one process, its painter in a worker thread.

The painting runs in a thread; its progress comes back to the event loop with
``call_soon_threadsafe``, where the database work and the events happen.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from ..base import Painter
from ..logs import current_job
from ..model import (
    FAILURE_MESSAGE,
    TERMINAL,
    AlreadyQueued,
    Cancelled,
    Ending,
    Failed,
    JobEvent,
    JobRecord,
    JobSpec,
    JobState,
    Painted,
    Progressed,
    ProgressInfo,
    Queued,
    QueueFull,
    QueueStats,
    QueueUnavailable,
    Requeued,
    Started,
    current_event,
)
from ..policy import MAX_ATTEMPTS, NEARLY_DONE, RESTARTING, settle
from . import upkeep
from .store import DATABASE, Store

logger = logging.getLogger(__name__)


class EmbeddedQueue:
    """The default :class:`~jobqueue.JobQueue`: one process, one painter, SQLite."""

    def __init__(
        self,
        data_dir: Path,
        painter: Painter,
        *,
        max_waiting: int = 20,  # unused by the program (the bot passes QUEUE_MAX): equivalent
        clock: Callable[[], float] = time.time,
        purge_every: float = upkeep.PURGE_EVERY_SECONDS,
    ) -> None:
        self.path = Path(data_dir) / DATABASE
        self.max_waiting = max_waiting
        self._store = Store(self.path, clock)
        self._painter = painter
        self._purge_every = purge_every
        self._followers: dict[str, list[asyncio.Queue[JobEvent]]] = {}
        self._cancels: dict[str, threading.Event] = {}  # running job id -> its painter's stop
        self._cancelled_by_owner: set[str] = set()
        self._ahead: dict[str, int] = {}  # what each waiting job was last told
        self._leases: dict[str, tuple[str, float]] = {}  # job id -> (holder, until)
        self._wakeup = asyncio.Event()
        self._stopping = False  # only ever read for its truth: None would be equivalent
        self._worker: asyncio.Task[None] | None = None
        self._purger: asyncio.Task[None] | None = None
        self._unavailable: str | None = None  # while warming up, jobs wait: not unavailable

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self._store.open()
        self._store.recover()
        await upkeep.purge(self._store)
        self._worker = asyncio.create_task(self._work(), name="embedded painter")
        self._purger = asyncio.create_task(
            upkeep.purge_now_and_then(self._store, self._purge_every), name="embedded purge"
        )

    async def close(self, grace: float = 15.0) -> None:
        """Stop painting; a running job goes back to the queue unless it is nearly done."""
        self._stopping = True
        self._wakeup.set()
        if self._purger is not None:
            self._purger.cancel()
            await asyncio.wait({self._purger})
            self._purger = None
        for job_id, cancel in self._cancels.items():
            progress = self._store.progress.get(job_id)
            if progress is None or progress.fraction < NEARLY_DONE:
                cancel.set()
        if self._worker is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._worker), grace)
            except TimeoutError:
                logger.warning("The painter did not stop within %.0f s", grace)
                for cancel in self._cancels.values():
                    cancel.set()
                await asyncio.wait({self._worker}, timeout=5)
        self._store.close()

    @property
    def unavailable(self) -> str | None:
        return self._unavailable

    async def claim(self, job_id: str, holder: str, seconds: float) -> bool:
        """One process holds this queue, but it may follow a job twice by mistake."""
        now = time.monotonic()
        current = self._leases.get(job_id)
        # ">" vs ">=": a lease that ends at the very instant of the look; no monotonic clock
        # shows that instant twice (equivalent in practice)
        if current is not None and current[0] != holder and current[1] > now:
            return False
        self._leases[job_id] = (holder, now + seconds)
        return True

    async def release(self, job_id: str, holder: str) -> None:
        if self._leases.get(job_id, (None,))[0] == holder:
            del self._leases[job_id]

    async def stats(self, since: float) -> QueueStats:
        alive = self._worker is not None and not self._worker.done() and not self._unavailable
        return self._store.stats(since, workers=1 if alive else 0)

    # ---- the submitter's side ----------------------------------------------------------------

    async def submit(self, spec: JobSpec) -> JobRecord:
        if self._unavailable is not None:  # this process's painter cannot come back by itself
            raise QueueUnavailable(self._unavailable)
        existing = await self.job_of(spec.owner)
        if existing is not None:
            raise AlreadyQueued(existing)
        if self._store.count(JobState.QUEUED) >= self.max_waiting:
            raise QueueFull()
        record = self._store.record(self._store.insert(spec))
        assert record is not None
        self._ahead[record.id] = record.ahead
        self._wakeup.set()
        return record

    async def get(self, job_id: str) -> JobRecord | None:
        return self._store.record(job_id)

    async def job_of(self, owner: str) -> JobRecord | None:
        job_id = self._store.active_job_of(owner)
        return None if job_id is None else self._store.record(job_id)

    async def cancel(self, job_id: str) -> bool:
        record = self._store.record(job_id)
        if record is None or not record.state.active:
            return False
        if record.state is JobState.RUNNING:
            self._cancelled_by_owner.add(job_id)
            self._cancels[job_id].set()  # the painter stops within a step
            return True
        self._conclude(job_id, Cancelled())
        self._announce_positions()
        return True

    async def events(self, job_id: str) -> AsyncIterator[JobEvent]:
        inbox: asyncio.Queue[JobEvent] = asyncio.Queue()
        self._followers.setdefault(job_id, []).append(inbox)
        try:
            record = self._store.record(job_id)
            if record is None:
                return
            event = current_event(record)
            while True:
                yield event
                if isinstance(event, TERMINAL):
                    return
                event = await inbox.get()
        finally:
            self._followers[job_id].remove(inbox)
            if not self._followers[job_id]:
                del self._followers[job_id]

    async def annotate(self, job_id: str, **meta: object) -> None:
        self._store.annotate(job_id, meta)

    async def result(self, job_id: str) -> bytes:
        png = self._store.picture(job_id, "result")
        if png is None:
            raise KeyError(f"job {job_id} has no result to hand over")
        return png

    async def making_of(self, job_id: str) -> bytes | None:
        return self._store.picture(job_id, "making_of")

    async def acknowledge(self, job_id: str) -> None:
        self._store.acknowledge(job_id)

    async def unfinished(self) -> list[JobRecord]:
        return self._store.unacknowledged()

    # ---- the painter's side ------------------------------------------------------------------

    async def _work(self) -> None:
        try:
            device = await asyncio.to_thread(self._painter.warm_up)
        except Exception as error:  # jobs still run, and fail with a plain apology
            logger.exception("The painter could not start")
            self._unavailable = f"the painter could not start: {error}"
        else:
            logger.info("Painter ready on %s", device)
            self._unavailable = None
        while not self._stopping:
            job_id = self._take_next()
            if job_id is None:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            await self._paint(job_id)

    def _take_next(self) -> str | None:
        """The oldest waiting job, now running; one whose painter died with it
        ``MAX_ATTEMPTS`` times (this process, killed) fails instead."""
        while (taken := self._store.take_next()) is not None:
            job_id, attempts = taken
            self._ahead.pop(job_id, None)
            if attempts <= MAX_ATTEMPTS:
                self._publish(job_id, Started())
                self._announce_positions()
                return job_id
            logger.error(
                "Job %s: its painter died on each of its %d runs; giving up", job_id, MAX_ATTEMPTS
            )
            self._conclude(job_id, Failed(FAILURE_MESSAGE))
        return None

    async def _paint(self, job_id: str) -> None:
        """Paint the job in a thread; its ending is the policy's reading of the run."""
        cancel = self._cancels[job_id] = threading.Event()
        loop = asyncio.get_running_loop()
        current_job.set(job_id)  # this task's log lines (and the painter thread's) name it

        def report(progress: ProgressInfo) -> None:
            loop.call_soon_threadsafe(self._progressed, job_id, progress)

        logger.info("Job %s started", job_id)
        returned: Painted | BaseException
        try:
            try:
                content, style, order = self._store.work_of(job_id)
                returned = await asyncio.to_thread(
                    self._painter, content, style, order, report, cancel
                )
            except Exception as error:  # the painter's, to settle like any other ending
                returned = error
            cancelled_by_owner = job_id in self._cancelled_by_owner
            ending = settle(job_id, returned, cancelled_by_owner=cancelled_by_owner)
            if ending is None:
                self._requeue(job_id, RESTARTING)
            else:
                self._conclude(job_id, ending, returned if isinstance(returned, Painted) else None)
        finally:
            del self._cancels[job_id]
            self._cancelled_by_owner.discard(job_id)  # memory only: ids are never reused
            self._store.progress.pop(job_id, None)
            self._announce_positions()

    def _progressed(self, job_id: str, progress: ProgressInfo) -> None:
        if job_id in self._cancels:
            self._store.progress[job_id] = progress
            self._publish(job_id, Progressed(progress))

    def _conclude(self, job_id: str, ending: Ending, painted: Painted | None = None) -> None:
        self._store.conclude(job_id, ending, painted)
        self._ahead.pop(job_id, None)  # memory only: an ended job never waits again (equivalent)
        self._publish(job_id, ending)

    def _requeue(self, job_id: str, reason: str) -> None:
        self._store.requeue(job_id)
        logger.info("Job %s back on the queue: %s", job_id, reason)
        self._publish(job_id, Requeued(reason))

    # ---- positions and events ------------------------------------------------------------

    def _announce_positions(self) -> None:
        """Tell every waiting job whose place changed; places only ever get better."""
        for job_id, ahead in self._store.positions().items():
            if self._ahead.get(job_id) != ahead:
                self._ahead[job_id] = ahead
                self._publish(job_id, Queued(ahead))

    def _publish(self, job_id: str, event: JobEvent) -> None:
        for inbox in self._followers.get(job_id, []):
            inbox.put_nowait(event)
