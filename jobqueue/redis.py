"""The Redis backend: jobs in Redis through saq, painted by ``stylebot-worker`` processes.

saq does the scheduling: its queue list orders the jobs, a worker moves one to its active
list atomically, ``job.update`` stores progress and doubles as the heartbeat, ``abort``
stops a job, and a worker's periodic sweep hands the job of a worker that stopped beating
(SIGKILL, power loss) back to the queue, up to ``max_attempts`` runs. Every status change is
published on the job's channel; followers listen to all of them through one connection.

Next to saq's keys this backend keeps, under ``stylebot:<name>:``

* ``job:<id>``      hash: owner, options, created; later cancel (the owner asked), outcome
                    (JSON: done, failed or cancelled: written once, by whoever ends the job)
                    and png (the result, until acknowledged), ack. TTL ``keep``.
* ``meta:<id>``     hash: the submitter's notes, one JSON value a field. TTL ``keep``.
* ``content:<id>``, ``style:<id>``: the pictures, TTL ``picture_ttl``, dropped at the end.
* ``preview:<id>``  the latest preview JPEG, TTL one hour, dropped at the end.
* ``film:<id>``     the making-of GIF of a finished job, TTL one day.
* ``owner:<owner>`` the owner's active job id (one at a time), dropped at the end.
* ``claim:<id>``    which bot replica follows and delivers the job (a lease, ``claim``).
* ``jobs``          sorted set of the jobs not yet acknowledged, by submission time.
* ``ended``         sorted set of {id, state, elapsed} by end time, 30 days: ``stats``.

The outcome is written with HSETNX, so however often a job runs (a worker presumed dead
that was not), its submitter hears of exactly one ending. Workers need Redis, not Telegram.

While no worker is online, jobs are still taken: they wait, their records say so (``Queued``
with ``no_painter``), and after ``give_up_after`` seconds without any painter each waiting
job ends as failed (code ``no_painter``), once, whichever bot replica gets there first. Films,
records and pictures leave by their TTLs: nothing here needs a purge.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import dataclasses
import json
import logging
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError
from saq.job import Job, Status
from saq.queue.redis import PubSubMultiplexer
from saq.queue.redis import RedisQueue as SaqRedisQueue
from saq.types import Context
from saq.worker import Worker

from .base import Painter
from .logs import current_job, redact_url
from .model import (
    FAILURE_MESSAGE,
    JSON,
    KEEP_ENDED_SECONDS,
    KEEP_FILMS_SECONDS,
    NO_PAINTER_CODE,
    NO_PAINTER_GIVE_UP_SECONDS,
    TERMINAL,
    AlreadyQueued,
    JobEvent,
    JobRecord,
    JobSpec,
    JobState,
    PaintCancelled,
    Painted,
    PictureRefused,
    Progressed,
    ProgressInfo,
    Queued,
    QueueFull,
    QueueStats,
    QueueUnavailable,
    Requeued,
    ResultInfo,
    Started,
    current_event,
    terminal_event,
)

logger = logging.getLogger(__name__)

FUNCTION = "paint"  # the one saq function: paint the job whose key is the job id
NO_PAINTER = "no painter is running (start stylebot-worker)"
RESTARTING = "the painter is restarting"
LOST = "the painter stopped responding"
#: The reason of a job given up for want of a painter (the bot words it itself, by its code).
GAVE_UP = "No painter came online for {seconds:.0f} s, so the job was given up. Try again later."
#: On close a job this close to the end is let finish instead of being started over.
NEARLY_DONE = 0.9

_STOPPED = "cancelled"  # saq's error for a job whose worker was stopped
_SWEPT = "worker lost"  # ours, for a job whose worker stopped beating
_OWNER_CANCEL = "cancelled by its owner"
_ALL = "*"  # the listeners' channel that hears every job
_RECORD_FIELDS = ("owner", "options", "cancel", "outcome", "ack")

# Ends a job once: the outcome (and the pictures) are written only if no outcome is there.
# KEYS: record, owner, content, style, preview, film, ended
# ARGV: outcome, png, job id, film, film TTL, now, log entry, forget before
_CONCLUDE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'outcome', ARGV[1]) == 0 then return 0 end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'png', ARGV[2]) end
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
redis.call('DEL', KEYS[3], KEYS[4], KEYS[5])
if ARGV[4] ~= '' then redis.call('SET', KEYS[6], ARGV[4], 'EX', ARGV[5]) end
redis.call('ZADD', KEYS[7], ARGV[6], ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', '(' .. ARGV[8])
return 1
"""
# Takes or renews a lease: KEYS: claim; ARGV: holder, milliseconds.
_CLAIM = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


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
        max_attempts: int = 5,
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
        self._painter = painter
        self._max_attempts = max_attempts
        self._heartbeat = heartbeat
        self._sweep_every = sweep_every
        self._worker_info_every = worker_info_every
        self._status_every = status_every
        self._poll_every = poll_every
        self._picture_ttl = picture_ttl
        self._keep = keep
        self._give_up_after = give_up_after
        self._saq = _SaqQueue(aioredis.from_url(url), name=name, swept_error_message=_SWEPT)
        self._saq.sweep_wait = sweep_wait
        self._saq.taking = min(1.0, heartbeat / 2)
        self._redis = self._saq.redis
        self._prefix = f"stylebot:{name}"
        self._pubsub = self._redis.pubsub()
        self._notes = _Notes(self._pubsub, prefix=f"saq:job:{name}:")
        self._keepalive: asyncio.Queue[dict[Any, Any]] | None = None
        self._conclude_script = self._redis.register_script(_CONCLUDE)
        self._claim_script = self._redis.register_script(_CLAIM)
        self._release_script = self._redis.register_script(_RELEASE)
        self._unavailable: str | None = NO_PAINTER
        self._painterless_since: float | None = None  # since when this queue has seen none
        self._status_task: asyncio.Task[None] | None = None
        self._worker: Worker[Context] | None = None
        self._worker_task: asyncio.Task[None] | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._running: _Reporter | None = None  # the job this worker paints, if any
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False

    def __repr__(self) -> str:
        return f"RedisQueue({redact_url(self._url)!r}, name={self.name!r})"

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        await self._saq.connect()
        try:
            await self._redis.ping()
        except RedisError as error:
            raise ConnectionError(
                f"Redis at {redact_url(self._url)} is unreachable: {error}"
            ) from None
        self._keepalive = await self._notes.subscribe("keepalive")  # one connection, always up
        await self._notes.ready(self._redis, f"saq:job:{self.name}:probe:{secrets.token_hex(4)}")
        await self._refresh_unavailable()
        self._status_task = asyncio.create_task(self._watch_workers(), name="redis workers")
        if self._painter is None:
            return
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="painter")
        device = await asyncio.to_thread(self._painter.warm_up)
        logger.info("Painter ready on %s; taking jobs from %s", device, redact_url(self._url))
        worker: Worker[Context] = Worker(
            self._saq,
            functions=[(FUNCTION, self._paint)],
            concurrency=1,
            timers={
                "sweep": self._sweep_every,
                "worker_info": self._worker_info_every,
                "abort": 1,
                "schedule": 1,
            },
            dequeue_timeout=1,
            cancellation_hard_deadline_s=15,
            after_process=self._after_process,
            metadata={"device": device, "host": socket.gethostname()},
        )
        worker.SIGNALS = []  # the process owns its signals (see worker/__main__.py)
        self._worker = worker
        self._worker_task = asyncio.create_task(worker.start(), name="saq worker")
        await asyncio.sleep(0)  # let it reach its main wait before anyone may stop it

    async def close(self, grace: float = 15.0) -> None:
        """Stop painting (a running job goes back to the queue unless nearly done); disconnect."""
        if self._closed:
            return
        self._closed = True
        if self._worker is not None and self._worker_task is not None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + grace  # for all of it: a stop must not hang the process
            running = self._running
            if running is not None and running.fraction >= NEARLY_DONE:
                logger.info("Letting job %s finish before stopping", running.job_id)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._idle.wait(), grace * 2 / 3)
            stopping = asyncio.ensure_future(self._worker.stop())  # the job goes back
            await asyncio.wait({stopping, self._worker_task}, timeout=deadline - loop.time())
            if not stopping.done():
                logger.warning("The worker did not stop within %.0f s", grace)
            self._worker = self._worker_task = None
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
        if self._status_task is not None:
            await _stop(self._status_task)
            self._status_task = None
        for step in (self._notes.close, self._pubsub.aclose, self._saq.disconnect):
            with contextlib.suppress(RedisError, OSError):  # Redis may be gone: nothing to tidy
                await step()
        await self._redis.aclose()  # if saq's disconnect stopped early
        await self._redis.connection_pool.disconnect()

    @property
    def unavailable(self) -> str | None:
        return self._unavailable

    # ---- the submitter's side ------------------------------------------------------------

    async def submit(self, spec: JobSpec) -> JobRecord:
        try:
            return await self._submit(spec)
        except (RedisError, OSError) as error:  # the bot answers this one in words
            raise QueueUnavailable(
                f"Redis at {redact_url(self._url)} is unreachable: {error}"
            ) from None

    async def _submit(self, spec: JobSpec) -> JobRecord:
        existing = await self.job_of(spec.owner)
        if existing is not None:
            raise AlreadyQueued(existing)
        if await self._saq.count("queued") >= self.max_waiting:
            raise QueueFull()
        job_id = secrets.token_hex(8)
        owner_key = self._key("owner", spec.owner)
        if not await self._redis.set(owner_key, job_id, nx=True, ex=self._keep):
            existing = await self.job_of(spec.owner)
            if existing is not None:
                raise AlreadyQueued(existing)
            await self._redis.set(owner_key, job_id, ex=self._keep)  # a job that was lost
        created = time.time()
        async with self._redis.pipeline(transaction=True) as pipe:
            record, meta = self._key("job", job_id), self._key("meta", job_id)
            pipe.hset(
                record,
                mapping={
                    "owner": spec.owner,
                    "options": json.dumps(spec.options),
                    "created": created,
                },
            )
            pipe.expire(record, self._keep)
            if spec.meta:
                pipe.hset(meta, mapping={k: json.dumps(v) for k, v in spec.meta.items()})
                pipe.expire(meta, self._keep)
            pipe.set(self._key("content", job_id), spec.content, ex=self._picture_ttl)
            pipe.set(self._key("style", job_id), spec.style, ex=self._picture_ttl)
            pipe.zadd(self._key("jobs"), {job_id: created})
            pipe.llen(self._saq.namespace("queued"))
            pipe.llen(self._saq.namespace("active"))
            *_, waiting, running = await pipe.execute()
        await self._saq.enqueue(
            Job(
                function=FUNCTION,
                key=job_id,
                timeout=0,  # a big picture on a CPU takes long: the heartbeat watches instead
                heartbeat=self._heartbeat,
                retries=self._max_attempts,
                ttl=3600,
            )
        )
        return JobRecord(
            id=job_id,
            owner=spec.owner,
            state=JobState.QUEUED,
            options=dict(spec.options),
            meta=dict(spec.meta),
            ahead=int(waiting) + int(running),
            no_painter=self._unavailable == NO_PAINTER,
        )

    async def get(self, job_id: str) -> JobRecord | None:
        snapshot = await self._snapshot(job_id)
        return None if snapshot is None else snapshot.record

    async def job_of(self, owner: str) -> JobRecord | None:
        job_id = await self._redis.get(self._key("owner", owner))
        if job_id is None:
            return None
        record = await self.get(_text(job_id))
        return record if record is not None and record.state.active else None

    async def cancel(self, job_id: str) -> bool:
        record = await self.get(job_id)
        job = await self._saq.job(job_id)
        if record is None or not record.state.active or job is None:
            return False
        await self._redis.hset(self._key("job", job_id), "cancel", "1")  # before saq's abort
        await self._saq.abort(job, _OWNER_CANCEL)
        if job.status is Status.ABORTED:  # it was still waiting: saq took it off the queue
            await self._conclude(job_id, record.owner, {"state": "cancelled"})
        # else a worker has it: it stops within a step and records the ending itself
        return True

    async def events(self, job_id: str) -> AsyncIterator[JobEvent]:
        inbox = await self._notes.subscribe(_ALL)  # before the first read: nothing is missed
        try:
            snapshot = await self._snapshot(job_id)
            if snapshot is None:
                return
            event = current_event(snapshot.record)
            yield event
            if isinstance(event, TERMINAL):
                return
            follower = _Follower(snapshot)
            channel = self._saq.job_id(job_id)
            while True:
                await self._notes.wait(inbox, channel, follower.waiting, self._poll_every)
                try:
                    snapshot = await self._snapshot(job_id)
                    preview = None
                    if snapshot and snapshot.preview[1] and snapshot.preview > follower.preview:
                        raw = await self._redis.get(self._key("preview", job_id))
                        preview = None if raw is None else _bytes(raw)
                except (RedisError, OSError):  # Redis restarting: the job is still there
                    await asyncio.sleep(self._poll_every)
                    continue
                if snapshot is None:  # acknowledged elsewhere and gone
                    return
                for event in follower.update(snapshot, preview):
                    yield event
                    if isinstance(event, TERMINAL):
                        return
        finally:
            await self._notes.unsubscribe(inbox)

    async def annotate(self, job_id: str, **meta: object) -> None:
        if meta and await self._redis.exists(self._key("job", job_id)):
            key = self._key("meta", job_id)
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(key, mapping={k: json.dumps(v) for k, v in meta.items()})
                pipe.expire(key, self._keep)
                await pipe.execute()

    async def result(self, job_id: str) -> bytes:
        png = await self._redis.hget(self._key("job", job_id), "png")
        if png is None:
            raise KeyError(f"job {job_id} has no result to hand over")
        return _bytes(png)

    async def making_of(self, job_id: str) -> bytes | None:
        film = await self._redis.get(self._key("film", job_id))
        return None if film is None else _bytes(film)

    async def claim(self, job_id: str, holder: str, seconds: float) -> bool:
        lease = max(1, int(seconds * 1000))
        return bool(
            await self._claim_script(keys=[self._key("claim", job_id)], args=[holder, lease])
        )

    async def release(self, job_id: str, holder: str) -> None:
        await self._release_script(keys=[self._key("claim", job_id)], args=[holder])

    async def stats(self, since: float) -> QueueStats:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.llen(self._saq.namespace("queued"))
            pipe.llen(self._saq.namespace("active"))
            pipe.zrangebyscore(self._key("ended"), since, "+inf")
            waiting, running, ended = await pipe.execute()
        info = await self._saq.info()
        outcomes = {str(state): 0 for state in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)}
        durations = []
        for raw in ended:
            entry = json.loads(raw)
            outcomes[entry["state"]] = outcomes.get(entry["state"], 0) + 1
            if entry.get("elapsed") is not None:
                durations.append(float(entry["elapsed"]))
        return QueueStats(
            waiting=int(waiting),
            running=int(running),
            outcomes=outcomes,
            durations=durations,
            workers=len(info["workers"]),
        )

    async def acknowledge(self, job_id: str) -> None:
        record = await self.get(job_id)
        if record is None or record.state.active:
            return
        job = await self._saq.job(job_id)
        if job is not None and job.status is Status.ABORTING:  # its worker died: expire it
            await self._saq.finish(job, Status.ABORTED)
        key = self._key("job", job_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, "ack", "1")
            pipe.hdel(key, "png")
            pipe.expire(key, KEEP_ENDED_SECONDS)
            pipe.expire(self._key("meta", job_id), KEEP_ENDED_SECONDS)
            pipe.delete(*(self._key(kind, job_id) for kind in ("content", "style", "preview")))
            pipe.zrem(self._key("jobs"), job_id)
            await pipe.execute()

    async def unfinished(self) -> list[JobRecord]:
        records = []
        for raw in await self._redis.zrange(self._key("jobs"), 0, -1):
            job_id = _text(raw) if isinstance(raw, bytes | str) else str(raw)
            record = await self.get(job_id)
            if record is None:  # its keys expired
                await self._redis.zrem(self._key("jobs"), job_id)
            else:
                records.append(record)
        return records

    # ---- reading a job ---------------------------------------------------------------------

    async def _snapshot(self, job_id: str) -> _Snapshot | None:
        saq_id = self._saq.job_id(job_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hmget(self._key("job", job_id), list(_RECORD_FIELDS))
            pipe.hgetall(self._key("meta", job_id))
            pipe.get(saq_id)
            pipe.lpos(self._saq.namespace("queued"), saq_id)
            pipe.llen(self._saq.namespace("active"))
            fields, meta, raw, position, running = await pipe.execute()
        owner, options, cancel, outcome, ack = fields
        if owner is None:
            return None
        job = self._saq.deserialize(raw)
        ending = json.loads(outcome) if outcome else None
        state, error, result = _state(ending, job, cancelled=bool(cancel))
        progress, preview = None, 0
        if (
            state is JobState.RUNNING
            and job is not None
            and job.meta.get("attempt") == job.attempts
        ):
            progress = ProgressInfo.from_json(job.meta["progress"])
            preview = int(job.meta.get("preview", 0))
        ahead = 0
        if state is JobState.QUEUED and position is not None:  # else a worker is taking it
            ahead = position + running
        record = JobRecord(
            id=job_id,
            owner=owner.decode(),
            state=state,
            options=json.loads(options),
            meta={k.decode(): json.loads(v) for k, v in meta.items()},
            ahead=ahead,
            no_painter=state is JobState.QUEUED and self._unavailable == NO_PAINTER,
            progress=progress,
            error=error,
            error_code=ending.get("code") if ending else None,
            error_params=ending.get("params", {}) if ending else {},
            result=result,
            acknowledged=bool(ack),
        )
        attempts = job.attempts if job is not None else 0
        reason = {_STOPPED: RESTARTING, _SWEPT: LOST}.get((job and job.error) or "", RESTARTING)
        return _Snapshot(record, attempts, (attempts, preview), reason)

    def _key(self, kind: str, name: str = "") -> str:
        return f"{self._prefix}:{kind}:{name}" if name else f"{self._prefix}:{kind}"

    async def _conclude(
        self, job_id: str, owner: str, outcome: JSON, painted: Painted | None = None
    ) -> bool:
        """Record how the job ended, unless something else already did: True if this did."""
        now = time.time()
        elapsed = painted.elapsed if painted is not None else None
        entry = json.dumps({"id": job_id, "state": outcome["state"], "elapsed": elapsed})
        done = await self._conclude_script(
            keys=[
                self._key("job", job_id),
                self._key("owner", owner),
                *(self._key(kind, job_id) for kind in ("content", "style", "preview", "film")),
                self._key("ended"),
            ],
            args=[
                json.dumps(outcome),
                painted.png if painted is not None else b"",
                job_id,
                (painted.making_of or b"") if painted is not None else b"",
                KEEP_FILMS_SECONDS,
                now,
                entry,
                now - KEEP_ENDED_SECONDS,
            ],
        )
        return bool(done)

    # ---- workers' presence ------------------------------------------------------------------

    async def _watch_workers(self) -> None:
        while True:
            await asyncio.sleep(self._status_every)
            await self._refresh_unavailable()
            try:
                await self._give_up_painterless()
            except (RedisError, OSError) as error:
                logger.warning("Could not look for jobs waiting without a painter: %s", error)

    async def _refresh_unavailable(self) -> None:
        try:
            info = await self._saq.info()
        except RedisError as error:
            self._unavailable = f"Redis at {redact_url(self._url)} is unreachable: {error}"
            self._painterless_since = None  # who knows: the count starts again
        else:
            if info["workers"]:
                self._unavailable, self._painterless_since = None, None
            else:
                self._unavailable = NO_PAINTER
                self._painterless_since = self._painterless_since or time.time()

    async def _give_up_painterless(self) -> None:
        """End each job that has waited ``give_up_after`` seconds while no painter was online.

        Counted from the later of its submission and the moment this queue last saw a painter
        (a bot that restarts counts afresh: a job may wait longer, never less). The outcome is
        written once (``_conclude``), so with several bot replicas one of them ends the job and
        its follower tells the user once; saq then drops it, and a painter that comes later
        does not paint it.
        """
        since = self._painterless_since
        cutoff = time.time() - self._give_up_after
        if since is None or since > cutoff:
            return
        failed = _failed(
            GAVE_UP.format(seconds=self._give_up_after),
            NO_PAINTER_CODE,
            {"seconds": self._give_up_after},
        )
        for raw in await self._redis.zrangebyscore(self._key("jobs"), "-inf", cutoff):
            job_id = _text(raw) if isinstance(raw, bytes | str) else str(raw)
            snapshot = await self._snapshot(job_id)
            if snapshot is None or snapshot.record.state is not JobState.QUEUED:
                continue
            if not await self._conclude(job_id, snapshot.record.owner, failed):
                continue  # another replica ended it, or its owner cancelled it meanwhile
            logger.warning("Job %s given up: no painter for %.0f s", job_id, self._give_up_after)
            job = await self._saq.job(job_id)
            if job is not None:
                await self._saq.abort(job, GAVE_UP.format(seconds=self._give_up_after))

    # ---- the painter's side (with a painter only) ------------------------------------------

    async def _paint(self, ctx: Context) -> str:
        """saq's job function: paint one job, record how it ended, return that in a word."""
        job = ctx["job"]
        job_id = job.key
        current_job.set(job_id)  # this task's log lines (and the painter thread's) name it
        inbox = await self._notes.subscribe(_ALL)  # before reading the cancel flag
        try:
            owner, options, cancel, outcome, _ = await self._redis.hmget(
                self._key("job", job_id), list(_RECORD_FIELDS)
            )
            if owner is None or options is None or outcome is not None:
                logger.info("Job %s has already ended; not painting it again", job_id)
                return "skipped"
            if cancel:
                await self._conclude(job_id, _text(owner), {"state": "cancelled"})
                logger.info("Job %s cancelled before it started", job_id)
                await self._end_aborted(ctx)
                return "cancelled"
            content, style = await self._redis.mget(
                self._key("content", job_id), self._key("style", job_id)
            )
            if content is None or style is None:
                logger.error("Job %s lost its pictures (kept %d s)", job_id, self._picture_ttl)
                await self._conclude(job_id, _text(owner), _failed(FAILURE_MESSAGE))
                return "failed"
            logger.info("Job %s started (attempt %d)", job_id, job.attempts)
            return await self._run_painter(
                ctx, _text(owner), _bytes(content), _bytes(style), json.loads(options), inbox
            )
        finally:
            await self._notes.unsubscribe(inbox)

    async def _run_painter(
        self,
        ctx: Context,
        owner: str,
        content: bytes,
        style: bytes,
        options: JSON,
        inbox: asyncio.Queue[dict[Any, Any]],
    ) -> str:
        job = ctx["job"]
        assert self._painter is not None and self._pool is not None
        cancel = threading.Event()
        reporter = self._running = _Reporter(self, job, asyncio.get_running_loop())
        self._idle.clear()
        watcher = asyncio.create_task(self._watch_cancel(inbox, job, cancel))
        context = contextvars.copy_context()  # the painter's log lines name the job too
        future = self._pool.submit(
            context.run, self._painter, content, style, options, reporter.report, cancel
        )
        try:
            try:
                painted = await asyncio.wrap_future(future)
            except asyncio.CancelledError:  # the worker is stopping: back to the queue
                cancel.set()
                while not future.done():  # the painter stops within a step
                    await asyncio.sleep(0.02)
                await reporter.stop()
                ending = _ending(future)  # it may have ended on its own meanwhile
                if ending is None or (
                    isinstance(ending, PaintCancelled)
                    and not await self._cancelled_by_owner(job.key)
                ):
                    logger.info("Job %s back on the queue: %s", job.key, RESTARTING)
                else:
                    await self._settle(ctx, owner, ending, stopping=True)
                raise
            except Exception as error:
                await reporter.stop()
                return await self._settle(ctx, owner, error)
            await reporter.stop(flush=True)
            return await self._settle(ctx, owner, painted)
        finally:  # (again, if a second cancel cut the above short)
            await _stop(watcher)
            await reporter.stop()
            self._running = None

    async def _settle(
        self, ctx: Context, owner: str, ending: object, *, stopping: bool = False
    ) -> str:
        job = ctx["job"]
        job_id = job.key
        if isinstance(ending, Painted):
            info = ResultInfo.of(ending)
            done = {"state": "done", "result": dataclasses.asdict(info)}
            if await self._conclude(job_id, owner, done, ending):
                logger.info("Job %s done in %.1f s", job_id, ending.elapsed)
            else:
                logger.info("Job %s had already ended; its new picture is dropped", job_id)
            return "done"
        if isinstance(ending, PaintCancelled):
            if await self._cancelled_by_owner(job_id):
                await self._conclude(job_id, owner, {"state": "cancelled"})
                logger.info("Job %s cancelled", job_id)
            else:  # swept: saq hands it to another worker
                logger.info("Job %s stopped: its worker was presumed lost", job_id)
            if not stopping:
                await self._end_aborted(ctx)
            return "cancelled"
        if isinstance(ending, PictureRefused):  # the user's picture: they can fix it
            logger.info("Job %s refused a picture: %s", job_id, ending)
            await self._conclude(job_id, owner, _failed(str(ending), ending.code, ending.params))
            return "refused"
        error = ending if isinstance(ending, BaseException) else None
        logger.error("Job %s failed", job_id, exc_info=error)
        await self._conclude(job_id, owner, _failed(FAILURE_MESSAGE))
        return "failed"

    async def _watch_cancel(
        self, inbox: asyncio.Queue[dict[Any, Any]], job: Job, cancel: threading.Event
    ) -> None:
        """Set ``cancel`` as soon as the job is aborted (by its owner, or by a sweep)."""
        channel = self._saq.job_id(job.key)
        stopping = {Status.ABORTING.value.encode(), Status.ABORTED.value.encode()}
        if await self._cancelled_by_owner(job.key):
            cancel.set()
            return
        while True:
            message = await inbox.get()
            if message["channel"] == channel and message["data"] in stopping:
                cancel.set()
                return

    async def _cancelled_by_owner(self, job_id: str) -> bool:
        return bool(await self._redis.hget(self._key("job", job_id), "cancel"))

    async def _end_aborted(self, ctx: Context) -> None:
        """End the saq job as aborted now, as saq's own abort check would a second later."""
        task = ctx["worker"].job_task_contexts.get(ctx["job"])
        if task is not None:
            task["aborted"] = _OWNER_CANCEL  # so saq does not mark it complete
        await self._saq.finish_abort(ctx["job"])

    async def _after_process(self, ctx: Context) -> None:
        self._idle.set()


@dataclasses.dataclass(frozen=True)
class _Snapshot:
    record: JobRecord
    attempts: int  # runs started so far
    preview: tuple[int, int]  # (attempt, number) of the latest preview
    reason: str  # why it last went back to the queue


class _Follower:
    """Turns successive snapshots of one job into the events between them."""

    def __init__(self, snapshot: _Snapshot) -> None:
        record = snapshot.record
        self.waiting = record.state is JobState.QUEUED
        self.ahead = record.ahead
        self.no_painter = record.no_painter
        self.attempts = snapshot.attempts
        self.preview = snapshot.preview
        self.progress = _steps(record.progress)

    def update(self, snapshot: _Snapshot, preview: bytes | None) -> list[JobEvent]:
        record = snapshot.record
        ended = terminal_event(record)
        restarted = snapshot.attempts > self.attempts
        if ended is not None:  # a job that ran and ended between two looks was started too
            return [Started(), ended] if self.waiting and restarted else [ended]
        events: list[JobEvent] = []
        if record.state is JobState.QUEUED:
            if not self.waiting or restarted:
                events += [Requeued(snapshot.reason), Queued(record.ahead, record.no_painter)]
                self.waiting, self.attempts, self.ahead = True, snapshot.attempts, record.ahead
            elif record.ahead < self.ahead or record.no_painter != self.no_painter:
                self.ahead = min(self.ahead, record.ahead)  # places only ever get better
                events.append(Queued(self.ahead, record.no_painter))
            self.no_painter = record.no_painter
            return events
        if not self.waiting and restarted:  # died and started again between two looks
            events.append(Requeued(snapshot.reason))
            self.waiting = True
        if self.waiting:
            events.append(Started())
            self.waiting, self.attempts, self.progress = False, snapshot.attempts, None
        progress = record.progress
        new_preview = preview is not None and snapshot.preview > self.preview
        if progress is not None and (_steps(progress) != self.progress or new_preview):
            if new_preview:
                progress = dataclasses.replace(progress, preview=preview)
                self.preview = snapshot.preview
            events.append(Progressed(progress))
            self.progress = _steps(progress)
        return events


class _Reporter:
    """A running job's progress, written to Redis from the event loop; also its heartbeat.

    The painter's thread only hands over the latest report: writes are at most
    ``every`` apart, and a quiet painter still beats every third of the heartbeat.
    """

    def __init__(
        self, queue: RedisQueue, job: Job, loop: asyncio.AbstractEventLoop, every: float = 0.1
    ) -> None:
        self.job_id = job.key
        self.fraction = 0.0
        self._queue = queue
        self._job = job
        self._loop = loop
        self._every = every
        self._latest: ProgressInfo | None = None
        self._preview: bytes | None = None
        self._previews = 0
        self._wake = asyncio.Event()
        self._halt = asyncio.Event()
        self._stopping = self._flush = False
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
        beat = max(self._queue._heartbeat / 3, 0.1)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), beat)
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
        job, queue = self._job, self._queue
        if preview is not None:
            self._previews += 1
            await queue._redis.set(queue._key("preview", job.key), preview, ex=3600)
        if latest is None:
            await job.update()  # the heartbeat
            return
        meta = {"progress": latest.to_json(), "attempt": job.attempts, "preview": self._previews}
        await job.update(progress=latest.fraction, meta=meta)


class _SaqQueue(SaqRedisQueue):
    """saq's Redis queue with three changes.

    * The sweep looks twice at a job that is in the active list but still ``queued``: a
      worker that has just taken it marks it active a moment later. saq 0.26 sweeps it at
      once (saq issue #277; older saq re-checked), which aborts the job a worker is starting,
      typically when a worker starts while jobs wait.
    * The sweep waits ``sweep_wait`` seconds, not always 5, for a stuck job's worker to answer.
    * A job that goes back to the queue goes to its front, where it was (saq appends it).
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

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        """Hand back the jobs of workers that died; at most once per ``lock`` s, queue-wide."""
        if self._cleanup_script is None:
            self._cleanup_script = self.redis.register_script(self._SWEEP_LOCK)
        job_ids = await self._cleanup_script(keys=[self._sweep, self._active], args=[lock])
        swept = []
        for raw in job_ids:
            job_id = raw.decode() if isinstance(raw, bytes) else str(raw)
            job = await self._get_job_by_id(job_id)
            if job is not None and job.status is Status.QUEUED:
                await asyncio.sleep(self.taking)
                job = await self._get_job_by_id(job_id)
            if job is None:
                async with self.redis.pipeline(transaction=True) as pipe:
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
                    await self.finish(job, Status.ABORTED, error=self.swept_error_message)
        return swept

    async def _retry(self, job: Job, error: str | None) -> None:
        job_id = job.id
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lrem(self._active, 1, job_id)
            pipe.lrem(self._queued, 1, job_id)
            pipe.zadd(self._incomplete, {job_id: job.scheduled})
            pipe.lpush(self._queued, job_id)
            pipe.set(job_id, self.serialize(job))
            await pipe.execute()
        await self.notify(job)


class _Notes(PubSubMultiplexer):
    """saq's listener of all the queue's job channels on one connection, handing every
    message to every subscriber of ``_ALL`` (saq's own routes by exact channel)."""

    def publish(self, channel: str, message: Any) -> None:
        for inbox in self._subscriptions[_ALL]:
            inbox.put_nowait(message)

    async def _start(self) -> None:
        """saq's loop, but one that waits (and says so once) while Redis is away: saq's
        retries at once and logs a traceback each time, hundreds a second."""
        pause, subscribed = 0.0, False
        while True:
            try:
                if not subscribed:  # redis-py subscribes again by itself after a reconnect
                    await self.pubsub.psubscribe(f"{self.prefix}*")
                    subscribed = True
                message = await self.pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                return
            except (RedisError, OSError) as error:
                if not pause:
                    logger.warning("Lost Redis (%s); job notifications wait for it", error)
                pause = min(pause * 2 or 0.1, 5.0)
                await asyncio.sleep(pause)
                continue
            if pause:
                logger.info("Redis is back")
                pause = 0.0
            if message and message["type"] == "pmessage":
                channel = message["channel"]
                message["channel"] = channel.decode() if isinstance(channel, bytes) else channel
                self.publish(message["channel"], message)

    async def ready(self, redis: aioredis.Redis, probe: str, timeout: float = 5.0) -> None:
        """Wait until the subscription is live on the server (it starts in the background)."""
        inbox = await self.subscribe(_ALL)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                await redis.publish(probe, "probe")
                with contextlib.suppress(TimeoutError):
                    while True:
                        message = await asyncio.wait_for(inbox.get(), 0.05)
                        if message["channel"] == probe:
                            return
            logger.warning("Job notifications did not start within %.0f s; polling", timeout)
        finally:
            await self.unsubscribe(inbox)

    @staticmethod
    async def wait(
        inbox: asyncio.Queue[dict[Any, Any]], channel: str, any_job: bool, timeout: float
    ) -> None:
        """Until the job on ``channel`` (or, with ``any_job``, any job) changes, or ``timeout``."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = await asyncio.wait_for(inbox.get(), left)
            except TimeoutError:
                return
            if message["channel"] == channel or any_job:
                if message["channel"] != channel:
                    await asyncio.sleep(0.05)  # other jobs' changes come in bursts
                while not inbox.empty():
                    inbox.get_nowait()
                return


def _state(
    outcome: JSON | None, job: Job | None, *, cancelled: bool
) -> tuple[JobState, str | None, ResultInfo | None]:
    """The job's state from its recorded outcome, else from saq's view of it."""
    if outcome is not None:
        state = JobState(outcome["state"])
        result = ResultInfo(**outcome["result"]) if "result" in outcome else None
        return state, outcome.get("error"), result
    if job is None:  # saq forgot it without an ending: lost
        return JobState.FAILED, FAILURE_MESSAGE, None
    waiting = job.status in (Status.NEW, Status.QUEUED)
    if cancelled and (waiting or job.status is Status.ABORTED or job.stuck):
        # the owner cancelled it, and no worker is painting it (a worker that takes it
        # now drops it; one that stopped beating never answers saq's abort)
        return JobState.CANCELLED, None, None
    if waiting:
        return JobState.QUEUED, None, None
    if job.status in (Status.ACTIVE, Status.ABORTING):
        return JobState.RUNNING, None, None
    if job.status is Status.ABORTED and job.retryable:  # swept: about to be queued again
        return JobState.RUNNING, None, None
    return JobState.FAILED, FAILURE_MESSAGE, None  # out of attempts, or a bug of ours


async def _stop(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait for it. Again if need be: on Python 3.11 a cancel that lands
    as redis-py's ``wait_for`` around a send completes is lost (CPython gh-86296)."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)


def _failed(reason: str, code: str | None = None, params: JSON | None = None) -> JSON:
    if code is None:
        return {"state": "failed", "error": reason}
    return {"state": "failed", "error": reason, "code": code, "params": params or {}}


def _steps(progress: ProgressInfo | None) -> tuple[int, int, int, int] | None:
    if progress is None:
        return None
    return (progress.scale, progress.step, progress.scales, progress.total)


def _ending(future: concurrent.futures.Future[Painted]) -> Painted | BaseException | None:
    if future.cancelled():
        return None
    return future.exception() or future.result()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value
