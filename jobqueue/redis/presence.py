"""Whether any painter is online, as a bot replica sees it, and what happens to waiting jobs
while none is: they are still taken, their records say so (``Queued`` with ``no_painter``),
and after ``give_up_after`` seconds without any painter each ends as failed (code
``NO_PAINTER_CODE``), once, whichever bot replica gets there first."""

from __future__ import annotations

import asyncio
import logging
import time

from redis.exceptions import RedisError

from ..model import Failed, JobState
from ..policy import NO_PAINTER_CODE
from .records import NO_PAINTER, text
from .store import Store

logger = logging.getLogger(__name__)

#: The reason of a job given up for want of a painter (the bot words it itself, by its code).
GAVE_UP = "No painter came online for {seconds:.0f} s, so the job was given up. Try again later."


class Presence:
    """Keeps ``store.unavailable`` up to date, and gives up jobs nobody will paint."""

    def __init__(self, store: Store, queue_url: str, *, give_up_after: float) -> None:
        self._store = store
        self._queue_url = queue_url  # for messages: without its password
        self._give_up_after = give_up_after
        self._painterless_since: float | None = None  # since when this queue has seen none

    async def watch(self, every: float) -> None:
        """Look every ``every`` seconds, until cancelled."""
        while True:
            await asyncio.sleep(every)
            await self.refresh()
            try:
                await self.give_up_painterless()
            except (RedisError, OSError) as error:
                logger.warning("Could not look for jobs waiting without a painter: %s", error)

    async def refresh(self) -> None:
        """Whether any worker is alive now (saq's worker records)."""
        try:
            info = await self._store.saq.info()
        except RedisError as error:
            self._store.unavailable = f"Redis at {self._queue_url} is unreachable: {error}"
            self._painterless_since = None  # who knows: the count starts again
        else:
            if info["workers"]:
                self._store.unavailable, self._painterless_since = None, None
            else:
                self._store.unavailable = NO_PAINTER
                self._painterless_since = self._painterless_since or time.time()

    async def give_up_painterless(self) -> None:
        """End each job that has waited ``give_up_after`` seconds while no painter was online.

        Counted from the later of its submission and the moment this queue last saw a painter
        (a bot that restarts counts afresh: a job may wait longer, never less). The outcome is
        written once (``Store.conclude``), so with several bot replicas one of them ends the
        job and its follower tells the user once; saq then drops it, and a painter that comes
        later does not paint it.
        """
        since = self._painterless_since
        cutoff = time.time() - self._give_up_after
        if since is None or since > cutoff:  # (">=": that instant is never seen: equivalent)
            return
        reason = GAVE_UP.format(seconds=self._give_up_after)
        failed = Failed(reason, NO_PAINTER_CODE, {"seconds": self._give_up_after})
        store = self._store
        # Redis reads "-inf" in any case, and returns members as bytes: mutants of either
        # (the case, the str() branch never taken) are equivalent.
        for raw in await store.redis.zrangebyscore(store.key("jobs"), "-inf", cutoff):
            job_id = text(raw) if isinstance(raw, bytes | str) else str(raw)
            snapshot = await store.snapshot(job_id)
            if snapshot is None or snapshot.record.state is not JobState.QUEUED:
                continue
            if not await store.conclude(job_id, snapshot.record.owner, failed):
                continue  # another replica ended it, or its owner cancelled it meanwhile
            logger.warning("Job %s given up: no painter for %.0f s", job_id, self._give_up_after)
            job = await store.saq.job(job_id)
            if job is not None:
                await store.saq.abort(job, reason)
