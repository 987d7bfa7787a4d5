"""The embedded queue (SQLite under DATA_DIR) with a painter that needs no PyTorch.

What every backend promises is checked in test_jobqueue_behaviour.py; here is what only the
embedded queue does: the process that restarts (or is killed) with its painter, the purge
that keeps DATA_DIR small, and a painter that cannot start."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from jobqueue import (
    FAILURE_MESSAGE,
    KEEP_ENDED_SECONDS,
    KEEP_FILMS_SECONDS,
    Failed,
    Finished,
    JobEvent,
    JobOrder,
    JobRecord,
    JobSpec,
    JobState,
    PaintCancelled,
    Painted,
    Progressed,
    QueueUnavailable,
    Report,
    Requeued,
    ResultInfo,
    Started,
)
from jobqueue.embedded import DATABASE, EmbeddedQueue, upkeep
from jobqueue.embedded.store import Store
from jobqueue.logs import current_job
from jobqueue.policy import MAX_ATTEMPTS
from tests.painters import FakePainter, SteppedPainter
from tests.pictures import encode, gradient, stripes

REPO = Path(__file__).resolve().parents[1]


def spec(owner: str = "alice", content: bytes | None = None, **meta: object) -> JobSpec:
    content = encode(gradient(48, 32)) if content is None else content
    return JobSpec(owner, content, encode(stripes(32, 32)), JobOrder(), dict(meta))


async def collect(events: AsyncIterator[JobEvent], timeout: float = 10) -> list[JobEvent]:
    async def drain() -> list[JobEvent]:
        return [event async for event in events]

    return await asyncio.wait_for(drain(), timeout)


async def first(events: AsyncIterator[JobEvent], kind: type[JobEvent]) -> JobEvent:
    async for event in events:
        if isinstance(event, kind):
            return event
    raise AssertionError(f"no {kind.__name__} event")


async def test_a_stop_mid_job_puts_it_back_and_the_next_start_paints_it(tmp_path: Path):
    gate = threading.Event()
    painter = FakePainter(gate=gate)
    jobs = EmbeddedQueue(tmp_path, painter)
    await jobs.start()
    record = await jobs.submit(spec("a", chat=7))
    await jobs.annotate(record.id, progress_message=99)
    follow = asyncio.create_task(first(jobs.events(record.id), Requeued))
    await asyncio.to_thread(painter.started.wait, 5)
    await jobs.close()
    assert isinstance(await asyncio.wait_for(follow, 5), Requeued)  # not an end: it waits
    assert painter.painted == []

    again = EmbeddedQueue(tmp_path, FakePainter())
    await again.start()
    try:
        (pending,) = await again.unfinished()
        assert pending.id == record.id and pending.meta == {"chat": 7, "progress_message": 99}
        assert isinstance((await collect(again.events(record.id)))[-1], Finished)
    finally:
        await again.close()


KILLED_PROCESS = textwrap.dedent(
    """
    import asyncio, sys, threading
    from pathlib import Path
    from jobqueue.embedded import EmbeddedQueue
    from jobqueue import JobSpec
    from tests.painters import FakePainter
    from tests.pictures import encode, gradient

    async def main():
        painter = FakePainter(gate=threading.Event())  # never opens: the first job hangs
        jobs = EmbeddedQueue(Path(sys.argv[1]), painter)
        await jobs.start()
        for owner in ("first", "second", "third"):
            await jobs.submit(JobSpec(owner, encode(gradient(40, 30)), encode(gradient(30, 30))))
        await asyncio.to_thread(painter.started.wait)
        print("painting", flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


@pytest.mark.slow
async def test_after_a_sigkill_every_job_is_painted_once_in_its_order(tmp_path: Path):
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_PROCESS, str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stdout is not None
    assert await asyncio.to_thread(process.stdout.readline) == "painting\n"
    process.send_signal(signal.SIGKILL)
    process.wait()

    painter = FakePainter()
    jobs = EmbeddedQueue(tmp_path, painter)
    await jobs.start()
    try:
        pending = await jobs.unfinished()
        assert [r.owner for r in pending] == ["first", "second", "third"]
        for record in pending:
            assert isinstance((await collect(jobs.events(record.id)))[-1], Finished)
        assert len(painter.painted) == 3  # each once, the interrupted one included
    finally:
        await jobs.close()


# ---- the table of jobs on its own ---------------------------------------------------------

#: The jobs table as the first versions made it: no films, no error codes, no auto-vacuum.
OLD_SCHEMA = """
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, state TEXT NOT NULL,
    options TEXT NOT NULL, meta TEXT NOT NULL, content BLOB, style BLOB, result BLOB,
    result_info TEXT, error TEXT, attempts INTEGER NOT NULL DEFAULT 0,
    acknowledged INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL, ended REAL
);
INSERT INTO jobs (owner, state, options, meta, error, created, ended)
    VALUES ('alice', 'failed', '{"preserve_colors": true}', '{"chat": 7}', 'Sorry.', 1, 2);
"""


def test_a_data_dir_from_an_older_version_is_brought_up_to_date_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "data" / DATABASE
    path.parent.mkdir()
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    old.close()
    store = Store(path, time.time)
    with caplog.at_level(logging.INFO, logger="jobqueue.embedded.store"):
        store.open()
    try:
        assert [r.getMessage() for r in caplog.records] == [
            f"Rewriting {path} once so that it can shrink (incremental auto-vacuum)"
        ]
        assert tuple(store.one("PRAGMA auto_vacuum")) == (2,)  # incremental: see upkeep
        columns = {row["name"] for row in store.db.execute("PRAGMA table_info(jobs)")}
        assert {"making_of", "error_code", "error_params"} <= columns
        kept = store.record("1")  # the old job reads as it was
        assert kept is not None and (kept.owner, kept.state, kept.error) == (
            "alice",
            JobState.FAILED,
            "Sorry.",
        )
        assert kept.order == JobOrder(keep_colours=True) and kept.meta == {"chat": 7}
        painted = Painted(b"png", 2, 1, 0.5, making_of=b"GIF89a")  # and the new columns work
        job_id = store.insert(spec("bob"))
        store.take_next()
        store.conclude(job_id, Finished(ResultInfo.of(painted)), painted)
        assert store.picture(job_id, "making_of") == b"GIF89a"
    finally:
        store.close()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="jobqueue.embedded.store"):
        store.open()  # converted once: not at every start
    store.close()
    assert caplog.records == []


def test_a_store_opens_in_a_new_data_dir_and_is_unusable_before_and_after(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "new" / "data" / DATABASE, time.time)
    with pytest.raises(RuntimeError, match=r"the queue is not started \(or already closed\)"):
        store.count(JobState.QUEUED)
    store.open()  # its folders are made
    assert store.count(JobState.QUEUED) == 0
    store.close()
    with pytest.raises(RuntimeError, match="the queue is not started"):
        store.count(JobState.QUEUED)
    store.close()  # again: nothing to do


def test_a_record_places_only_waiting_jobs_and_the_figures_count_each_ending(
    tmp_path: Path,
) -> None:
    clock = Clock()
    store = Store(tmp_path / DATABASE, clock)
    store.open()
    try:
        ids = [store.insert(spec(owner)) for owner in "abcdef"]
        for _ in ids[:4]:
            store.take_next()
        for job_id, elapsed in ((ids[0], 1.5), (ids[1], 2.5)):
            painted = Painted(b"png", 1, 1, elapsed)
            store.conclude(job_id, Finished(ResultInfo.of(painted)), painted)
        store.conclude(ids[2], Failed("Sorry."))
        records = {record.owner: record for record in store.unacknowledged()}
        # done, failed, running: no place; the waiting ones behind the one running
        assert [records[owner].ahead for owner in "abcdef"] == [0, 0, 0, 0, 1, 2]
        record = store.record(ids[0])
        assert record is not None and record.ahead == 0
        record = store.record(ids[5])
        assert record is not None and record.ahead == 2
        figures = store.stats(clock.now - 1, workers=1)
        assert (figures.waiting, figures.running, figures.workers) == (2, 1, 1)
        assert figures.outcomes == {"done": 2, "failed": 1, "cancelled": 0}
        assert figures.durations == [1.5, 2.5]
    finally:
        store.close()


def test_a_store_refuses_a_finished_job_without_its_picture(tmp_path: Path) -> None:
    store = Store(tmp_path / DATABASE, time.time)
    store.open()
    try:
        job_id = store.insert(spec())
        store.take_next()
        painted = Painted(b"png", 1, 1, 0.1)
        with pytest.raises(AssertionError, match=r"^a finished job comes with its picture$"):
            store.conclude(job_id, Finished(ResultInfo.of(painted)))
    finally:
        store.close()


def test_jobs_running_when_the_process_stopped_wait_again_and_the_log_says_which(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(tmp_path / DATABASE, time.time)
    store.open()
    try:
        running, waiting = store.insert(spec("a")), store.insert(spec("b"))
        store.take_next()
        with caplog.at_level(logging.INFO, logger="jobqueue.embedded.store"):
            store.recover()
        assert [r.getMessage() for r in caplog.records] == [
            f"Job {running} was running when the process stopped; queued again"
        ]
        assert store.take_next() == (running, 2)  # first again; that run counted
        assert store.take_next() == (waiting, 1)
    finally:
        store.close()


# ---- keeping DATA_DIR small while the bot runs ----------------------------------------------


@dataclass
class FilmingPainter(FakePainter):
    """The fake painter, leaving a making-of film of ``film_bytes`` random bytes (a GIF does
    not compress either)."""

    film_bytes: int = 1024

    def __call__(
        self, content: bytes, style: bytes, order: JobOrder, report: Report, cancel: threading.Event
    ) -> Painted:
        painted = super().__call__(content, style, order, report, cancel)
        return dataclasses.replace(painted, making_of=os.urandom(self.film_bytes))


class Clock:
    """The queue's time, moved on by the test: days pass in an instant."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def painted(jobs: EmbeddedQueue, owner: str) -> JobRecord:
    """A job of ``owner``'s, submitted and painted."""
    record = await jobs.submit(spec(owner))
    assert isinstance((await collect(jobs.events(record.id)))[-1], Finished)
    return record


async def until(check: Callable[[], object], timeout: float = 10) -> None:
    """Until ``check()`` (awaited if need be) holds: the purge runs on its own schedule."""
    async with asyncio.timeout(timeout):
        while True:
            held = check()
            if inspect.isawaitable(held):
                held = await held
            if held:
                return
            await asyncio.sleep(0.01)


def size_on_disk(data_dir: Path) -> int:
    """The queue's database and its write-ahead log, as ``DATA_MAX_MB`` counts them."""
    files = [data_dir / DATABASE, data_dir / f"{DATABASE}-wal"]
    return sum(file.stat().st_size for file in files if file.exists())


async def test_films_past_their_day_and_old_jobs_go_while_the_queue_runs(tmp_path: Path):
    clock = Clock()
    jobs = EmbeddedQueue(tmp_path, FilmingPainter(), clock=clock, purge_every=0.02)
    await jobs.start()
    try:
        old = await painted(jobs, "a")
        await jobs.acknowledge(old.id)  # delivered: its row stays 30 days, its film one
        clock.now += 2 * 3600
        recent = await painted(jobs, "b")  # ended two hours later, never acknowledged
        assert await jobs.making_of(old.id) and await jobs.making_of(recent.id)

        clock.now += KEEP_FILMS_SECONDS - 3600  # the old film is a day and an hour old

        async def film_gone() -> bool:
            return await jobs.making_of(old.id) is None

        await until(film_gone)  # no restart: the queue's own schedule does it
        assert await jobs.making_of(recent.id) is not None  # 23 hours old: kept

        clock.now += KEEP_ENDED_SECONDS

        async def row_gone() -> bool:
            return await jobs.get(old.id) is None

        await until(row_gone)
        kept = await jobs.get(recent.id)  # not yet delivered: kept, however old
        assert kept is not None and kept.state is JobState.DONE
        assert await jobs.making_of(recent.id) is None
    finally:
        await jobs.close()


async def test_the_database_file_shrinks_back_once_big_films_are_purged(tmp_path: Path):
    clock = Clock()
    painter = FilmingPainter(film_bytes=2 * 1024 * 1024)
    jobs = EmbeddedQueue(tmp_path, painter, clock=clock, purge_every=0.02)
    await jobs.start()
    try:
        records = [await painted(jobs, f"user {n}") for n in range(10)]
        for record in records:
            await jobs.acknowledge(record.id)
        full = size_on_disk(tmp_path)
        assert full > 20 * 1024 * 1024, full  # ten films of 2 MB

        clock.now += KEEP_FILMS_SECONDS + 1
        await until(lambda: size_on_disk(tmp_path) < full / 10)
        assert [await jobs.making_of(record.id) for record in records] == [None] * 10
        print(f"queue.sqlite3 and its WAL: {full / 1e6:.1f} MB, after the purge", end=" ")
        print(f"{size_on_disk(tmp_path) / 1e6:.2f} MB")
        after = await painted(jobs, "next")  # and the queue goes on
        assert await jobs.making_of(after.id)
    finally:
        await jobs.close()


# The purge on its own, on a store filled directly: no painter, no schedule.


def store_with_films(data_dir: Path, clock: Clock, films: int, film_bytes: int) -> Store:
    """A store of ``films`` finished jobs, each with a film of ``film_bytes`` random bytes,
    all ended now."""
    store = Store(data_dir / DATABASE, clock)
    store.open()
    for n in range(films):
        job_id = store.insert(spec(f"user {n}"))
        assert store.take_next() == (job_id, 1)
        film = Painted(b"png", 1, 1, 0.1, making_of=os.urandom(film_bytes))
        store.conclude(job_id, Finished(ResultInfo.of(film)), film)
    return store


def films_kept(store: Store) -> int:
    (count,) = store.one("SELECT COUNT(*) FROM jobs WHERE making_of IS NOT NULL")
    return int(count)


def wal_bytes(data_dir: Path) -> int:
    wal = data_dir / f"{DATABASE}-wal"
    return wal.stat().st_size if wal.exists() else 0


async def test_a_purge_clears_films_a_few_at_a_time_letting_the_bot_answer_between(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    films = 2 * upkeep.FILMS_PER_STEP + 8  # two full steps and a part of one
    store = store_with_films(tmp_path, clock, films + 1, film_bytes=40 * 1024)
    try:
        store.acknowledge("1")  # delivered: its row goes after KEEP_ENDED_SECONDS, the rest stay
        clock.now += KEEP_ENDED_SECONDS + 1
        turns = 0

        async def the_bot() -> None:
            nonlocal turns
            while True:
                turns += 1
                await asyncio.sleep(0)

        bot = asyncio.create_task(the_bot())
        await asyncio.sleep(0)
        began, turns = time.monotonic(), 0
        with caplog.at_level(logging.INFO, logger="jobqueue.embedded.upkeep"):
            await upkeep.purge(store)
        took = time.monotonic() - began
        bot.cancel()
        assert films_kept(store) == 0 and store.record("1") is None
        assert store.record("2") is not None  # never acknowledged: kept, without its film
        assert [r.getMessage() for r in caplog.records] == [
            f"Purged {films} film(s) and 1 old job(s)"
        ]
        assert turns >= 2  # a turn between the steps: the bot answers while films go
        assert took < 1.5, took  # and a step waits for nothing but that turn
        # the space is given back at once, all of it, and the WAL emptied
        assert tuple(store.one("PRAGMA freelist_count")) == (0,)
        assert wal_bytes(tmp_path) == 0
    finally:
        store.close()


async def test_a_purge_says_what_it_cleared_and_nothing_when_nothing_was_due(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    store = store_with_films(tmp_path, clock, 3, film_bytes=1024)
    try:
        with caplog.at_level(logging.INFO, logger="jobqueue.embedded.upkeep"):
            await upkeep.purge(store)  # the films are new
            assert caplog.records == [] and films_kept(store) == 3
            clock.now += KEEP_FILMS_SECONDS + 1
            await upkeep.purge(store)  # films only: no job was acknowledged
        assert [r.getMessage() for r in caplog.records] == ["Purged 3 film(s) and 0 old job(s)"]
        assert films_kept(store) == 0
    finally:
        store.close()


async def test_a_file_that_cannot_shrink_is_left_as_it_is_but_its_wal_is_emptied(
    tmp_path: Path,
) -> None:
    """A database made without incremental auto-vacuum (``Store.open`` converts one, so this
    is the shrink on its own): the vacuum frees nothing, and the shrink stops at once."""
    path = tmp_path / DATABASE
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE films (film BLOB)")
    db.executemany("INSERT INTO films VALUES (?)", [(os.urandom(8192),) for _ in range(40)])
    db.execute("DELETE FROM films")
    (free,) = db.execute("PRAGMA freelist_count").fetchone()
    assert free > 0 and wal_bytes(tmp_path) > 0
    store = Store(path, time.time)
    store._db = db  # as it is: ``open`` would convert it
    try:
        await asyncio.wait_for(upkeep.shrink(store), 2)
        assert tuple(store.one("PRAGMA freelist_count")) == (free,)
        assert wal_bytes(tmp_path) == 0
    finally:
        store.close()


async def test_a_purge_that_fails_is_logged_and_tried_again_next_round(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(tmp_path / DATABASE, time.time)
    store.open()
    store.db.execute("DROP TABLE jobs")  # every purge fails, as on a broken file
    purging = asyncio.create_task(upkeep.purge_now_and_then(store, 0.01))
    try:
        await until(lambda: len(caplog.records) >= 2)  # the loop went on after the first
    finally:
        purging.cancel()
        await asyncio.wait({purging})
        store.close()
    for record in caplog.records[:2]:
        assert (record.levelno, record.getMessage()) == (
            logging.ERROR,
            "Could not purge old films and jobs",
        )
        assert record.exc_info is not None
        assert isinstance(record.exc_info[1], sqlite3.OperationalError)


async def test_a_painter_that_could_not_start_refuses_jobs_instead_of_failing_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    class Broken(FakePainter):
        def warm_up(self) -> str:
            raise RuntimeError("no weights")

    jobs = EmbeddedQueue(tmp_path, Broken())
    await jobs.start()
    try:
        await until(lambda: jobs.unavailable is not None)
        assert jobs.unavailable == "the painter could not start: no weights"
        with pytest.raises(QueueUnavailable, match="could not start"):
            await jobs.submit(spec("a"))
        assert await jobs.unfinished() == []
        assert (await jobs.stats(0)).workers == 0  # the operator's figures say so too
    finally:
        await jobs.close()
    [record] = [r for r in caplog.records if r.name == "jobqueue.embedded.queue"]
    assert (record.levelno, record.getMessage()) == (logging.ERROR, "The painter could not start")
    assert record.exc_info is not None and str(record.exc_info[1]) == "no weights"


# ---- the queue's own life: starting, stopping, and what the log says ----------------------


@dataclass
class WatchedPainter(FakePainter):
    """The fake painter, noting what each run was given: the pictures and the job its log
    lines name."""

    given: list[tuple[bytes, bytes, str | None]] = dataclasses.field(default_factory=list)

    def __call__(
        self, content: bytes, style: bytes, order: JobOrder, report: Report, cancel: threading.Event
    ) -> Painted:
        self.given.append((content, style, current_job.get()))
        return super().__call__(content, style, order, report, cancel)


async def test_the_log_follows_a_job_and_the_painter_knows_which_job_it_paints(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    painter = WatchedPainter(gate=threading.Event())  # never opens: the run waits for the stop
    job = spec("a")
    with caplog.at_level(logging.INFO, logger="jobqueue"):
        jobs = EmbeddedQueue(tmp_path, painter)
        await jobs.start()
        record = await jobs.submit(job)
        await asyncio.to_thread(painter.started.wait, 5)
        await jobs.close()
    assert [r.getMessage() for r in caplog.records if r.name == "jobqueue.embedded.queue"] == [
        "Painter ready on fake",
        f"Job {record.id} started",
        f"Job {record.id} back on the queue: the painter is restarting",
    ]
    assert painter.given == [(job.content, job.style, record.id)]


async def test_a_job_whose_painter_died_on_each_of_its_runs_fails_at_the_next_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(tmp_path / DATABASE, time.time)
    store.open()
    job_id = store.insert(spec())
    for run in range(1, MAX_ATTEMPTS + 1):  # each run took the process down with it
        store.recover()
        assert store.take_next() == (job_id, run)
    store.close()
    painter = FakePainter()
    jobs = EmbeddedQueue(tmp_path, painter)
    with caplog.at_level(logging.INFO, logger="jobqueue"):
        await jobs.start()
        try:
            events = await collect(jobs.events(job_id))
        finally:
            await jobs.close()
    assert events[-1] == Failed(FAILURE_MESSAGE) and Started() not in events
    assert not painter.started.is_set()  # not a fourth run
    gave_up = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in gave_up] == [
        f"Job {job_id}: its painter died on each of its {MAX_ATTEMPTS} runs; giving up"
    ]


TASKS = {"embedded painter", "embedded purge"}


def task_names() -> set[str]:
    return {task.get_name() for task in asyncio.all_tasks()}


async def test_the_queue_names_its_tasks_and_stops_them_all_however_often_it_is_closed(
    tmp_path: Path,
) -> None:
    never_started = EmbeddedQueue(tmp_path, FakePainter())
    await never_started.close()  # e.g. the bot failed before the queue started
    jobs = EmbeddedQueue(tmp_path, FakePainter())
    await jobs.start()
    assert task_names() >= TASKS  # named for whoever reads a dump of the tasks
    await jobs.close()
    assert not TASKS & task_names()
    await jobs.close()  # again: nothing more to stop


async def test_a_stopping_queue_lets_a_job_ninety_percent_done_finish(tmp_path: Path) -> None:
    painter = SteppedPainter(steps=10)
    jobs = EmbeddedQueue(tmp_path, painter)
    await jobs.start()
    record = await jobs.submit(spec())
    events = jobs.events(record.id)
    painter.allow(9)
    async for event in events:
        if isinstance(event, Progressed) and event.progress.step == 9:
            break
    closing = asyncio.create_task(jobs.close())
    await asyncio.sleep(0.1)  # a cancel, if one came, would have stopped the painter by now
    painter.allow()
    progressed = await anext(events)
    assert isinstance(progressed, Progressed) and progressed.progress.step == 10
    assert isinstance(await anext(events), Finished)
    assert await anext(events, None) is None
    await asyncio.wait_for(closing, 5)
    assert not painter.cancelled.is_set() and painter.runs == 1


@dataclass
class DeafPainter(FakePainter):
    """Hears its cancel only once the test lets it go (a painter stuck in a long step)."""

    let_go: threading.Event = dataclasses.field(default_factory=threading.Event)

    def __call__(
        self, content: bytes, style: bytes, order: JobOrder, report: Report, cancel: threading.Event
    ) -> Painted:
        self.started.set()
        self.let_go.wait(10)
        raise PaintCancelled()


async def test_a_painter_that_does_not_stop_in_time_is_logged_and_let_go(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    painter = DeafPainter()
    jobs = EmbeddedQueue(tmp_path, painter)
    await jobs.start()
    try:
        await jobs.submit(spec())
        await asyncio.to_thread(painter.started.wait, 5)
        closing = asyncio.create_task(jobs.close(grace=0.6))

        def warned() -> bool:
            return any(r.levelno == logging.WARNING for r in caplog.records)

        await until(warned, timeout=3)
        assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
            "The painter did not stop within 1 s"
        ]
    finally:
        painter.let_go.set()
    await asyncio.wait_for(closing, 5)
