"""The Redis backend against a real redis-server: a client queue (the bot's side) and
in-process worker queues with test painters (``stylebot-worker``'s side), all in one loop.

What every backend promises is checked in test_jobqueue_behaviour.py; here is what only
Redis does: bot replicas, keys that leave by their TTLs, workers that stop, die or are
missing, and ``stylebot-worker`` itself. The timing knobs are shrunk (``FAST``: heartbeat
2 s, a sweep every second) so that even the dead worker's job comes back in seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from saq.job import Job, Status
from saq.queue import Queue as SaqQueue
from saq.utils import now

from jobqueue import (
    KEEP_ENDED_SECONDS,
    KEEP_FILMS_SECONDS,
    NO_PAINTER_CODE,
    Cancelled,
    Failed,
    Finished,
    JobState,
    Progressed,
    Queued,
    QueueUnavailable,
    Requeued,
    Started,
)
from jobqueue.logs import redact_url
from jobqueue.redis import GAVE_UP, LOST, NO_PAINTER, RedisQueue
from jobqueue.redis.notes import ALL
from jobqueue.redis.records import STOPPED, SWEPT, Snapshot, text
from jobqueue.redis.saq_queue import SaqQueue as OurSaq
from tests.painters import PNG, FakePainter, SteppedPainter
from tests.queues import FAST, ORDERS, Follow, eventually, spec, waited
from worker.__main__ import main as worker_main
from worker.__main__ import serve

NAME = FAST["name"]
# saq 0.26 calls redis-py's setex, which redis-py 8 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning")

MakeQueue = Callable[..., Awaitable[RedisQueue]]


@pytest.fixture
async def make(redis_url: str) -> AsyncIterator[MakeQueue]:
    """Started RedisQueues on the test's server: ``make()`` a client, ``make(painter)`` a worker."""
    made: list[RedisQueue] = []

    async def make_queue(painter: Any = None, **knobs: Any) -> RedisQueue:
        queue = RedisQueue(redis_url, painter, **{**FAST, **knobs})
        made.append(queue)
        await queue.start()
        return queue

    yield make_queue
    for queue in reversed(made):
        await queue.close()


async def test_a_restarted_client_finds_its_unfinished_jobs(make: MakeQueue) -> None:
    client = await make()
    first = await client.submit(spec("a"))
    second = await client.submit(spec("b"))
    await client.annotate(first.id, message=7, chat="a")
    await client.annotate("nonsense", message=1)  # nothing to note it on
    await client.close()
    painter = SteppedPainter(steps=1)
    await make(painter)
    painter.allow()
    await waited(painter.started)
    again = await make()  # the bot, restarted
    await eventually(lambda: _state_is(again, first.id, JobState.DONE))
    records = await again.unfinished()
    assert [(r.id, r.state) for r in records] == [
        (first.id, JobState.DONE),
        (second.id, JobState.RUNNING),
    ]
    assert records[0].meta == {"chat": "a", "message": 7}
    assert isinstance(await Follow(again, first.id).next(), Finished)
    assert await again.result(first.id) == PNG
    painter.allow()
    assert isinstance((await Follow(again, second.id).end())[-1], Finished)


async def test_replicas_share_leases_and_records_and_films_leave_by_their_ttls(
    make: MakeQueue,
) -> None:
    painter = SteppedPainter(steps=1, film=b"GIF89a film")
    await make(painter)
    one, two = await make(), await make()  # two bot replicas on one queue
    job = await one.submit(spec("a"))
    assert await one.claim(job.id, "one", 5)
    assert not await two.claim(job.id, "two", 5)  # the lease is the queue's, not the replica's
    await one.release(job.id, "one")
    assert await two.claim(job.id, "two", 5)

    painter.allow()
    assert isinstance((await Follow(one, job.id).end())[-1], Finished)
    store = two._store
    film_ttl = await store.redis.ttl(store.key("film", job.id))  # Redis drops it on time,
    assert KEEP_FILMS_SECONDS - 60 < film_ttl <= KEEP_FILMS_SECONDS  # nothing to purge
    await two.acknowledge(job.id)
    for kind in ("job", "meta"):  # kept as long as the embedded queue keeps its rows
        kept = await store.redis.ttl(store.key(kind, job.id))
        assert KEEP_ENDED_SECONDS - 60 < kept <= KEEP_ENDED_SECONDS, kind
    assert (await one.stats(0)).outcomes["done"] == 1  # the figures are the queue's too


# ---- following a job ---------------------------------------------------------------------


async def test_a_follower_hears_changes_as_they_happen_not_at_its_next_poll(
    make: MakeQueue,
) -> None:
    client = await make(poll_every=30)  # only the notifications can be in time
    first, second = await client.submit(spec("a", n=1)), await client.submit(spec("b", n=2))
    behind = Follow(client, second.id)
    assert await behind.next() == Queued(1, no_painter=True)
    assert await client.cancel(first.id)  # another job's change: the place moves
    assert await behind.next(timeout=3) == Queued(0, no_painter=True)
    painter = SteppedPainter(steps=2)
    await make(painter)
    await behind.until(lambda e: e == Started(), timeout=3)
    painter.allow()
    progressed = await behind.next(timeout=3)  # its own change
    assert isinstance(progressed, Progressed) and progressed.progress.step == 1
    painter.allow()
    assert isinstance(await behind.until(lambda e: isinstance(e, Finished), timeout=3), Finished)


async def test_a_follower_of_a_job_whose_keys_are_gone_stops_and_lets_go(
    make: MakeQueue,
) -> None:
    client = await make()
    job = await client.submit(spec("a"))
    follow = Follow(client, job.id)
    assert await follow.next() == Queued(0, no_painter=True)
    store = client._store
    await store.redis.delete(store.key("job", job.id))  # as its TTL would, some day
    with pytest.raises(StopAsyncIteration):
        await follow.next(timeout=3)
    assert not client._notes._subscriptions[ALL]  # its inbox no longer hears every job


async def test_a_follower_rides_out_a_moment_without_redis(
    make: MakeQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    painter = SteppedPainter(steps=1)
    await make(painter)
    client = await make()
    job = await client.submit(spec("a"))
    follow = Follow(client, job.id)
    assert await follow.next() in (Queued(0), Started())
    looks, failures = client._store.snapshot, 2

    async def restarting(job_id: str) -> Snapshot | None:
        nonlocal failures
        if failures:
            failures -= 1
            raise RedisConnectionError("Redis is restarting")
        return await looks(job_id)

    monkeypatch.setattr(client._store, "snapshot", restarting)
    painter.allow()
    assert isinstance((await follow.end())[-1], Finished)
    assert failures == 0


async def _state_is(queue: RedisQueue, job_id: str, state: JobState) -> bool:
    record = await queue.get(job_id)
    return record is not None and record.state is state


# ---- workers that stop, die or are missing ------------------------------------------------


async def test_a_nearly_done_job_is_finished_before_its_worker_stops(make: MakeQueue) -> None:
    painter = SteppedPainter(steps=10)
    worker = await make(painter)
    client = await make()
    job = await client.submit(spec("a"))
    follow = Follow(client, job.id)
    painter.allow(9)
    await follow.until(lambda e: isinstance(e, Progressed) and e.progress.step == 9)
    closing = asyncio.create_task(worker.close())
    await asyncio.sleep(0.3)
    assert not closing.done()  # waiting for the last step
    painter.allow()
    await asyncio.wait_for(closing, 5)
    events = await follow.end()
    assert isinstance(events[-1], Finished) and not any(isinstance(e, Requeued) for e in events)


async def test_a_dead_workers_job_runs_again_elsewhere(make: MakeQueue, redis_url: str) -> None:
    client = await make()
    dead, _, waiting = [await client.submit(spec(owner, n=n)) for n, owner in enumerate("abc")]
    follow, follow_waiting = Follow(client, dead.id), Follow(client, waiting.id)
    dying = SaqQueue.from_url(redis_url, name=NAME)  # a worker, as saq's own code would be
    await dying.connect()
    taken = await dying.dequeue(timeout=5)
    assert taken is not None and taken.key == dead.id
    taken.started, taken.attempts, taken.worker_id = now(), 1, "doomed"
    await taken.update(status=Status.ACTIVE)
    await dying.disconnect()  # and it is never heard of again: no heartbeat, no retry
    assert await follow.until(lambda e: isinstance(e, Started))
    assert await follow_waiting.next() == Queued(2, no_painter=True)  # "doomed" is no painter
    waited_out = asyncio.create_task(follow_waiting.end(timeout=20))  # as the bot listens
    painter = SteppedPainter(steps=1)
    await make(painter)  # takes the next job; its sweep finds the dead one after 2 s
    await waited(painter.started)
    await follow.until(lambda e: isinstance(e, Requeued), timeout=10)
    assert follow.seen[-1] == Requeued(LOST)
    await asyncio.sleep(0.3)  # the waiting job's follower looks at its place meanwhile
    painter.allow(3)
    events = await follow.end()
    assert isinstance(events[-1], Finished) and Started() in events
    assert sum(isinstance(e, Finished) for e in events) == 1
    assert isinstance((await waited_out)[-1], Finished)
    aheads = [e.ahead for e in follow_waiting.seen if isinstance(e, Queued)]
    assert aheads == sorted(aheads, reverse=True), aheads  # never up, though the sweep
    # took the dead job off the active list a moment before it put it back on the queue
    assert painter.painted == [ORDERS[1], ORDERS[0], ORDERS[2]]  # the dead job went first again


async def test_cancelling_the_job_of_a_dead_worker_ends_it(make: MakeQueue, redis_url: str) -> None:
    client = await make()
    job = await client.submit(spec("a"))
    dying = SaqQueue.from_url(redis_url, name=NAME)
    await dying.connect()
    taken = await dying.dequeue(timeout=5)
    assert taken is not None
    taken.started, taken.attempts = now(), 1
    await taken.update(status=Status.ACTIVE)
    await dying.disconnect()  # no worker will answer saq's abort, nor sweep the job
    follow = Follow(client, job.id)
    assert await follow.next() == Started()
    assert await client.cancel(job.id)
    assert await follow.next(timeout=5) == Cancelled()  # once its heartbeat is overdue
    assert await client.job_of("a") is None
    await client.acknowledge(job.id)
    assert await client.unfinished() == []
    await client.submit(spec("a"))


# saq's queue as this backend changes it (``saq_queue``), driven by hand: jobs a worker took
# and then left in every way a worker can leave one.


@pytest.fixture
async def saq(redis_url: str) -> AsyncIterator[OurSaq]:
    queue = OurSaq(aioredis.from_url(redis_url), name=NAME, swept_error_message=SWEPT)
    queue.sweep_wait = queue.taking = 0.1
    await queue.connect()
    yield queue
    await queue.disconnect()


async def taken(saq: OurSaq, key: str, *, status: Status = Status.ACTIVE, attempts: int = 1) -> Job:
    """A job a worker took a minute ago, and never touched again (3 runs allowed)."""
    await saq.enqueue(Job(function="paint", key=key, timeout=0, heartbeat=1, retries=3))
    job = await saq.dequeue(timeout=1)  # now on the active list
    assert job is not None and job.key == key
    job.status, job.attempts = status, attempts
    job.started = job.touched = now() - 60_000
    await saq.redis.set(job.id, saq.serialize(job))
    return job


async def lists(saq: OurSaq) -> tuple[list[str], list[str]]:
    """The keys on saq's queued and active lists, front first."""
    queued = await saq.redis.lrange(saq.namespace("queued"), 0, -1)
    active = await saq.redis.lrange(saq.namespace("active"), 0, -1)
    return [saq.job_key_from_id(text(raw)) for raw in queued], [
        saq.job_key_from_id(text(raw)) for raw in active
    ]


async def test_a_dead_workers_job_goes_back_to_the_front_and_its_run_counts(
    saq: OurSaq, caplog: pytest.LogCaptureFixture
) -> None:
    dead = await taken(saq, "dead")
    await saq.enqueue(Job(function="paint", key="next", timeout=0, retries=3))
    assert await saq.sweep() == [dead.id]
    assert await lists(saq) == (["dead", "next"], [])  # first again, before the later job
    back = await saq.job("dead")
    assert back is not None and (back.status, back.error) == (Status.QUEUED, SWEPT)
    assert (back.attempts, back.retries) == (1, 3)  # a death costs the job its run
    assert [r.getMessage() for r in caplog.records if r.name == "jobqueue.redis.saq_queue"] == [
        "Job dead: its worker stopped beating; taking it back"
    ]


async def test_a_job_whose_painter_died_on_its_last_run_ends_aborted(
    saq: OurSaq, caplog: pytest.LogCaptureFixture
) -> None:
    last = await taken(saq, "last", attempts=3)
    assert await saq.sweep() == [last.id]
    assert await lists(saq) == ([], [])
    ended = await saq.job("last")
    assert ended is not None and (ended.status, ended.error) == (Status.ABORTED, SWEPT)
    assert ended.completed > 0
    assert (logging.ERROR, "Job last: its painter died on every run it had; giving up") in [
        (r.levelno, r.getMessage()) for r in caplog.records
    ]


async def test_a_job_a_worker_is_still_taking_is_left_to_it_unless_it_never_does(
    saq: OurSaq,
) -> None:
    starting = await taken(saq, "starting", status=Status.QUEUED)  # taken, not yet marked
    stuck = await taken(saq, "stuck", status=Status.QUEUED)  # its worker died taking it

    async def marks_it_active() -> None:
        await asyncio.sleep(0.05)  # within ``taking``
        await saq.update(starting, status=Status.ACTIVE)

    marking = asyncio.create_task(marks_it_active())
    assert await saq.sweep() == [stuck.id]
    await marking
    assert await lists(saq) == (["stuck"], ["starting"])
    left = await saq.job("starting")
    assert left is not None and left.status is Status.ACTIVE


async def test_a_job_whose_data_expired_is_taken_off_the_active_list(
    saq: OurSaq, caplog: pytest.LogCaptureFixture
) -> None:
    gone = await taken(saq, "gone")
    await saq.redis.delete(gone.id)  # its TTL ran out while it was on the list
    with caplog.at_level(logging.INFO, logger="jobqueue.redis.saq_queue"):
        assert await saq.sweep() == [gone.id]
    assert await lists(saq) == ([], [])
    assert await saq.redis.zscore(saq.namespace("incomplete"), gone.id) is None
    assert [r.getMessage() for r in caplog.records if r.name == "jobqueue.redis.saq_queue"] == [
        f"Swept job {gone.id}: its data expired"
    ]


async def test_a_job_handed_back_by_a_stopping_worker_keeps_its_runs(saq: OurSaq) -> None:
    handed = await taken(saq, "handed", attempts=2)
    await saq.enqueue(Job(function="paint", key="later", timeout=0, retries=3))
    heard = saq.redis.pubsub()
    await heard.subscribe(handed.id)
    await saq.retry(handed, STOPPED)
    assert await lists(saq) == (["handed", "later"], [])  # at its place: the front
    back = await saq.job("handed")
    assert back is not None and (back.attempts, back.retries) == (2, 4)  # this run is given back
    told: list[bytes] = []
    async with asyncio.timeout(2):  # and its followers hear of it
        while not told:
            message = await heard.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None:
                told.append(message["data"])
    assert told == [b"queued"]
    await heard.aclose()


async def test_unavailable_says_whether_a_worker_is_alive(make: MakeQueue) -> None:
    client = await make()
    assert client.unavailable == NO_PAINTER and "no painter is running" in NO_PAINTER
    worker = await make(FakePainter())
    assert worker.unavailable is None or worker.unavailable == NO_PAINTER

    async def ready() -> bool:
        return client.unavailable is None

    await eventually(ready)
    await worker.close()

    async def gone() -> bool:
        return client.unavailable == NO_PAINTER

    await eventually(gone, timeout=6)


async def test_a_job_waits_through_a_rolling_restart_and_says_no_painter_is_online(
    make: MakeQueue,
) -> None:
    stopping = SteppedPainter(steps=3)
    first = await make(stopping)
    client = await make()
    job = await client.submit(spec("a"))
    follow = Follow(client, job.id)
    stopping.allow()
    await follow.until(lambda e: isinstance(e, Progressed))
    await first.close()  # mid-job, and no other worker: the job waits, and says why
    assert await follow.until(lambda e: e == Queued(0, no_painter=True)) == Queued(0, True)
    assert client.unavailable == NO_PAINTER  # the health check says so meanwhile
    record = await client.get(job.id)
    assert record is not None and record.no_painter and record.state is JobState.QUEUED

    other = SteppedPainter(steps=1)
    await make(other)
    other.allow()
    events = await follow.end()
    assert isinstance(events[-1], Finished) and sum(e == Started() for e in events) == 2
    assert stopping.painted == [] and len(other.painted) == 1


async def test_a_job_without_a_painter_for_the_give_up_time_fails_once(
    make: MakeQueue, caplog: pytest.LogCaptureFixture
) -> None:
    one, two = await make(give_up_after=1.0), await make(give_up_after=1.0)  # two replicas
    job = await one.submit(spec("a", n=1))
    assert job.no_painter
    follow = Follow(two, job.id)
    assert await follow.next() == Queued(0, no_painter=True)
    events = await follow.end(timeout=5)
    assert events[1:] == [Failed(GAVE_UP.format(seconds=1.0), NO_PAINTER_CODE, {"seconds": 1.0})]
    given_up = [r for r in caplog.records if "given up" in r.getMessage()]
    assert len(given_up) == 1, given_up  # both replicas looked; one ended it
    assert await one.job_of("a") is None  # its owner may press again

    painter = SteppedPainter(steps=1)
    await make(painter)  # a painter that comes later does not paint the given-up job
    later = await one.submit(spec("b", n=2))
    painter.allow(2)
    assert isinstance((await Follow(one, later.id).end())[-1], Finished)
    assert painter.painted == [ORDERS[2]]
    record = await two.get(job.id)
    assert record is not None and record.state is JobState.FAILED
    assert record.error_code == NO_PAINTER_CODE


async def test_replicas_giving_up_on_a_job_at_the_same_instant_end_it_once(
    make: MakeQueue, caplog: pytest.LogCaptureFixture
) -> None:
    # Due at once, and looked at only when the test says: both look in the same instant.
    replicas = [await make(give_up_after=0, status_every=3600) for _ in range(3)]
    job = await replicas[0].submit(spec("a"))
    follow = Follow(replicas[1], job.id)
    assert await follow.next() == Queued(0, no_painter=True)
    await asyncio.gather(*(replica._presence.give_up_painterless() for replica in replicas))
    given_up = [r for r in caplog.records if "given up" in r.getMessage()]
    assert len(given_up) == 1, given_up
    events = await follow.end()
    assert len(events) == 2 and isinstance(events[-1], Failed)


async def test_a_submit_while_redis_is_unreachable_says_so() -> None:
    queue = RedisQueue("redis://127.0.0.1:1/0", name=NAME)
    try:
        with pytest.raises(QueueUnavailable, match="unreachable"):
            await queue.submit(spec("a"))
    finally:
        await queue.close()


# ---- stylebot-worker ----------------------------------------------------------------------


def test_the_worker_wants_a_redis_queue(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.delenv("QUEUE_URL", raising=False)
    monkeypatch.delenv("BOT_TOKEN", raising=False)  # not needed
    assert worker_main() == 2
    assert "QUEUE_URL must name the bot's Redis queue" in capsys.readouterr().err


async def test_a_stopped_worker_process_hands_its_job_back(make: MakeQueue, redis_url: str) -> None:
    painter = SteppedPainter(steps=3)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(RedisQueue(redis_url, painter, **FAST), stop))
    client = await make()
    job = await client.submit(spec("a"))
    await waited(painter.started)
    stop.set()  # as SIGTERM does
    assert await asyncio.wait_for(serving, 10) == 0
    assert painter.cancelled.is_set()
    record = await client.get(job.id)
    assert record is not None and record.state is JobState.QUEUED and record.ahead == 0


async def test_a_worker_without_redis_exits_1() -> None:
    assert await serve(RedisQueue("redis://127.0.0.1:1/0", FakePainter())) == 1


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:hunter2@db:6379/0", "redis://:***@db:6379/0"),
        ("redis://db:6379/0?password=hunter2", "redis://db:6379/0?password=***"),
        ("redis://db/0?db=1&pass%77ord=hunter%32", "redis://db/0?db=1&password=***"),
        ("redis://app:hunter2@db:6379/0", "redis://app:***@db:6379/0"),  # the user stays
        ("redis://:hunt@er2@db:6379/0", "redis://:***@db:6379/0"),  # an "@" in the password
        ("redis://db/0?password=hunter=2", "redis://db/0?password=***"),  # an "=" in it
    ],
)
def test_the_queue_never_names_its_password(url: str, shown: str):
    assert redact_url(url) == shown
    assert "hunter" not in repr(RedisQueue(url))
