"""The submitter's side (the bot): putting a job in, cancelling it, noting on it, fetching its
picture, and letting it go once its user knows how it ended."""

from __future__ import annotations

import json
import secrets
import time

from saq.job import Job, Status

from ..model import AlreadyQueued, Cancelled, JobRecord, JobSpec, JobState, QueueFull
from ..policy import KEEP_ENDED_SECONDS
from .records import NO_PAINTER, OWNER_CANCEL, as_bytes, text
from .store import Store

#: The one saq function: paint the job whose key is the job id.
FUNCTION = "paint"


async def submit(
    store: Store, spec: JobSpec, *, max_waiting: int, heartbeat: int, max_attempts: int
) -> JobRecord:
    """Queue ``spec``: its record and pictures, then its saq job, which a worker takes."""
    existing = await job_of(store, spec.owner)
    if existing is not None:
        raise AlreadyQueued(existing)
    if await store.saq.count("queued") >= max_waiting:
        raise QueueFull()
    job_id = secrets.token_hex(8)
    owner_key, redis = store.key("owner", spec.owner), store.redis
    if not await redis.set(owner_key, job_id, nx=True, ex=store.keep):
        existing = await job_of(store, spec.owner)
        if existing is not None:
            raise AlreadyQueued(existing)
        await redis.set(owner_key, job_id, ex=store.keep)  # a job that was lost
    created = time.time()
    async with redis.pipeline(transaction=True) as pipe:
        record, meta = store.key("job", job_id), store.key("meta", job_id)
        pipe.hset(
            record,
            mapping={
                "owner": spec.owner,
                "options": json.dumps(spec.order.to_json()),
                "created": created,
            },
        )
        pipe.expire(record, store.keep)
        if spec.meta:
            pipe.hset(meta, mapping={k: json.dumps(v) for k, v in spec.meta.items()})
            pipe.expire(meta, store.keep)
        pipe.set(store.key("content", job_id), spec.content, ex=store.picture_ttl)
        pipe.set(store.key("style", job_id), spec.style, ex=store.picture_ttl)
        pipe.zadd(store.key("jobs"), {job_id: created})
        pipe.llen(store.saq.namespace("queued"))
        pipe.llen(store.saq.namespace("active"))
        *_, waiting, running = await pipe.execute()
    await store.saq.enqueue(
        Job(
            function=FUNCTION,
            key=job_id,
            timeout=0,  # a big picture on a CPU takes long: the heartbeat watches instead
            heartbeat=heartbeat,
            retries=max_attempts,
            ttl=3600,
        )
    )
    return JobRecord(
        id=job_id,
        owner=spec.owner,
        state=JobState.QUEUED,
        order=spec.order,
        meta=dict(spec.meta),
        ahead=int(waiting) + int(running),
        no_painter=store.unavailable == NO_PAINTER,
    )


async def job_of(store: Store, owner: str) -> JobRecord | None:
    """The owner's queued or running job, if any."""
    job_id = await store.redis.get(store.key("owner", owner))
    if job_id is None:
        return None
    record = await store.get(text(job_id))
    return record if record is not None and record.state.active else None


async def cancel(store: Store, job_id: str) -> bool:
    """A waiting job ends here; a running one is aborted, and its worker ends it."""
    record = await store.get(job_id)
    job = await store.saq.job(job_id)
    if record is None or not record.state.active or job is None:
        return False
    await store.redis.hset(store.key("job", job_id), "cancel", "1")  # before saq's abort
    await store.saq.abort(job, OWNER_CANCEL)
    if job.status is Status.ABORTED:  # it was still waiting: saq took it off the queue
        await store.conclude(job_id, record.owner, Cancelled())
    # else a worker has it: it stops within a step and records the ending itself
    return True


async def annotate(store: Store, job_id: str, meta: dict[str, object]) -> None:
    if meta and await store.redis.exists(store.key("job", job_id)):
        key = store.key("meta", job_id)
        async with store.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={k: json.dumps(v) for k, v in meta.items()})
            pipe.expire(key, store.keep)
            await pipe.execute()


async def result(store: Store, job_id: str) -> bytes:
    png = await store.redis.hget(store.key("job", job_id), "png")
    if png is None:
        raise KeyError(f"job {job_id} has no result to hand over")
    return as_bytes(png)


async def making_of(store: Store, job_id: str) -> bytes | None:
    film = await store.redis.get(store.key("film", job_id))
    return None if film is None else as_bytes(film)


async def acknowledge(store: Store, job_id: str) -> None:
    """An ended job's pictures go; its record stays ``KEEP_ENDED_SECONDS``."""
    record = await store.get(job_id)
    if record is None or record.state.active:
        return
    job = await store.saq.job(job_id)
    if job is not None and job.status is Status.ABORTING:  # its worker died: expire it
        await store.saq.finish(job, Status.ABORTED)
    key = store.key("job", job_id)
    async with store.redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, "ack", "1")
        pipe.hdel(key, "png")
        pipe.expire(key, KEEP_ENDED_SECONDS)
        pipe.expire(store.key("meta", job_id), KEEP_ENDED_SECONDS)
        pipe.delete(*(store.key(kind, job_id) for kind in ("content", "style", "preview")))
        pipe.zrem(store.key("jobs"), job_id)
        await pipe.execute()


async def unfinished(store: Store) -> list[JobRecord]:
    """Jobs not yet acknowledged, oldest first; forgets those whose keys expired."""
    records = []
    for raw in await store.redis.zrange(store.key("jobs"), 0, -1):
        job_id = text(raw) if isinstance(raw, bytes | str) else str(raw)
        record = await store.get(job_id)
        if record is None:  # its keys expired
            await store.redis.zrem(store.key("jobs"), job_id)
        else:
            records.append(record)
    return records
