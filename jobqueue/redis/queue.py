"""``RedisQueue``: the JobQueue on Redis, put together from the pieces of this package."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from typing import Any

from redis.exceptions import RedisError

from ..base import Painter
from ..logs import redact_url
from ..model import JobEvent, JobRecord, JobSpec, QueueStats, QueueUnavailable
from ..policy import KEEP_ENDED_SECONDS, MAX_ATTEMPTS, NO_PAINTER_GIVE_UP_SECONDS
from . import submitting
from .following import follow
from .notes import Notes, stop_task
from .painting import PaintingSide
from .presence import Presence
from .store import Store


class RedisQueue:
    """A :class:`~jobqueue.JobQueue` in Redis; with a ``painter`` it is also a worker.

    Without a painter it only submits and follows (the bot). With one it also runs a saq
    worker that paints one job at a time (``stylebot-worker``); start as many as you have
    GPUs. The timing knobs are for tests; the defaults rerun a dead worker's job within
    about 30 s (heartbeat 15 s + sweep every 10 s + 5 s for its answer).
    """

    def __init__(
        self,
        url: str,
        painter: Painter | None = None,
        *,
        max_waiting: int = 20,
        name: str = "stylebot",
        max_attempts: int = MAX_ATTEMPTS,
        heartbeat: int = 15,
        sweep_every: int = 10,
        sweep_wait: float = 5.0,
        worker_info_every: int = 5,
        status_every: float = 2.0,
        poll_every: float = 1.0,
        picture_ttl: int = 24 * 3600,
        keep: int = KEEP_ENDED_SECONDS,
        give_up_after: float = NO_PAINTER_GIVE_UP_SECONDS,
    ) -> None:
        self.max_waiting = max_waiting
        self.name = name
        self._url = url
        self._max_attempts = max_attempts
        self._heartbeat = heartbeat
        self._status_every = status_every
        self._poll_every = poll_every
        self._store = Store(url, name, keep=keep, picture_ttl=picture_ttl)
        self._store.saq.sweep_wait = sweep_wait
        self._store.saq.taking = min(1.0, heartbeat / 2)
        self._pubsub = self._store.redis.pubsub()
        self._notes = Notes(self._pubsub, prefix=f"saq:job:{name}:")
        self._keepalive: asyncio.Queue[dict[Any, Any]] | None = None
        self._presence = Presence(self._store, redact_url(url), give_up_after=give_up_after)
        self._watching: asyncio.Task[None] | None = None
        self._painting = (
            None
            if painter is None
            else PaintingSide(
                self._store,
                self._notes,
                painter,
                heartbeat=heartbeat,
                sweep_every=sweep_every,
                worker_info_every=worker_info_every,
            )
        )
        self._closed = False

    def __repr__(self) -> str:
        return f"RedisQueue({redact_url(self._url)!r}, name={self.name!r})"

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        store = self._store
        await store.saq.connect()
        try:
            await store.redis.ping()
        except RedisError as error:
            raise ConnectionError(self._unreachable(error)) from None
        self._keepalive = await self._notes.subscribe("keepalive")  # one connection, always up
        await self._notes.ready(store.redis, f"saq:job:{self.name}:probe:{secrets.token_hex(4)}")
        await self._presence.refresh()
        self._watching = asyncio.create_task(
            self._presence.watch(self._status_every), name="redis workers"
        )
        if self._painting is not None:
            await self._painting.start(redact_url(self._url))

    async def close(self, grace: float = 15.0) -> None:
        """Stop painting (a running job goes back to the queue unless nearly done); disconnect."""
        if self._closed:
            return
        self._closed = True
        if self._painting is not None:
            await self._painting.stop(grace)
        if self._watching is not None:
            await stop_task(self._watching)
            self._watching = None
        store = self._store
        for step in (self._notes.close, self._pubsub.aclose, store.saq.disconnect):
            with contextlib.suppress(RedisError, OSError):  # Redis may be gone: nothing to tidy
                await step()
        await store.redis.aclose()  # if saq's disconnect stopped early
        await store.redis.connection_pool.disconnect()

    @property
    def unavailable(self) -> str | None:
        return self._store.unavailable

    # ---- the submitter's side ------------------------------------------------------------

    async def submit(self, spec: JobSpec) -> JobRecord:
        try:
            return await submitting.submit(
                self._store,
                spec,
                max_waiting=self.max_waiting,
                heartbeat=self._heartbeat,
                max_attempts=self._max_attempts,
            )
        except (RedisError, OSError) as error:  # the bot answers this one in words
            raise QueueUnavailable(self._unreachable(error)) from None

    async def get(self, job_id: str) -> JobRecord | None:
        return await self._store.get(job_id)

    async def job_of(self, owner: str) -> JobRecord | None:
        return await submitting.job_of(self._store, owner)

    async def cancel(self, job_id: str) -> bool:
        return await submitting.cancel(self._store, job_id)

    def events(self, job_id: str) -> AsyncIterator[JobEvent]:
        return follow(self._store, self._notes, job_id, self._poll_every)

    async def annotate(self, job_id: str, **meta: object) -> None:
        await submitting.annotate(self._store, job_id, meta)

    async def result(self, job_id: str) -> bytes:
        return await submitting.result(self._store, job_id)

    async def making_of(self, job_id: str) -> bytes | None:
        return await submitting.making_of(self._store, job_id)

    async def acknowledge(self, job_id: str) -> None:
        await submitting.acknowledge(self._store, job_id)

    async def unfinished(self) -> list[JobRecord]:
        return await submitting.unfinished(self._store)

    async def claim(self, job_id: str, holder: str, seconds: float) -> bool:
        return await self._store.claim(job_id, holder, seconds)

    async def release(self, job_id: str, holder: str) -> None:
        await self._store.release(job_id, holder)

    async def stats(self, since: float) -> QueueStats:
        return await self._store.stats(since)

    def _unreachable(self, error: Exception) -> str:
        return f"Redis at {redact_url(self._url)} is unreachable: {error}"
