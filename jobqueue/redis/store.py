"""One queue's jobs in Redis as both sides reach them: reading a job (``snapshot``), ending it
once (``conclude``), the bot replicas' leases on reporting it (``claim``), and the figures.

The outcome is written with HSETNX, so however often a job runs (a worker presumed dead
that was not), its submitter hears of exactly one ending.
"""

from __future__ import annotations

import json
import time

from redis import asyncio as aioredis

from ..model import Ending, JobRecord, JobState, Painted, QueueStats, ended_state
from ..policy import KEEP_ENDED_SECONDS, KEEP_FILMS_SECONDS
from .records import NO_PAINTER, RECORD_FIELDS, SWEPT, Keys, Snapshot, outcome_of, snapshot_of
from .saq_queue import SaqQueue

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


class Store:
    """The connection to one queue (``name``) in Redis: saq's keys and ours (``records``).

    ``keep`` is how long a record lives until it is acknowledged, ``picture_ttl`` how long
    its pictures wait for a painter. ``unavailable`` is why nothing paints, as this process
    last saw it (``presence`` keeps it up to date): a waiting job's record says so.
    """

    def __init__(self, url: str, name: str, *, keep: int, picture_ttl: int) -> None:
        self.saq = SaqQueue(aioredis.from_url(url), name=name, swept_error_message=SWEPT)
        self.redis = self.saq.redis
        self.key = Keys(f"stylebot:{name}")
        self.keep = keep
        self.picture_ttl = picture_ttl
        self.unavailable: str | None = NO_PAINTER
        self._conclude = self.redis.register_script(_CONCLUDE)
        self._claim = self.redis.register_script(_CLAIM)
        self._release = self.redis.register_script(_RELEASE)

    async def snapshot(self, job_id: str) -> Snapshot | None:
        """The job now; None if there is no such job (or it is gone)."""
        saq_id = self.saq.job_id(job_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hmget(self.key("job", job_id), list(RECORD_FIELDS))
            pipe.hgetall(self.key("meta", job_id))
            pipe.get(saq_id)
            pipe.lpos(self.saq.namespace("queued"), saq_id)
            pipe.llen(self.saq.namespace("active"))
            fields, meta, raw, place, running = await pipe.execute()
        no_painter = self.unavailable == NO_PAINTER
        job = self.saq.deserialize(raw)
        return snapshot_of(job_id, fields, meta, job, place, running, no_painter=no_painter)

    async def get(self, job_id: str) -> JobRecord | None:
        snapshot = await self.snapshot(job_id)
        return None if snapshot is None else snapshot.record

    async def conclude(
        self, job_id: str, owner: str, ending: Ending, painted: Painted | None = None
    ) -> bool:
        """Record how the job ended (a finished one with its ``painted`` picture), unless
        something else already did: True if this did. Its pictures go."""
        now = time.time()
        elapsed = painted.elapsed if painted is not None else None
        state = ended_state(ending)
        entry = json.dumps({"id": job_id, "state": state, "elapsed": elapsed})
        done = await self._conclude(
            keys=[
                self.key("job", job_id),
                self.key("owner", owner),
                *(self.key(kind, job_id) for kind in ("content", "style", "preview", "film")),
                self.key("ended"),
            ],
            args=[
                json.dumps(outcome_of(ending)),
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

    async def cancelled_by_owner(self, job_id: str) -> bool:
        return bool(await self.redis.hget(self.key("job", job_id), "cancel"))

    async def claim(self, job_id: str, holder: str, seconds: float) -> bool:
        lease = max(1, int(seconds * 1000))
        return bool(await self._claim(keys=[self.key("claim", job_id)], args=[holder, lease]))

    async def release(self, job_id: str, holder: str) -> None:
        await self._release(keys=[self.key("claim", job_id)], args=[holder])

    async def stats(self, since: float) -> QueueStats:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.llen(self.saq.namespace("queued"))
            pipe.llen(self.saq.namespace("active"))
            pipe.zrangebyscore(self.key("ended"), since, "+inf")
            waiting, running, ended = await pipe.execute()
        info = await self.saq.info()
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
