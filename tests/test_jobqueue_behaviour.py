"""What every backend of the job queue promises, checked once against each: the embedded
queue (SQLite, its painter in this process) and the Redis queue (a real redis-server, a
client queue for the bot and a worker queue for the painter, in one loop).

Each test gets ``queue`` (the bot's side) and ``painter`` (a SteppedPainter: a job moves a
step only when the test allows one); the few that make a painter die or restart get
``backend``, which knows how that is done to its kind of queue.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Protocol

import pytest

from jobqueue import (
    FAILURE_MESSAGE,
    AlreadyQueued,
    Cancelled,
    Failed,
    Finished,
    JobQueue,
    JobState,
    Progressed,
    Queued,
    QueueFull,
    Requeued,
    Started,
)
from jobqueue.embedded import EmbeddedQueue
from jobqueue.policy import MAX_ATTEMPTS, RESTARTING
from jobqueue.redis import RedisQueue
from jobqueue.redis.reporter import Reporter
from tests.painters import CRASH, PNG, REFUSE, TOO_SMALL, SteppedPainter
from tests.queues import FAST, ORDERS, Follow, eventually, spec, waited

MAX_WAITING = 3
FILM = b"GIF89a film"
# saq 0.26 calls redis-py's setex, which redis-py 8 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning")


class Backend(Protocol):
    """One kind of queue as the tests drive it."""

    @property
    def queue(self) -> JobQueue:
        """The bot's side (a new one after an embedded queue's restart)."""
        ...

    @property
    def painter(self) -> SteppedPainter: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def painter_dies(self) -> None:
        """The painter's process dies in the middle of the run under way (waited for): no
        ending, no hand-back. Returns once the job runs again, or has failed for good."""

    async def painter_restarts(self) -> None:
        """The painter stops in the middle of the run under way (waited for), handing the
        job back, and a painter starts again."""


class Embedded:
    """The embedded queue: its painter is this process, so a death is a crash of the queue."""

    def __init__(self, data_dir: Path, painter: SteppedPainter) -> None:
        self.data_dir = data_dir
        self.painter = painter
        self.queue: EmbeddedQueue = self._new()

    def _new(self) -> EmbeddedQueue:
        return EmbeddedQueue(self.data_dir, self.painter, max_waiting=MAX_WAITING)

    async def start(self) -> None:
        await self.queue.start()

    async def close(self) -> None:
        await self.queue.close()

    async def painter_dies(self) -> None:
        await waited(self.painter.started)
        self.painter.started.clear()
        await _as_if_killed(self.queue)
        await waited(self.painter.cancelled)  # the old run's thread is gone too
        self.painter.cancelled.clear()
        self.queue = self._new()  # the bot starts again, on the same DATA_DIR
        await self.queue.start()
        await _runs_again_or_failed(self.queue, self.painter)

    async def painter_restarts(self) -> None:
        await waited(self.painter.started)
        self.painter.started.clear()
        await self.queue.close()
        self.queue = self._new()
        await self.queue.start()


class Redis:
    """A client queue (the bot) and a worker queue with the painter (``stylebot-worker``)."""

    def __init__(self, url: str, painter: SteppedPainter, monkeypatch: pytest.MonkeyPatch):
        self.url = url
        self.painter = painter
        self.queue: RedisQueue = RedisQueue(url, max_waiting=MAX_WAITING, **FAST)
        self.worker = RedisQueue(url, painter, **FAST)
        self._monkeypatch = monkeypatch

    async def start(self) -> None:
        await self.queue.start()
        await self.worker.start()

        async def painter_online() -> bool:
            return self.queue.unavailable is None

        await eventually(painter_online)

    async def close(self) -> None:
        await self.worker.close()
        await self.queue.close()

    async def painter_dies(self) -> None:
        """As seen from Redis, a dead worker is one that stops beating: the sweep takes its
        job back (the worker is still here, as one presumed dead may be, and stops it)."""
        await waited(self.painter.started)
        reporter = self.worker._painting._reporter if self.worker._painting else None
        assert isinstance(reporter, Reporter)

        async def silence() -> None:
            pass

        self._monkeypatch.setattr(reporter, "_write", silence)
        self.painter.started.clear()
        await waited(self.painter.cancelled, timeout=10)
        self.painter.cancelled.clear()
        await _runs_again_or_failed(self.queue, self.painter)

    async def painter_restarts(self) -> None:
        await waited(self.painter.started)
        self.painter.started.clear()
        await self.worker.close()
        self.worker = RedisQueue(self.url, self.painter, **FAST)
        await self.worker.start()


async def _as_if_killed(queue: EmbeddedQueue) -> None:
    """Leave ``queue`` as a SIGKILL would: its tasks stop where they are, nothing more is
    written, and the painter's thread is let go (the process is gone)."""
    stops = list(queue._cancels.values())
    tasks = [task for task in (queue._worker, queue._purger) if task is not None]
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks)
    for stop in stops:
        stop.set()
    queue._store.close()


async def _runs_again_or_failed(queue: JobQueue, painter: SteppedPainter) -> None:
    async def settled() -> bool:
        if painter.started.is_set():
            return True
        return any(record.state is JobState.FAILED for record in await queue.unfinished())

    await eventually(settled, timeout=10)


@pytest.fixture(params=["embedded", "redis"])
async def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Backend]:
    painter = SteppedPainter()
    chosen: Backend
    if request.param == "embedded":
        chosen = Embedded(tmp_path, painter)
    else:
        chosen = Redis(request.getfixturevalue("redis_url"), painter, monkeypatch)
    await chosen.start()
    try:
        yield chosen
    finally:
        chosen.painter.allow(1000)  # nothing waits on the gate at the end
        await chosen.close()


@pytest.fixture
def queue(backend: Backend) -> JobQueue:
    return backend.queue


@pytest.fixture
def painter(backend: Backend) -> SteppedPainter:
    return backend.painter


# ---- submitting ---------------------------------------------------------------------------


async def test_a_job_is_found_by_its_id_and_by_its_owner(
    queue: JobQueue, painter: SteppedPainter
) -> None:
    record = await queue.submit(spec("alice", n=1))
    assert (record.owner, record.state, record.ahead) == ("alice", JobState.QUEUED, 0)
    assert (record.order, record.meta) == (ORDERS[1], {"chat": "alice"})
    await waited(painter.started)
    found = await queue.get(record.id)
    assert found is not None and found.id == record.id and found.state is JobState.RUNNING
    assert (found.order, found.meta) == (ORDERS[1], {"chat": "alice"})
    assert await queue.job_of("alice") == found
    assert await queue.job_of("nobody") is None
    assert await queue.get("nonsense") is None and await queue.get("12345") is None


async def test_an_owner_has_one_job_at_a_time(queue: JobQueue, painter: SteppedPainter) -> None:
    first = await queue.submit(spec("alice"))
    with pytest.raises(AlreadyQueued) as again:
        await queue.submit(spec("alice"))
    assert again.value.record.id == first.id
    await waited(painter.started)
    with pytest.raises(AlreadyQueued):  # running counts too
        await queue.submit(spec("alice"))
    painter.allow(3)
    assert isinstance((await Follow(queue, first.id).end())[-1], Finished)
    assert await queue.job_of("alice") is None
    second = await queue.submit(spec("alice"))  # once it is over, the owner may again
    assert second.id != first.id


async def test_a_full_queue_refuses_a_job_and_the_running_one_does_not_count(
    queue: JobQueue, painter: SteppedPainter
) -> None:
    running = await queue.submit(spec("a"))
    await waited(painter.started)
    waiting = [await queue.submit(spec(owner)) for owner in "bcd"]
    with pytest.raises(QueueFull):
        await queue.submit(spec("e"))
    assert await queue.job_of("e") is None
    painter.allow(3)
    assert isinstance((await Follow(queue, running.id).end())[-1], Finished)
    await Follow(queue, waiting[0].id).until(lambda event: event == Started())
    await queue.submit(spec("e"))  # one fewer waits: room again


async def test_places_in_the_queue_only_get_better(
    queue: JobQueue, painter: SteppedPainter
) -> None:
    painter.steps = 1
    first = await queue.submit(spec("a"))
    await waited(painter.started)
    second, third, last = [await queue.submit(spec(owner)) for owner in "bcd"]
    assert [job.ahead for job in (second, third, last)] == [1, 2, 3]
    follow = Follow(queue, last.id)
    assert await follow.next() == Queued(3)
    for job, place in ((first, 2), (second, 1)):
        painter.allow()
        assert isinstance((await Follow(queue, job.id).end())[-1], Finished)
        assert await follow.until(Queued(place).__eq__)
    record = await queue.get(last.id)
    assert record is not None and (record.state, record.ahead) == (JobState.QUEUED, 1)
    painter.allow(2)
    events = await follow.end()
    places = [event.ahead for event in events if isinstance(event, Queued)]
    assert places == sorted(places, reverse=True) and places[:3] == [3, 2, 1], places
    assert Started() in events and isinstance(events[-1], Finished)


# ---- following ----------------------------------------------------------------------------


async def test_a_follower_hears_the_start_each_step_with_its_preview_and_the_end(
    queue: JobQueue, painter: SteppedPainter
) -> None:
    painter.steps, painter.preview_at = 4, 2
    job = await queue.submit(spec("a", n=8))
    follow = Follow(queue, job.id)
    assert await follow.next() in (Queued(0), Started())
    previews = []
    for step in (1, 2, 3):
        painter.allow()
        event = await follow.until(lambda e: not isinstance(e, Started))
        assert isinstance(event, Progressed) and event.progress.step == step, follow.seen
        assert event.progress.total == 4
        previews.append(event.progress.preview)
        if step == 2:
            record = await queue.get(job.id)
            assert record is not None and record.state is JobState.RUNNING
            assert record.progress is not None and record.progress.step == 2
    assert previews == [None, b"jpeg-2", None]
    painter.allow()
    events = await follow.end()
    kinds = [type(event) for event in events]
    started = kinds.index(Started)
    assert set(kinds[:started]) <= {Queued} and kinds[-1] is Finished
    assert set(kinds[started + 1 : -1]) == {Progressed}
    finished = events[-1]
    assert isinstance(finished, Finished) and (finished.result.width, finished.result.height) == (
        8,
        8,
    )
    assert painter.painted == [ORDERS[8]]  # the order reached the painter
    assert await Follow(queue, job.id).end() == [finished]  # a follower after the end
    record = await queue.get(job.id)
    assert record is not None and record.progress is None  # progress is for running jobs


async def test_a_follower_that_leaves_does_not_deafen_the_others(
    queue: JobQueue, painter: SteppedPainter
) -> None:
    painter.steps = 1
    job = await queue.submit(spec("a"))
    leaving, staying = queue.events(job.id), Follow(queue, job.id)
    assert await anext(leaving) in (Queued(0), Started())
    assert await staying.next() in (Queued(0), Started())
    assert isinstance(leaving, AsyncGenerator)
    await leaving.aclose()  # e.g. a chat that stopped following the job
    painter.allow()
    assert isinstance((await staying.end())[-1], Finished)


# ---- cancelling ---------------------------------------------------------------------------


async def test_cancelling_a_waiting_job_ends_it_at_once(
    queue: JobQueue, painter: SteppedPainter
) -> None:
    painter.steps = 1
    first = await queue.submit(spec("a", n=1))
    await waited(painter.started)
    second = await queue.submit(spec("b", n=2))
    assert await queue.cancel(second.id)
    assert await Follow(queue, second.id).end(timeout=2) == [Cancelled()]
    record = await queue.get(second.id)
    assert record is not None and record.state is JobState.CANCELLED and record.error is None
    assert not await queue.cancel(second.id)
    assert await queue.job_of("b") is None and await queue.making_of(second.id) is None
    third = await queue.submit(spec("b", n=3))
    painter.allow(2)
    for job in (first, third):
        assert isinstance((await Follow(queue, job.id).end())[-1], Finished)
    assert painter.painted == [ORDERS[1], ORDERS[3]]


async def test_a_waiting_job_hears_its_cancel_and_the_one_ahead_hears_no_news(
    queue: JobQueue, painter: SteppedPainter
) -> None:
    painter.steps = 1
    first = await queue.submit(spec("a", n=1))
    await waited(painter.started)
    second, third = await queue.submit(spec("b", n=2)), await queue.submit(spec("c", n=3))
    ahead, behind = Follow(queue, second.id), Follow(queue, third.id)
    assert (await ahead.next(), await behind.next()) == (Queued(1), Queued(2))
    assert await queue.cancel(third.id)
    assert await behind.next(timeout=2) == Cancelled()
    painter.allow(2)
    assert isinstance((await Follow(queue, first.id).end())[-1], Finished)
    events = await ahead.end()
    places = [event.ahead for event in events if isinstance(event, Queued)]
    assert places == sorted(set(places), reverse=True), events  # each place told once


async def test_cancelling_a_running_job_stops_its_painter_within_a_step(
    queue: JobQueue, painter: SteppedPainter
) -> None:
    job = await queue.submit(spec("a"))
    follow = Follow(queue, job.id)
    painter.allow()
    await follow.until(lambda e: isinstance(e, Progressed))
    assert await queue.cancel(job.id)
    await waited(painter.cancelled, timeout=0.5)  # at once, not at the next look for aborts
    assert await follow.next(timeout=2) == Cancelled()
    record = await queue.get(job.id)
    assert record is not None and record.state is JobState.CANCELLED and record.error is None
    assert not await queue.cancel(job.id)
    await asyncio.sleep(1)  # and it does not start again
    assert painter.runs == 1 and await queue.job_of("a") is None
    again = await queue.submit(spec("a"))  # the painter takes the next job
    painter.allow(3)
    assert isinstance((await Follow(queue, again.id).end())[-1], Finished)


# ---- endings ----------------------------------------------------------------------------


async def test_a_refused_picture_says_why_and_a_crash_apologises(
    queue: JobQueue, painter: SteppedPainter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="jobqueue"):
        refused = await queue.submit(spec("a", REFUSE))
        crashed = await queue.submit(spec("b", CRASH))
        assert (await Follow(queue, refused.id).end())[-1] == Failed(
            "This image is too small (16×16).", *TOO_SMALL
        )
        assert (await Follow(queue, crashed.id).end())[-1] == Failed(FAILURE_MESSAGE)
    failures = [r for r in caplog.records if r.getMessage() == f"Job {crashed.id} failed"]
    assert len(failures) == 1 and failures[0].exc_info is not None  # for the operator
    assert "simulated bug" in str(failures[0].exc_info[1])
    record = await queue.get(refused.id)  # the code and its numbers are kept with the job
    assert record is not None and record.state is JobState.FAILED
    assert record.error == "This image is too small (16×16)."
    assert (record.error_code, record.error_params) == TOO_SMALL
    record = await queue.get(crashed.id)
    assert record is not None and record.state is JobState.FAILED
    assert (record.error, record.error_code) == (FAILURE_MESSAGE, None)
    assert await queue.job_of("a") is None and await queue.job_of("b") is None
    painter.steps = 1
    after = await queue.submit(spec("a"))  # the queue goes on
    painter.allow()
    assert isinstance((await Follow(queue, after.id).end())[-1], Finished)


async def test_the_picture_is_kept_until_acknowledged_and_its_film_after(
    queue: JobQueue, painter: SteppedPainter
) -> None:
    painter.steps, painter.film = 1, FILM
    job = await queue.submit(spec("a"))
    await queue.annotate(job.id, message=99)
    await queue.annotate("nonsense", message=1)  # nothing to note it on
    await queue.acknowledge(job.id)  # a job not yet over cannot be acknowledged
    assert [record.id for record in await queue.unfinished()] == [job.id]
    painter.allow()
    finished = (await Follow(queue, job.id).end())[-1]
    assert isinstance(finished, Finished) and finished.result.making_of
    assert await queue.result(job.id) == PNG and await queue.result(job.id) == PNG
    assert await queue.making_of(job.id) == FILM
    [record] = await queue.unfinished()
    assert (record.id, record.state, record.result) == (job.id, JobState.DONE, finished.result)
    assert record.meta == {"chat": "a", "message": 99} and not record.acknowledged

    await queue.acknowledge(job.id)
    assert await queue.unfinished() == []
    with pytest.raises(KeyError, match=f"job {job.id} has no result to hand over"):
        await queue.result(job.id)
    assert await queue.making_of(job.id) == FILM  # its button works after the delivery
    kept = await queue.get(job.id)
    assert kept is not None and kept.acknowledged and kept.state is JobState.DONE
    with pytest.raises(KeyError):
        await queue.result("nonsense")
    assert await queue.making_of("nonsense") is None


# ---- painters that die or stop ------------------------------------------------------------


async def test_a_job_whose_painter_dies_each_run_fails_after_max_attempts(
    backend: Backend,
) -> None:
    job = await backend.queue.submit(spec("a"))
    for _ in range(3):  # three runs at most (docs/operations.md), not MAX_ATTEMPTS whatever it is
        await backend.painter_dies()
    queue, painter = backend.queue, backend.painter
    assert await Follow(queue, job.id).end() == [Failed(FAILURE_MESSAGE)]
    record = await queue.get(job.id)
    assert record is not None and (record.state, record.error) == (
        JobState.FAILED,
        FAILURE_MESSAGE,
    )
    assert painter.runs == 3 and painter.painted == []
    assert await queue.job_of("a") is None
    painter.steps = 1
    again = await queue.submit(spec("a"))  # the owner may try again; the queue goes on
    painter.allow()
    assert isinstance((await Follow(queue, again.id).end())[-1], Finished)


async def test_a_painter_that_stops_hands_its_job_back_at_its_place(backend: Backend) -> None:
    job = await backend.queue.submit(spec("a", n=1))
    later = await backend.queue.submit(spec("b", n=2))
    follow = Follow(backend.queue, job.id)
    assert await follow.next() in (Queued(0), Started())
    await backend.painter_restarts()
    assert await follow.until(lambda e: isinstance(e, Requeued)) == Requeued(RESTARTING)
    after = await follow.next()  # where it is now: back at the front, or painted again
    assert after == Started() or (isinstance(after, Queued) and after.ahead == 0), after
    queue, painter = backend.queue, backend.painter
    painter.allow(6)
    for each in (job, later):
        assert isinstance((await Follow(queue, each.id).end())[-1], Finished)
    assert painter.runs == 3 and painter.painted == [ORDERS[1], ORDERS[2]]  # first again


async def test_stops_cost_a_job_none_of_its_attempts(backend: Backend) -> None:
    job = await backend.queue.submit(spec("a"))
    for _ in range(MAX_ATTEMPTS):  # as many stops as a job may have deaths
        await backend.painter_restarts()
    await backend.painter_dies()  # and a death after them still leaves it a run
    backend.painter.allow(3)
    assert isinstance((await Follow(backend.queue, job.id).end())[-1], Finished)
    assert backend.painter.runs == MAX_ATTEMPTS + 2


# ---- for the operator -------------------------------------------------------------------


async def test_the_figures_count_endings_and_painting_times(
    queue: JobQueue, painter: SteppedPainter
) -> None:
    since = time.time()
    painter.steps = 1
    painted, cancelled = await queue.submit(spec("a")), await queue.submit(spec("b"))
    await waited(painter.started)
    assert await queue.cancel(cancelled.id)
    figures = await queue.stats(since)
    assert (figures.waiting, figures.running, figures.workers) == (0, 1, 1)
    assert figures.outcomes == {"done": 0, "failed": 0, "cancelled": 1} and figures.durations == []
    painter.allow()
    assert isinstance((await Follow(queue, painted.id).end())[-1], Finished)
    figures = await queue.stats(since)
    assert figures.outcomes == {"done": 1, "failed": 0, "cancelled": 1}
    assert figures.durations == [0.05] and (figures.waiting, figures.running) == (0, 0)
    assert (await queue.stats(time.time() + 1)).outcomes["done"] == 0


async def test_a_lease_on_reporting_a_job_keeps_other_holders_out_until_it_lapses(
    queue: JobQueue,
) -> None:
    job = await queue.submit(spec("a"))
    await queue.release(job.id, "one")  # it holds nothing yet: nothing happens
    assert await queue.claim(job.id, "one", 5) and await queue.claim(job.id, "one", 0.2)
    assert not await queue.claim(job.id, "two", 5)
    await asyncio.sleep(0.3)  # the renewed, shorter lease lapses
    assert await queue.claim(job.id, "two", 5)
    await queue.release(job.id, "one")  # not its lease: nothing happens
    assert not await queue.claim(job.id, "one", 5)
    await queue.release(job.id, "two")
    assert await queue.claim(job.id, "one", 5)
