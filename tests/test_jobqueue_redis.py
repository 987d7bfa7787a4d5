"""The Redis backend against a real redis-server: a client queue (the bot's side) and
in-process worker queues with test painters (``stylebot-worker``'s side), all in one loop.

The timing knobs are shrunk (heartbeat 2 s, a sweep every second) so that even the dead
worker's job comes back in seconds.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from saq.job import Status
from saq.queue import Queue as SaqQueue
from saq.utils import now

from jobqueue import (
    FAILURE_MESSAGE,
    JSON,
    KEEP_ENDED_SECONDS,
    KEEP_FILMS_SECONDS,
    NO_PAINTER_CODE,
    TERMINAL,
    AlreadyQueued,
    Cancelled,
    Failed,
    Finished,
    JobEvent,
    JobSpec,
    JobState,
    PaintCancelled,
    Painted,
    Progressed,
    ProgressInfo,
    Queued,
    QueueFull,
    QueueUnavailable,
    Report,
    Requeued,
    Started,
)
from jobqueue.logs import redact_url
from jobqueue.redis import GAVE_UP, LOST, NO_PAINTER, RESTARTING, RedisQueue
from tests.painters import CRASH, REFUSE, TOO_SMALL, FakePainter
from tests.pictures import encode, gradient, stripes
from worker.__main__ import main as worker_main
from worker.__main__ import serve

PHOTO = encode(gradient())
STYLE = encode(stripes())
NAME = "test"
FAST: dict[str, Any] = {
    "name": NAME,
    "heartbeat": 2,
    "sweep_every": 1,
    "sweep_wait": 0.5,
    "worker_info_every": 1,
    "status_every": 0.1,
    "poll_every": 0.5,
}
PNG = encode(gradient(8, 8))
# saq 0.26 calls redis-py's setex, which redis-py 8 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning")

MakeQueue = Callable[..., Awaitable[RedisQueue]]


@dataclass
class SteppedPainter:
    """Paints one step each time the test calls ``allow``; stops when cancelled."""

    steps: int = 3
    preview_at: int = 0  # the step that sends a preview (b"jpeg-N"); 0: none
    gate: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    started: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    painted: list[JSON] = field(default_factory=list)
    runs: int = 0
    film: bytes | None = None  # the making-of it returns

    def allow(self, steps: int = 1) -> None:
        self.gate.release(steps)

    def warm_up(self) -> str:
        return "stepped"

    def __call__(
        self, content: bytes, style: bytes, options: JSON, report: Report, cancel: threading.Event
    ) -> Painted:
        self.runs += 1
        self.started.set()
        for step in range(1, self.steps + 1):
            while not self.gate.acquire(timeout=0.01):
                if cancel.is_set():
                    self.cancelled.set()
                    raise PaintCancelled()
            preview = f"jpeg-{step}".encode() if step == self.preview_at else None
            report(ProgressInfo(step, self.steps, 0, 1, 0.01 * step, 0.0, preview))
        self.painted.append(options)
        return Painted(PNG, 8, 8, 0.05, making_of=self.film)


class Follow:
    """A job's events as a test reads them, each within a timeout."""

    def __init__(self, queue: RedisQueue, job_id: str) -> None:
        self.seen: list[JobEvent] = []
        self._events: AsyncIterator[JobEvent] = queue.events(job_id)

    async def next(self, timeout: float = 5.0) -> JobEvent:
        event = await asyncio.wait_for(anext(self._events), timeout)
        self.seen.append(event)
        return event

    async def until(self, wanted: Callable[[JobEvent], bool], timeout: float = 10.0) -> JobEvent:
        async with asyncio.timeout(timeout):
            while True:
                event = await self.next(timeout)
                if wanted(event):
                    return event
                assert not isinstance(event, TERMINAL), self.seen

    async def end(self, timeout: float = 10.0) -> list[JobEvent]:
        """Every event up to the terminal one; then the stream must be over."""
        await self.until(lambda event: isinstance(event, TERMINAL), timeout)
        with pytest.raises(StopAsyncIteration):
            await self.next(1.0)
        return self.seen


def spec(owner: str, content: bytes = PHOTO, **options: Any) -> JobSpec:
    return JobSpec(owner, content, STYLE, options=options, meta={"chat": owner})


async def waited(event: threading.Event, timeout: float = 5.0) -> None:
    assert await asyncio.to_thread(event.wait, timeout), "the painter never got there"


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


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


# ---- the submitter's side ---------------------------------------------------------------


async def test_submit_keeps_one_job_per_owner_and_places_only_improve(make: MakeQueue) -> None:
    client = await make(max_waiting=3)
    a, b, c = [await client.submit(spec(owner)) for owner in "abc"]
    assert [(job.state, job.ahead) for job in (a, b, c)] == [
        (JobState.QUEUED, n) for n in (0, 1, 2)
    ]
    assert len({a.id, b.id, c.id}) == 3
    with pytest.raises(AlreadyQueued) as refused:
        await client.submit(spec("a"))
    assert refused.value.record.id == a.id
    with pytest.raises(QueueFull):
        await client.submit(spec("d"))
    record = await client.get(c.id)
    assert record is not None and record.ahead == 2 and record.meta == {"chat": "c"}
    assert (await client.job_of("b")) == await client.get(b.id)
    assert await client.job_of("nobody") is None and await client.get("nonsense") is None

    follow_a, follow_c = Follow(client, a.id), Follow(client, c.id)
    assert await follow_c.next() == Queued(2, no_painter=True)  # it waits for one
    painter = SteppedPainter(steps=2)
    await make(painter)
    assert await follow_a.until(lambda e: isinstance(e, Started))
    d = await client.submit(spec("d"))  # a runs: two wait, so there is room again
    assert d.ahead == 3
    painter.allow(2)
    assert isinstance(await follow_a.until(lambda e: isinstance(e, TERMINAL)), Finished)
    # a ended and b started: one fewer ahead (the painter's arrival may show first: the
    # client sees who is online every status_every)
    moved_up = await follow_c.until(lambda e: isinstance(e, Queued) and e.ahead < 2)
    assert isinstance(moved_up, Queued) and moved_up.ahead == 1
    follow_a = Follow(client, (await client.submit(spec("a"))).id)  # a may submit again
    again = await follow_a.next()
    assert isinstance(again, Queued) and again.ahead == 3  # behind b (running), c and d
    painter.allow(8)
    events = await follow_c.end()
    places = [e.ahead for e in events if isinstance(e, Queued)]
    assert places in ([2, 1], [2, 2, 1])
    assert isinstance(events[len(places)], Started) and isinstance(events[-1], Finished)
    assert isinstance((await follow_a.end())[-1], Finished)


async def test_progress_and_previews_reach_a_client(make: MakeQueue) -> None:
    painter = SteppedPainter(steps=4, preview_at=2)
    await make(painter)
    client = await make()
    job = await client.submit(spec("a", strength="high"))
    follow = Follow(client, job.id)
    assert await follow.next() in (Queued(0), Started())
    previews = []
    for step in (1, 2, 3):
        painter.allow()
        event = await follow.until(lambda e: not isinstance(e, Started))
        assert isinstance(event, Progressed) and event.progress.step == step, follow.seen
        assert event.progress.total == 4
        previews.append(event.progress.preview)
        if step == 2:
            record = await client.get(job.id)
            assert record is not None and record.state is JobState.RUNNING
            assert record.progress is not None and record.progress.step == 2
    assert previews == [None, b"jpeg-2", None]
    assert Started() in follow.seen
    painter.allow()
    finished = (await follow.end())[-1]
    assert isinstance(finished, Finished)
    assert (finished.result.width, finished.result.height) == (8, 8)
    assert await client.result(job.id) == PNG
    assert painter.painted == [{"strength": "high"}]


async def test_cancelling_a_waiting_job_ends_it_at_once(make: MakeQueue) -> None:
    painter = SteppedPainter(steps=1)
    await make(painter)
    client = await make()
    first = await client.submit(spec("a", n=1))
    second = await client.submit(spec("b", n=2))
    await waited(painter.started)
    assert await client.cancel(second.id)
    assert await Follow(client, second.id).end(timeout=2) == [Cancelled()]
    record = await client.get(second.id)
    assert record is not None and record.state is JobState.CANCELLED
    assert not await client.cancel(second.id)
    assert await client.job_of("b") is None
    third = await client.submit(spec("b", n=3))
    painter.allow(2)
    for job in (first, third):
        assert isinstance((await Follow(client, job.id).end())[-1], Finished)
    assert painter.painted == [{"n": 1}, {"n": 3}]


async def test_cancelling_a_running_job_stops_its_painter_on_the_worker(make: MakeQueue) -> None:
    painter = SteppedPainter(steps=3)
    await make(painter)
    client = await make()
    job = await client.submit(spec("a"))
    follow = Follow(client, job.id)
    painter.allow()
    await follow.until(lambda e: isinstance(e, Progressed))
    assert await client.cancel(job.id)
    # the painter is told at once, not at saq's next look at aborted jobs (a second or two)
    await waited(painter.cancelled, timeout=0.5)
    assert await follow.next(timeout=1) == Cancelled()
    record = await client.get(job.id)
    assert record is not None and record.state is JobState.CANCELLED and record.error is None
    await asyncio.sleep(1.5)  # not started again
    assert painter.runs == 1 and await client.job_of("a") is None
    again = await client.submit(spec("a"))  # and the worker takes the next job
    painter.allow(3)
    assert isinstance((await Follow(client, again.id).end())[-1], Finished)


async def test_a_refused_picture_and_a_crash_fail_the_job(
    make: MakeQueue, caplog: pytest.LogCaptureFixture
) -> None:
    await make(FakePainter())
    client = await make()
    refused = await client.submit(spec("a", REFUSE))
    crashed = await client.submit(spec("b", CRASH))
    with caplog.at_level(logging.INFO, logger="jobqueue.redis"):
        assert (await Follow(client, refused.id).end())[-1] == Failed(
            "This image is too small (16×16).", *TOO_SMALL
        )
        assert (await Follow(client, crashed.id).end())[-1] == Failed(FAILURE_MESSAGE)
    failures = [r for r in caplog.records if r.getMessage() == f"Job {crashed.id} failed"]
    assert len(failures) == 1 and failures[0].exc_info is not None
    assert "simulated bug" in str(failures[0].exc_info[1])
    for job in (refused, crashed):
        record = await client.get(job.id)
        assert record is not None and record.state is JobState.FAILED
        assert await client.job_of(job.owner) is None
    record = await client.get(refused.id)
    assert record is not None and record.error == "This image is too small (16×16)."
    assert (record.error_code, record.error_params) == TOO_SMALL


async def test_the_result_is_kept_until_acknowledged(make: MakeQueue) -> None:
    client = await make()
    job = await client.submit(spec("a"))
    await client.acknowledge(job.id)  # a waiting job cannot be acknowledged
    assert [r.id for r in await client.unfinished()] == [job.id]
    await make(FakePainter())
    finished = (await Follow(client, job.id).end())[-1]
    assert isinstance(finished, Finished) and finished.result.width == 64
    png = await client.result(job.id)
    assert png.startswith(b"\x89PNG") and png == await client.result(job.id)
    [record] = await client.unfinished()
    assert record.state is JobState.DONE and record.result == finished.result
    await client.acknowledge(job.id)
    assert await client.unfinished() == []
    with pytest.raises(KeyError):
        await client.result(job.id)
    forgotten = await client.get(job.id)
    assert forgotten is not None and forgotten.acknowledged and forgotten.state is JobState.DONE
    for kind in ("job", "meta"):  # kept as long as the embedded queue keeps its rows
        kept = await client._redis.ttl(client._key(kind, job.id))
        assert KEEP_ENDED_SECONDS - 60 < kept <= KEEP_ENDED_SECONDS, kind


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


async def test_leases_figures_and_films(make: MakeQueue) -> None:
    painter = SteppedPainter(steps=1, film=b"GIF89a film")
    await make(painter)
    one, two = await make(), await make()  # two bot replicas on one queue
    since = time.time()
    painted, cancelled = await one.submit(spec("a")), await one.submit(spec("b"))
    assert await one.claim(painted.id, "one", 5) and await one.claim(painted.id, "one", 0.2)
    assert not await two.claim(painted.id, "two", 5)
    await asyncio.sleep(0.3)  # the renewed, shorter lease lapses
    assert await two.claim(painted.id, "two", 5)
    await one.release(painted.id, "one")  # not its lease: nothing happens
    assert not await one.claim(painted.id, "one", 5)
    await two.release(painted.id, "two")
    assert await one.claim(painted.id, "one", 5)

    await waited(painter.started)
    assert await one.cancel(cancelled.id)
    figures = await two.stats(since)
    assert (figures.waiting, figures.running, figures.workers) == (0, 1, 1)
    assert figures.outcomes == {"done": 0, "failed": 0, "cancelled": 1} and figures.durations == []
    painter.allow()
    finished = (await Follow(one, painted.id).end())[-1]
    assert isinstance(finished, Finished) and finished.result.making_of
    assert await two.making_of(painted.id) == b"GIF89a film"
    film_ttl = await two._redis.ttl(two._key("film", painted.id))  # Redis drops it on time,
    assert KEEP_FILMS_SECONDS - 60 < film_ttl <= KEEP_FILMS_SECONDS  # nothing to purge
    assert await two.making_of(cancelled.id) is None
    figures = await two.stats(since)
    assert figures.outcomes == {"done": 1, "failed": 0, "cancelled": 1}
    assert figures.durations == [0.05] and (figures.waiting, figures.running) == (0, 0)
    assert (await two.stats(time.time() + 1)).outcomes["done"] == 0


async def _state_is(queue: RedisQueue, job_id: str, state: JobState) -> bool:
    record = await queue.get(job_id)
    return record is not None and record.state is state


# ---- workers that stop, die or are missing ------------------------------------------------


async def test_a_stopped_workers_job_is_painted_by_another(make: MakeQueue) -> None:
    stopping = SteppedPainter(steps=3)
    first = await make(stopping)
    client = await make()
    job = await client.submit(spec("a", n=1))
    later = await client.submit(spec("b", n=2))
    follow = Follow(client, job.id)
    stopping.allow()
    await follow.until(lambda e: isinstance(e, Progressed))
    await first.close()  # mid-job
    assert stopping.cancelled.is_set()
    other = SteppedPainter(steps=1)
    await make(other)
    other.allow(2)
    events = await follow.end()
    requeued = events.index(Requeued(RESTARTING))
    assert events[requeued + 1] in (Queued(0), Started())  # another worker may be that quick
    assert Started() in events[requeued:] and isinstance(events[-1], Finished)
    assert isinstance((await Follow(client, later.id).end())[-1], Finished)
    await asyncio.sleep(1)  # and nothing runs twice
    assert stopping.painted == [] and other.painted == [{"n": 1}, {"n": 2}]  # back at the front


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
    assert painter.painted == [{"n": 1}, {"n": 0}, {"n": 2}]  # the dead job went first again


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
    assert painter.painted == [{"n": 2}]
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
    await asyncio.gather(*(replica._give_up_painterless() for replica in replicas))
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
    ],
)
def test_the_queue_never_names_its_password(url: str, shown: str):
    assert redact_url(url) == shown
    assert "hunter" not in repr(RedisQueue(url))
