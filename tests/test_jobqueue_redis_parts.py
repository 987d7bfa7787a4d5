"""Parts of the Redis backend that need no Redis, each on its own: a follower's reading of
successive snapshots of a job (``following.Follower``), the listener that hears every job's
changes on one connection (``notes``, with a stand-in for redis-py's pubsub), the reporter
that writes a running job's progress (``reporter``, with a stand-in for saq's job), and
whether a painter is online (``presence``, with a stand-in for the store)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from jobqueue import (
    NO_PAINTER_CODE,
    Cancelled,
    Failed,
    Finished,
    JobOrder,
    JobRecord,
    JobState,
    Progressed,
    ProgressInfo,
    Queued,
    Requeued,
    ResultInfo,
    Started,
)
from jobqueue.redis import GAVE_UP, LOST, NO_PAINTER, RESTARTING
from jobqueue.redis import notes as notes_module
from jobqueue.redis.following import Follower
from jobqueue.redis.notes import ALL, Notes, stop_task
from jobqueue.redis.presence import Presence
from jobqueue.redis.records import Keys, Snapshot
from jobqueue.redis.reporter import Reporter

# ---- a follower: the events between two looks at a job ------------------------------------

RESULT = ResultInfo(8, 8, 0.5)


def progress(step: int, total: int = 10, scale: int = 0, preview: bytes | None = None):
    return ProgressInfo(step, total, scale, 2, 0.1 * step, 1.0, preview)


def look(
    state: JobState,
    *,
    attempts: int = 0,
    ahead: int = 0,
    no_painter: bool = False,
    at: ProgressInfo | None = None,
    previews: int = 0,
    reason: str = RESTARTING,
    error: str | None = None,
) -> Snapshot:
    """One look at the job: its record as a follower reads it."""
    record = JobRecord(
        id="j1",
        owner="alice",
        state=state,
        order=JobOrder(),
        meta={},
        ahead=ahead,
        no_painter=no_painter,
        progress=at,
        error=error,
        result=RESULT if state is JobState.DONE else None,
    )
    return Snapshot(record, attempts, (attempts, previews), reason)


def test_a_waiting_job_hears_each_better_place_once_and_whether_a_painter_is_online() -> None:
    follower = Follower(look(JobState.QUEUED, ahead=3))
    assert follower.waiting
    assert follower.update(look(JobState.QUEUED, ahead=3), None) == []
    assert follower.update(look(JobState.QUEUED, ahead=2), None) == [Queued(2)]
    assert follower.update(look(JobState.QUEUED, ahead=2), None) == []
    # a moment's worse place (the sweep took a job off the active list before it put it
    # back on the queue) is not told: places only ever get better
    assert follower.update(look(JobState.QUEUED, ahead=3), None) == []
    assert follower.update(look(JobState.QUEUED, ahead=2, no_painter=True), None) == [
        Queued(2, no_painter=True)
    ]
    assert follower.update(look(JobState.QUEUED, ahead=2, no_painter=True), None) == []
    assert follower.update(look(JobState.QUEUED, ahead=2), None) == [Queued(2)]
    assert follower.update(look(JobState.QUEUED, ahead=0), None) == [Queued(0)]


def test_a_job_that_starts_is_told_started_then_each_new_step() -> None:
    follower = Follower(look(JobState.QUEUED, ahead=1))
    assert follower.update(look(JobState.RUNNING, attempts=1), None) == [Started()]
    assert not follower.waiting
    assert follower.update(look(JobState.RUNNING, attempts=1), None) == []
    first = look(JobState.RUNNING, attempts=1, at=progress(1))
    assert follower.update(first, None) == [Progressed(progress(1))]
    assert follower.update(first, None) == []  # the same report: nothing new
    later = look(JobState.RUNNING, attempts=1, at=progress(1, scale=1))  # a new scale
    assert follower.update(later, None) == [Progressed(progress(1, scale=1))]


def test_a_job_that_started_and_reported_between_two_looks_is_told_both() -> None:
    follower = Follower(look(JobState.QUEUED))
    running = look(JobState.RUNNING, attempts=1, at=progress(4))
    assert follower.update(running, None) == [Started(), Progressed(progress(4))]


def test_a_preview_is_told_once_with_the_report_it_came_with() -> None:
    follower = Follower(look(JobState.RUNNING, attempts=1, at=progress(2)))
    assert follower.steps == (0, 2, 2, 10)
    assert follower.update(look(JobState.RUNNING, attempts=1, at=progress(2)), None) == []
    with_preview = look(JobState.RUNNING, attempts=1, at=progress(2), previews=1)
    assert follower.has_new_preview(with_preview)
    assert follower.update(with_preview, b"jpeg") == [Progressed(progress(2, preview=b"jpeg"))]
    assert not follower.has_new_preview(with_preview)  # shown: not fetched again
    assert follower.update(with_preview, b"jpeg") == []
    assert not follower.has_new_preview(look(JobState.RUNNING, attempts=2))  # none yet
    assert follower.has_new_preview(look(JobState.RUNNING, attempts=2, previews=1))


def test_a_job_that_ended_between_two_looks_is_told_its_end() -> None:
    waiting = Follower(look(JobState.QUEUED))
    assert waiting.update(look(JobState.DONE, attempts=1), None) == [Started(), Finished(RESULT)]
    cancelled = Follower(look(JobState.QUEUED))  # cancelled while it waited: never started
    assert cancelled.update(look(JobState.CANCELLED), None) == [Cancelled()]
    running = Follower(look(JobState.RUNNING, attempts=1))
    failed = look(JobState.FAILED, attempts=1, error="Sorry.")
    assert running.update(failed, None) == [Failed("Sorry.")]


def test_a_job_back_on_the_queue_is_told_why_and_where() -> None:
    stopped = Follower(look(JobState.RUNNING, attempts=1, at=progress(3)))
    assert stopped.update(look(JobState.QUEUED, attempts=1, ahead=0, no_painter=True), None) == [
        Requeued(RESTARTING),
        Queued(0, no_painter=True),
    ]
    assert stopped.waiting and stopped.ahead == 0
    assert stopped.update(look(JobState.RUNNING, attempts=2), None) == [Started()]
    # it starts from the beginning: its first report is news, though the old run's was too
    assert stopped.update(look(JobState.RUNNING, attempts=2, at=progress(3)), None) == [
        Progressed(progress(3))
    ]


def test_a_job_that_ran_again_between_two_looks_is_told_it_went_back() -> None:
    waiting = Follower(look(JobState.QUEUED, attempts=1, ahead=2))
    back = look(JobState.QUEUED, attempts=2, ahead=1, reason=LOST)
    assert waiting.update(back, None) == [Requeued(LOST), Queued(1)]
    running = Follower(look(JobState.RUNNING, attempts=1, at=progress(5)))
    again = look(JobState.RUNNING, attempts=2, at=progress(1), reason=LOST)
    assert running.update(again, None) == [Requeued(LOST), Started(), Progressed(progress(1))]


# ---- the listener of every job's changes ----------------------------------------------------


class PubSub:
    """redis-py's pubsub as Notes uses it: messages handed over by the test, or failures."""

    def __init__(self) -> None:
        self.patterns: list[str] = []
        self.inbox: asyncio.Queue[dict[str, Any] | Exception | None] = asyncio.Queue()

    async def psubscribe(self, pattern: str) -> None:
        self.patterns.append(pattern)

    async def punsubscribe(self) -> None:
        pass

    async def get_message(self, timeout: float | None) -> dict[str, Any] | None:
        got = await self.inbox.get()
        if isinstance(got, Exception):
            raise got
        return got


def pmessage(channel: bytes | str, data: bytes = b"active") -> dict[str, Any]:
    return {"type": "pmessage", "pattern": b"saq:job:test:*", "channel": channel, "data": data}


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The pauses the listener takes, each a loop turn only: seconds pass in an instant."""
    taken: list[float] = []
    sleep = asyncio.sleep

    async def pause(seconds: float) -> None:
        taken.append(seconds)
        await sleep(0)

    class Asyncio:
        def __getattr__(self, name: str) -> Any:
            return pause if name == "sleep" else getattr(asyncio, name)

    monkeypatch.setattr(notes_module, "asyncio", Asyncio())
    yield taken


async def test_every_listener_hears_every_jobs_change() -> None:
    pubsub = PubSub()
    notes = Notes(pubsub, prefix="saq:job:test:")  # type: ignore[arg-type]
    one, two = await notes.subscribe(ALL), await notes.subscribe(ALL)
    try:
        pubsub.inbox.put_nowait({"type": "psubscribe", "channel": b"saq:job:test:*", "data": 1})
        pubsub.inbox.put_nowait(None)  # redis-py's "nothing this time"
        pubsub.inbox.put_nowait(pmessage(b"saq:job:test:j1"))
        pubsub.inbox.put_nowait(pmessage("saq:job:test:j2", b"complete"))
        for inbox in (one, two):
            heard = [await asyncio.wait_for(inbox.get(), 1) for _ in range(2)]
            assert [(m["channel"], m["data"]) for m in heard] == [
                ("saq:job:test:j1", b"active"),
                ("saq:job:test:j2", b"complete"),
            ]
            assert inbox.empty()
        assert pubsub.patterns == ["saq:job:test:*"]
    finally:
        await notes.close()


async def test_while_redis_is_away_the_listener_waits_longer_each_time_and_says_so_once(
    pauses: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    pubsub = PubSub()
    notes = Notes(pubsub, prefix="saq:job:test:")  # type: ignore[arg-type]
    inbox = await notes.subscribe(ALL)
    try:
        with caplog.at_level(logging.INFO, logger="jobqueue.redis.notes"):
            for _ in range(8):
                pubsub.inbox.put_nowait(RedisConnectionError("gone"))
            pubsub.inbox.put_nowait(pmessage(b"saq:job:test:j1"))
            assert (await asyncio.wait_for(inbox.get(), 1))["channel"] == "saq:job:test:j1"
            pubsub.inbox.put_nowait(OSError("gone again"))
            pubsub.inbox.put_nowait(pmessage(b"saq:job:test:j2"))
            assert (await asyncio.wait_for(inbox.get(), 1))["channel"] == "saq:job:test:j2"
        assert pauses == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 0.1]  # from scratch again
        assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
            (logging.WARNING, "Lost Redis (gone); job notifications wait for it"),
            (logging.INFO, "Redis is back"),
            (logging.WARNING, "Lost Redis (gone again); job notifications wait for it"),
            (logging.INFO, "Redis is back"),
        ]
        assert pubsub.patterns == ["saq:job:test:*"]  # redis-py subscribes again by itself
    finally:
        await notes.close()


async def test_a_subscription_that_failed_is_made_again(pauses: list[float]) -> None:
    class Refusing(PubSub):
        async def psubscribe(self, pattern: str) -> None:
            if not self.patterns:
                self.patterns.append("refused")
                raise RedisConnectionError("not yet")
            await super().psubscribe(pattern)

    pubsub = Refusing()
    notes = Notes(pubsub, prefix="saq:job:test:")  # type: ignore[arg-type]
    inbox = await notes.subscribe(ALL)
    try:
        pubsub.inbox.put_nowait(pmessage(b"saq:job:test:j1"))
        assert (await asyncio.wait_for(inbox.get(), 1))["channel"] == "saq:job:test:j1"
        assert pubsub.patterns == ["refused", "saq:job:test:*"] and pauses == [0.1]
    finally:
        await notes.close()


async def test_the_listener_stops_when_closed() -> None:
    pubsub = PubSub()
    notes = Notes(pubsub, prefix="saq:job:test:")  # type: ignore[arg-type]
    await notes.subscribe(ALL)
    task = notes._daemon_task
    assert task is not None
    await asyncio.sleep(0)  # it waits for a message
    await notes.close()
    await asyncio.wait({task}, timeout=1)
    assert task.done() and not task.cancelled()  # it returned: the cancel is its way out
    assert task.exception() is None


class Redis:
    """What ``Notes.ready`` publishes on: a probe reaches the pubsub, or is lost."""

    def __init__(self, pubsub: PubSub, *, delivers: bool) -> None:
        self.pubsub, self.delivers, self.published = pubsub, delivers, 0

    async def publish(self, channel: str, data: str) -> None:
        self.published += 1
        if self.delivers and self.published >= 2:  # the first was too early
            self.pubsub.inbox.put_nowait(pmessage(channel.encode(), data.encode()))


async def test_ready_waits_until_a_probe_comes_back() -> None:
    pubsub = PubSub()
    notes = Notes(pubsub, prefix="saq:job:test:")  # type: ignore[arg-type]
    redis = Redis(pubsub, delivers=True)
    other = await notes.subscribe(ALL)  # so that the listener outlives ready's own
    try:
        pubsub.inbox.put_nowait(pmessage(b"saq:job:test:j1"))  # not the probe: waited past
        await asyncio.wait_for(notes.ready(redis, "saq:job:test:probe:1"), 2)  # type: ignore[arg-type]
        assert redis.published == 2
        assert [(await other.get())["channel"] for _ in range(2)] == [
            "saq:job:test:j1",
            "saq:job:test:probe:1",
        ]
        assert len(notes._subscriptions[ALL]) == 1  # ready's own inbox is gone
    finally:
        await notes.close()


async def test_ready_gives_up_after_its_timeout_and_says_the_queue_polls(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pubsub = PubSub()
    notes = Notes(pubsub, prefix="saq:job:test:")  # type: ignore[arg-type]
    redis = Redis(pubsub, delivers=False)
    other = await notes.subscribe(ALL)
    try:
        ready = notes.ready(redis, "saq:job:test:probe:1", timeout=0.6)  # type: ignore[arg-type]
        await asyncio.wait_for(ready, 3)
        assert redis.published > 1  # it tried again and again meanwhile
        assert [r.getMessage() for r in caplog.records] == [
            "Job notifications did not start within 1 s; polling"
        ]
        assert len(notes._subscriptions[ALL]) == 1
    finally:
        await notes.close()
    assert other.empty()


async def test_waiting_for_a_change_ends_with_the_jobs_own_or_any_while_it_waits() -> None:
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    mine, other = {"channel": "saq:job:test:j1"}, {"channel": "saq:job:test:j2"}
    inbox.put_nowait(other)
    inbox.put_nowait(mine)
    inbox.put_nowait(other)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await Notes.wait(inbox, "saq:job:test:j1", any_job=False, timeout=5)
    assert loop.time() - began < 1 and inbox.empty()  # its own: at once, the rest read too
    inbox.put_nowait(other)
    began = loop.time()
    await Notes.wait(inbox, "saq:job:test:j1", any_job=False, timeout=0.3)
    assert loop.time() - began >= 0.3  # another job's change: not this one's
    inbox.put_nowait(other)
    loop.call_later(0.02, inbox.put_nowait, other)  # other jobs' changes come in bursts
    began = loop.time()
    await Notes.wait(inbox, "saq:job:test:j1", any_job=True, timeout=5)  # a place may move
    assert loop.time() - began < 0.5
    await asyncio.sleep(0.05)
    assert inbox.empty()  # the burst was read at once, not one look each
    inbox.put_nowait(mine)
    loop.call_later(0.02, inbox.put_nowait, other)
    await Notes.wait(inbox, "saq:job:test:j1", any_job=True, timeout=5)  # its own: no pause
    await asyncio.sleep(0.05)
    assert not inbox.empty()
    inbox.get_nowait()
    began = loop.time()
    await Notes.wait(inbox, "saq:job:test:j1", any_job=True, timeout=0.2)  # nothing comes
    assert 0.2 <= loop.time() - began < 1


async def test_stopping_a_task_cancels_it_again_if_a_cancel_is_lost() -> None:
    cancels = 0

    async def stubborn() -> None:
        nonlocal cancels
        while True:
            with contextlib.suppress(asyncio.CancelledError):  # lost, as on Python 3.11
                await asyncio.sleep(3600)
            cancels += 1
            if cancels == 2:
                return

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await asyncio.wait_for(stop_task(task), 5)
    assert task.done() and cancels == 2
    assert loop.time() - began < 1  # the second cancel half a second after the first


# ---- a running job's progress, on its way to Redis ------------------------------------------


class Beats:
    """saq's job as the reporter writes it, and our keys: every write noted, with its time."""

    key = "j1"
    attempts = 2

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.updates: list[tuple[float, dict[str, Any]]] = []
        self.previews: list[tuple[str, bytes, int]] = []
        self.failing = 0  # writes that fail next, as while Redis is away

    async def update(self, **changes: Any) -> None:
        if self.failing:
            self.failing -= 1
            raise RedisConnectionError("Redis is away")
        self.updates.append((self.loop.time(), changes))

    # the store's side
    def __call__(self, kind: str, name: str = "") -> str:
        return f"stylebot:test:{kind}:{name}"

    async def set(self, key: str, value: bytes, ex: int) -> None:
        self.previews.append((key, value, ex))


def reporter_of(beats: Beats, *, heartbeat: float, every: float = 0.1) -> Reporter:
    store = type("Store", (), {"redis": beats, "key": beats})()
    return Reporter(store, beats, beats.loop, heartbeat=heartbeat, every=every)  # type: ignore[arg-type]


async def test_a_quiet_painter_still_beats_three_times_a_heartbeat() -> None:
    beats = Beats(asyncio.get_running_loop())
    reporter = reporter_of(beats, heartbeat=0.6)  # a beat 0.2 s after the pause of 0.1 s
    await asyncio.sleep(0.75)
    await reporter.stop()
    assert len(beats.updates) >= 2
    assert all(changes == {} for _, changes in beats.updates)  # "still alive", no progress
    times = [at for at, _ in beats.updates]
    assert min(later - earlier for earlier, later in itertools.pairwise(times)) >= 0.28


async def test_reports_are_written_at_most_every_so_often_the_latest_with_its_preview() -> None:
    beats = Beats(asyncio.get_running_loop())
    reporter = reporter_of(beats, heartbeat=60, every=0.2)
    assert reporter.fraction == 0.0  # nothing reported: not nearly done
    assert "progress of j1" in {task.get_name() for task in asyncio.all_tasks()}
    reporter.report(progress(1))
    reporter.report(progress(2, preview=b"jpeg-2"))
    await asyncio.sleep(0.05)
    assert reporter.fraction == 0.2
    reporter.report(progress(3))  # while the pause after the first write runs
    reporter.report(progress(4, preview=b"jpeg-4"))
    await asyncio.sleep(0.3)
    await reporter.stop()
    written = [changes for _, changes in beats.updates]
    assert written == [
        {"progress": 0.2, "meta": {"progress": progress(2).to_json(), "attempt": 2, "preview": 1}},
        {"progress": 0.4, "meta": {"progress": progress(4).to_json(), "attempt": 2, "preview": 2}},
    ]
    assert beats.updates[1][0] - beats.updates[0][0] >= 0.2
    assert beats.previews == [
        ("stylebot:test:preview:j1", b"jpeg-2", 3600),
        ("stylebot:test:preview:j1", b"jpeg-4", 3600),
    ]
    assert reporter.fraction == 0.4


async def test_stopping_writes_the_last_report_only_when_asked_to_flush() -> None:
    for flush in (True, False, None):  # None: as stop() is called most often
        beats = Beats(asyncio.get_running_loop())
        reporter = reporter_of(beats, heartbeat=60, every=5)
        reporter.report(progress(1))
        await asyncio.sleep(0.05)  # written; the pause after it runs
        reporter.report(progress(10, preview=b"jpeg-10"))
        await asyncio.sleep(0)
        began = beats.loop.time()
        await (reporter.stop() if flush is None else reporter.stop(flush=flush))
        assert beats.loop.time() - began < 1  # the pause is cut short
        steps = [json.loads(c["meta"]["progress"])["step"] for _, c in beats.updates]
        assert steps == ([1, 10] if flush else [1]), flush
        assert len(beats.previews) == (1 if flush else 0)
        await reporter.stop(flush=True)  # again: already stopped, nothing more is written
        assert len(beats.updates) == (2 if flush else 1)


async def test_a_write_that_fails_is_logged_and_the_next_one_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    beats = Beats(asyncio.get_running_loop())
    beats.failing = 1
    reporter = reporter_of(beats, heartbeat=0.3, every=0.05)  # a beat every 0.1 s
    reporter.report(progress(1))
    await asyncio.sleep(0.25)
    await reporter.stop()
    assert [r.getMessage() for r in caplog.records] == ["Job j1: progress not saved: Redis is away"]
    assert beats.updates and beats.updates[0][1] == {}  # the next beat got through


# ---- whether a painter is online, and jobs nobody paints ------------------------------------


class Saq:
    """saq's queue as ``Presence`` asks it: who works, and aborting a job."""

    def __init__(self) -> None:
        self.workers: dict[str, object] = {}
        self.away: RedisConnectionError | None = None
        self.jobs: dict[str, object] = {}
        self.aborted: list[tuple[object, str]] = []

    async def info(self) -> dict[str, object]:
        if self.away is not None:
            raise self.away
        return {"workers": self.workers}

    async def job(self, job_id: str) -> object | None:
        return self.jobs.get(job_id)

    async def abort(self, job: object, error: str) -> None:
        self.aborted.append((job, error))


class Jobs:
    """The store as ``Presence`` reads it: waiting jobs by submission time, each ended once."""

    def __init__(self) -> None:
        self.saq = Saq()
        self.redis = self
        self.key = Keys("stylebot:test")
        self.unavailable: str | None = NO_PAINTER
        self.submitted: dict[str, float] = {}
        self.states: dict[str, JobState] = {}
        self.ended: dict[str, Failed] = {}
        self.broken = False

    async def zrangebyscore(self, key: str, low: str, high: float) -> list[bytes]:
        assert key == "stylebot:test:jobs"
        if self.broken:
            raise RedisConnectionError("Redis is away")
        due = sorted((at, job_id) for job_id, at in self.submitted.items() if at <= high)
        return [job_id.encode() for _, job_id in due]

    async def snapshot(self, job_id: str) -> Snapshot | None:
        state = self.states.get(job_id)
        return None if state is None else look(state)

    async def conclude(self, job_id: str, owner: str, ending: Failed) -> bool:
        assert owner == "alice"
        if job_id in self.ended:
            return False
        self.ended[job_id] = ending
        return True


def presence_of(jobs: Jobs, give_up_after: float) -> Presence:
    return Presence(jobs, "redis://db:6379/0", give_up_after=give_up_after)  # type: ignore[arg-type]


async def test_the_queue_says_whether_a_painter_is_online_or_redis_is_away() -> None:
    jobs = Jobs()
    presence = presence_of(jobs, give_up_after=60)
    said = []
    looks: list[tuple[dict[str, object], str | None]] = [
        ({}, None),
        ({"worker-1": {}}, None),
        ({}, "Connection refused"),
    ]
    for workers, away in looks:
        jobs.saq.workers = workers
        jobs.saq.away = None if away is None else RedisConnectionError(away)
        await presence.refresh()
        said.append(jobs.unavailable)
    jobs.submitted, jobs.states = {"old": time.time() - 3600}, {"old": JobState.QUEUED}
    await presence.give_up_painterless()  # Redis away: who knows whether a painter is
    assert jobs.ended == {}
    assert said == [
        NO_PAINTER,
        None,
        "Redis at redis://db:6379/0 is unreachable: Connection refused",
    ]


async def test_jobs_waiting_longer_than_the_give_up_time_without_a_painter_fail_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    jobs = Jobs()
    presence = presence_of(jobs, give_up_after=600)
    now = time.time()
    # oldest first: running, gone (its keys expired), taken (another replica ended it)
    jobs.submitted = {"running": now - 990, "gone": now - 980, "taken": now - 970}
    jobs.submitted |= {"old": now - 900, "new": now}
    jobs.states = {"old": JobState.QUEUED, "running": JobState.RUNNING, "new": JobState.QUEUED}
    jobs.states["taken"] = JobState.QUEUED
    jobs.ended["taken"] = Failed("by another replica")
    jobs.saq.jobs = {"old": "saq's job"}
    await presence.give_up_painterless()  # no look yet: nobody knows since when
    await presence.refresh()  # none online: counted from now
    await presence.give_up_painterless()
    assert list(jobs.ended) == ["taken"]  # not without one for long enough yet
    presence._painterless_since = now - 601  # as if it had looked ten minutes ago
    await presence.give_up_painterless()
    failed = Failed(GAVE_UP.format(seconds=600), NO_PAINTER_CODE, {"seconds": 600})
    assert failed.reason.startswith("No painter came online for 600 s")
    assert jobs.ended == {"taken": Failed("by another replica"), "old": failed}
    assert jobs.saq.aborted == [("saq's job", failed.reason)]
    assert [r.getMessage() for r in caplog.records] == ["Job old given up: no painter for 600 s"]
    await presence.give_up_painterless()  # ended already (here or by another replica)
    assert len(jobs.saq.aborted) == 1 and len(caplog.records) == 1
    jobs.saq.workers = {"worker-1": {}}
    await presence.refresh()  # a painter came: nothing is given up any more
    jobs.states["new"], jobs.submitted["new"] = JobState.QUEUED, now - 900
    await presence.give_up_painterless()
    assert list(jobs.ended) == ["taken", "old"]


async def test_watching_looks_again_and_again_and_survives_redis_going_away(
    caplog: pytest.LogCaptureFixture,
) -> None:
    jobs = Jobs()
    jobs.broken = True
    presence = presence_of(jobs, give_up_after=0)
    watching = asyncio.create_task(presence.watch(0.01))
    try:
        async with asyncio.timeout(3):
            while len(caplog.records) < 2:
                await asyncio.sleep(0.01)
    finally:
        await stop_task(watching)
    assert jobs.unavailable == NO_PAINTER
    assert {r.getMessage() for r in caplog.records} == {
        "Could not look for jobs waiting without a painter: Redis is away"
    }


async def test_by_default_progress_reaches_redis_several_times_a_second() -> None:
    beats = Beats(asyncio.get_running_loop())
    store = type("Store", (), {"redis": beats, "key": beats})()
    reporter = Reporter(store, beats, beats.loop, heartbeat=60)  # type: ignore[arg-type]
    for step in range(1, 26):  # a step every 20 ms for half a second
        reporter.report(progress(step, total=25))
        await asyncio.sleep(0.02)
    await reporter.stop()
    assert len(beats.updates) >= 3
