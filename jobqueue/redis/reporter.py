"""A running job's progress, from the painter's thread to Redis; also the job's heartbeat."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.exceptions import RedisError
from saq.job import Job

from ..model import ProgressInfo
from .store import Store

logger = logging.getLogger(__name__)


class Reporter:
    """Writes a running job's progress to Redis from the event loop; also its heartbeat.

    The painter's thread only hands over the latest report: writes are at most ``every``
    apart, and a quiet painter still beats every third of the ``heartbeat``: a worker that
    stops beating is presumed dead, and its job is taken back.
    """

    def __init__(
        self,
        store: Store,
        job: Job,
        loop: asyncio.AbstractEventLoop,
        *,
        heartbeat: float,
        every: float = 0.1,
    ) -> None:
        self.job_id = job.key
        self.fraction = 0.0
        self._store = store
        self._job = job
        self._loop = loop
        self._beat = max(heartbeat / 3, 0.1)
        self._every = every
        self._latest: ProgressInfo | None = None
        self._preview: bytes | None = None
        self._previews = 0
        self._wake = asyncio.Event()
        self._halt = asyncio.Event()
        self._stopping = self._flush = False  # (read for their truth only: None is equivalent)
        self._task = asyncio.create_task(self._run(), name=f"progress of {job.key}")

    def report(self, progress: ProgressInfo) -> None:
        """The painter's ``report``: called in its thread."""
        self._loop.call_soon_threadsafe(self._take, progress)

    def _take(self, progress: ProgressInfo) -> None:
        self._latest, self.fraction = progress, progress.fraction
        if progress.preview is not None:
            self._preview = progress.preview
        self._wake.set()

    async def stop(self, flush: bool = False) -> None:
        """Wait for the write in flight (a late one must not undo the job's ending); with
        ``flush``, write the last report too: a finished job shows its last step."""
        if self._task.done():
            return
        self._stopping, self._flush = True, flush
        self._wake.set()
        self._halt.set()
        await asyncio.wait({self._task})

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._beat)
            self._wake.clear()
            if self._stopping and not (self._flush and self._latest is not None):
                return
            try:
                await self._write()
            except RedisError as error:
                logger.warning("Job %s: progress not saved: %s", self.job_id, error)
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):  # a pause, cut short by stop()
                await asyncio.wait_for(self._halt.wait(), self._every)

    async def _write(self) -> None:
        latest, preview = self._latest, self._preview
        self._latest = self._preview = None
        job, store = self._job, self._store
        if preview is not None:
            self._previews += 1
            await store.redis.set(store.key("preview", job.key), preview, ex=3600)
        if latest is None:
            await job.update()  # the heartbeat
            return
        meta = {"progress": latest.to_json(), "attempt": job.attempts, "preview": self._previews}
        await job.update(progress=latest.fraction, meta=meta)
