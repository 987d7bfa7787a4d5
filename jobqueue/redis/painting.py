"""The painting side of a RedisQueue (``stylebot-worker``): a saq worker that paints one job at
a time in a thread, reports its progress, stops it as soon as it is cancelled, and records
how it ended (read by ``policy.settle``, as the embedded queue reads it)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import json
import logging
import socket
import threading

from saq.job import Job, Status
from saq.types import Context, PartialTimersDict
from saq.worker import Worker

from ..base import Painter
from ..logs import current_job
from ..model import (
    FAILURE_MESSAGE,
    Cancelled,
    Ending,
    Failed,
    PaintCancelled,
    Painted,
    ended_state,
)
from ..orders import JobOrder
from ..policy import NEARLY_DONE, RESTARTING, settle
from .notes import ALL, Inbox, Notes, stop_task
from .records import OWNER_CANCEL, RECORD_FIELDS, as_bytes, text
from .reporter import Reporter
from .store import Store
from .submitting import FUNCTION

logger = logging.getLogger(__name__)


class PaintingSide:
    """A saq worker on ``store`` that paints with ``painter``; the timers are saq's."""

    def __init__(
        self,
        store: Store,
        notes: Notes,
        painter: Painter,
        *,
        heartbeat: int,
        sweep_every: int,
        worker_info_every: int,
    ) -> None:
        self._store = store
        self._notes = notes
        self._painter = painter
        self._heartbeat = heartbeat
        self._timers: PartialTimersDict = {
            "sweep": sweep_every,
            "worker_info": worker_info_every,
            "abort": 1,
            "schedule": 1,
        }
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="painter")
        self._worker: Worker[Context] | None = None
        self._worker_task: asyncio.Task[None] | None = None
        self._reporter: Reporter | None = None  # of the job being painted, if any
        self._idle = asyncio.Event()
        self._idle.set()

    async def start(self, queue_url: str) -> None:
        """Warm the painter up, then take jobs."""
        device = await asyncio.to_thread(self._painter.warm_up)
        logger.info("Painter ready on %s; taking jobs from %s", device, queue_url)
        worker: Worker[Context] = Worker(
            self._store.saq,
            functions=[(FUNCTION, self.paint)],
            concurrency=1,
            timers=self._timers,
            dequeue_timeout=1,
            cancellation_hard_deadline_s=15,
            after_process=self._after_process,
            metadata={"device": device, "host": socket.gethostname()},
        )
        worker.SIGNALS = []  # the process owns its signals (see worker/__main__.py)
        self._worker = worker
        self._worker_task = asyncio.create_task(worker.start(), name="saq worker")
        await asyncio.sleep(0)  # let it reach its main wait before anyone may stop it

    async def stop(self, grace: float) -> None:
        """Stop taking jobs; the running one goes back to the queue unless nearly done."""
        if self._worker is not None and self._worker_task is not None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + grace  # for all of it: a stop must not hang the process
            reporter = self._reporter
            if reporter is not None and reporter.fraction >= NEARLY_DONE:
                logger.info("Letting job %s finish before stopping", reporter.job_id)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._idle.wait(), grace * 2 / 3)
            stopping = asyncio.ensure_future(self._worker.stop())  # the job goes back
            await asyncio.wait({stopping, self._worker_task}, timeout=deadline - loop.time())
            if not stopping.done():
                logger.warning("The worker did not stop within %.0f s", grace)
            self._worker = self._worker_task = None
        self._pool.shutdown(wait=False)

    async def paint(self, ctx: Context) -> str:
        """saq's job function: paint one job, record how it ended, return that in a word."""
        job = ctx["job"]
        job_id = job.key
        current_job.set(job_id)  # this task's log lines (and the painter thread's) name it
        inbox = await self._notes.subscribe(ALL)  # before reading the cancel flag
        store = self._store
        try:
            owner, order, cancel, outcome, _ = await store.redis.hmget(
                store.key("job", job_id), list(RECORD_FIELDS)
            )
            if owner is None or order is None or outcome is not None:
                logger.info("Job %s has already ended; not painting it again", job_id)
                return "skipped"
            if cancel:
                await store.conclude(job_id, text(owner), Cancelled())
                logger.info("Job %s cancelled before it started", job_id)
                await self._end_aborted(ctx)
                return "cancelled"
            content, style = await store.redis.mget(
                store.key("content", job_id), store.key("style", job_id)
            )
            if content is None or style is None:
                logger.error("Job %s lost its pictures (kept %d s)", job_id, store.picture_ttl)
                await store.conclude(job_id, text(owner), Failed(FAILURE_MESSAGE))
                return "failed"
            logger.info("Job %s started (attempt %d)", job_id, job.attempts)
            return await self._run_painter(
                ctx,
                text(owner),
                as_bytes(content),
                as_bytes(style),
                JobOrder.from_json(json.loads(order)),
                inbox,
            )
        finally:
            await self._notes.unsubscribe(inbox)

    async def _run_painter(
        self,
        ctx: Context,
        owner: str,
        content: bytes,
        style: bytes,
        order: JobOrder,
        inbox: Inbox,
    ) -> str:
        job = ctx["job"]
        cancel = threading.Event()
        loop = asyncio.get_running_loop()
        reporter = Reporter(self._store, job, loop, heartbeat=self._heartbeat)
        self._reporter = reporter
        self._idle.clear()
        watcher = asyncio.create_task(self._watch_cancel(inbox, job, cancel))
        context = contextvars.copy_context()  # the painter's log lines name the job too
        future = self._pool.submit(
            context.run, self._painter, content, style, order, reporter.report, cancel
        )
        try:
            try:
                painted = await asyncio.wrap_future(future)
            except asyncio.CancelledError:  # the worker is stopping: back to the queue
                cancel.set()
                while not future.done():  # the painter stops within a step
                    await asyncio.sleep(0.02)
                await reporter.stop()
                returned = _returned(future)  # it may have ended on its own meanwhile
                ending = None if returned is None else await self._settle(job, returned)
                if ending is None:
                    logger.info("Job %s back on the queue: %s", job.key, RESTARTING)
                else:
                    await self._record(ctx, owner, ending, returned, stopping=True)
                raise
            except Exception as error:
                await reporter.stop()
                return await self._record(ctx, owner, await self._settle(job, error), error)
            await reporter.stop(flush=True)
            return await self._record(ctx, owner, await self._settle(job, painted), painted)
        finally:  # (again, if a second cancel cut the above short)
            await stop_task(watcher)
            await reporter.stop()
            self._reporter = None

    async def _settle(self, job: Job, returned: Painted | BaseException) -> Ending | None:
        """The policy's reading of the painter's run (a cancel may be the owner's)."""
        by_owner = isinstance(returned, PaintCancelled) and await self._store.cancelled_by_owner(
            job.key
        )
        return settle(job.key, returned, cancelled_by_owner=by_owner)

    async def _record(
        self,
        ctx: Context,
        owner: str,
        ending: Ending | None,
        returned: Painted | BaseException | None,
        *,
        stopping: bool = False,
    ) -> str:
        """Write the job's ``ending`` (None: it was taken back: a sweep presumed this worker
        lost) and tell saq; returns the ending in a word, for saq's record of the job."""
        job_id = ctx["job"].key
        if ending is None:  # saq hands it to another worker
            logger.info("Job %s stopped: its worker was presumed lost", job_id)
        else:
            painted = returned if isinstance(returned, Painted) else None
            concluded = await self._store.conclude(job_id, owner, ending, painted)
            if not concluded and painted is not None:
                logger.info("Job %s had already ended; its new picture is dropped", job_id)
        if isinstance(returned, PaintCancelled) and not stopping:
            await self._end_aborted(ctx)
        return "cancelled" if ending is None else str(ended_state(ending))

    async def _watch_cancel(self, inbox: Inbox, job: Job, cancel: threading.Event) -> None:
        """Set ``cancel`` as soon as the job is aborted (by its owner, or by a sweep)."""
        channel = self._store.saq.job_id(job.key)
        stopping = {Status.ABORTING.value.encode(), Status.ABORTED.value.encode()}
        if await self._store.cancelled_by_owner(job.key):
            cancel.set()
            return
        while True:
            message = await inbox.get()
            if message["channel"] == channel and message["data"] in stopping:
                cancel.set()
                return

    async def _end_aborted(self, ctx: Context) -> None:
        """End the saq job as aborted now, as saq's own abort check would a second later."""
        task = ctx["worker"].job_task_contexts.get(ctx["job"])
        if task is not None:
            task["aborted"] = OWNER_CANCEL  # so saq does not mark it complete
        await self._store.saq.finish_abort(ctx["job"])

    async def _after_process(self, ctx: Context) -> None:
        self._idle.set()


def _returned(future: concurrent.futures.Future[Painted]) -> Painted | BaseException | None:
    """What the painter's call came to: its picture, what it raised, or None (never ran)."""
    if future.cancelled():
        return None
    return future.exception() or future.result()
