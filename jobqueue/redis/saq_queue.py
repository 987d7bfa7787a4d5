"""saq's Redis queue, as this backend needs it: the sweep that takes back a dead worker's job,
and the way a job goes back to the queue."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from saq.job import Job, Status
from saq.queue.redis import RedisQueue as SaqRedisQueue

from .records import STOPPED

logger = logging.getLogger(__name__)


class SaqQueue(SaqRedisQueue):
    """saq's Redis queue with four changes.

    * The sweep looks twice at a job that is in the active list but still ``queued``: a
      worker that has just taken it marks it active a moment later. saq 0.26 sweeps it at
      once (saq issue #277; older saq re-checked), which aborts the job a worker is starting,
      typically when a worker starts while jobs wait.
    * The sweep waits ``sweep_wait`` seconds, not always 5, for a stuck job's worker to answer.
    * A job that goes back to the queue goes to its front, where it was (saq appends it).
    * A job whose worker stopped and handed it back gets that run again: only a painter's
      death counts against ``policy.MAX_ATTEMPTS`` (saq counts every run).
    """

    sweep_wait: float = 5.0
    taking: float = 1.0  # how long a worker may take to mark a job it took as active

    _SWEEP_LOCK = """
    if redis.call('EXISTS', KEYS[1]) == 0 then
        redis.call('SETEX', KEYS[1], ARGV[1], 1)
        return redis.call('LRANGE', KEYS[2], 0, -1)
    end
    return {}
    """

    # (``abort`` is saq's parameter, unused here: its mutants are equivalent)
    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        """Hand back the jobs of workers that died; at most once per ``lock`` s, queue-wide."""
        if self._cleanup_script is None:
            self._cleanup_script = self.redis.register_script(self._SWEEP_LOCK)
        job_ids = await self._cleanup_script(keys=[self._sweep, self._active], args=[lock])
        swept = []
        for raw in job_ids:  # (bytes, always: mutants of the str() branch are equivalent)
            job_id = raw.decode() if isinstance(raw, bytes) else str(raw)
            job = await self._get_job_by_id(job_id)
            if job is not None and job.status is Status.QUEUED:
                await asyncio.sleep(self.taking)
                job = await self._get_job_by_id(job_id)
            if job is None:
                async with self.redis.pipeline(transaction=True) as pipe:
                    # (an id is on a list once: LREM's count, 0 = all or 1, is equivalent)
                    pipe.lrem(self._active, 0, job_id)
                    pipe.zrem(self._incomplete, job_id)
                    await pipe.execute()
                logger.info("Swept job %s: its data expired", job_id)
                swept.append(job_id)
            elif job.status is Status.QUEUED or (job.status is Status.ACTIVE and job.stuck):
                logger.warning("Job %s: its worker stopped beating; taking it back", job.key)
                swept.append(job_id)
                await self.abort(job, error=self.swept_error_message)
                with contextlib.suppress(TimeoutError):  # dead, as expected
                    await job.refresh(self.sweep_wait)
                if job.retryable:
                    await self.retry(job, error=self.swept_error_message)
                else:
                    logger.error("Job %s: its painter died on every run it had; giving up", job.key)
                    await self.finish(job, Status.ABORTED, error=self.swept_error_message)
        return swept

    async def _retry(self, job: Job, error: str | None) -> None:
        if error == STOPPED:  # handed back by a worker that stopped: not a death
            job.retries += 1
        job_id = job.id
        async with self.redis.pipeline(transaction=True) as pipe:
            # (an id is on a list once: LREM's count, 1 or 2, is equivalent)
            pipe.lrem(self._active, 1, job_id)
            pipe.lrem(self._queued, 1, job_id)
            pipe.zadd(self._incomplete, {job_id: job.scheduled})
            pipe.lpush(self._queued, job_id)
            pipe.set(job_id, self.serialize(job))
            await pipe.execute()
        await self.notify(job)
