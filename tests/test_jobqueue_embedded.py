"""The embedded queue (SQLite under DATA_DIR) with a painter that needs no PyTorch."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from jobqueue import (
    FAILURE_MESSAGE,
    JSON,
    KEEP_ENDED_SECONDS,
    KEEP_FILMS_SECONDS,
    AlreadyQueued,
    Cancelled,
    Failed,
    Finished,
    JobEvent,
    JobRecord,
    JobSpec,
    JobState,
    Painted,
    Progressed,
    Queued,
    QueueFull,
    QueueUnavailable,
    Report,
    Requeued,
    Started,
)
from jobqueue.embedded import DATABASE, EmbeddedQueue
from tests.painters import CRASH, REFUSE, TOO_SMALL, FakePainter
from tests.pictures import encode, gradient, stripes

REPO = Path(__file__).resolve().parents[1]


def spec(owner: str = "alice", content: bytes | None = None, **meta: object) -> JobSpec:
    content = encode(gradient(48, 32)) if content is None else content
    return JobSpec(owner, content, encode(stripes(32, 32)), {"strength": "medium"}, dict(meta))


async def collect(events: AsyncIterator[JobEvent], timeout: float = 10) -> list[JobEvent]:
    async def drain() -> list[JobEvent]:
        return [event async for event in events]

    return await asyncio.wait_for(drain(), timeout)


async def first(events: AsyncIterator[JobEvent], kind: type[JobEvent]) -> JobEvent:
    async for event in events:
        if isinstance(event, kind):
            return event
    raise AssertionError(f"no {kind.__name__} event")


@pytest.fixture
async def queue(tmp_path: Path) -> AsyncIterator[EmbeddedQueue]:
    jobs = EmbeddedQueue(tmp_path, FakePainter(), max_waiting=2)
    await jobs.start()
    yield jobs
    await jobs.close()


async def test_a_job_runs_reports_progress_and_keeps_its_result_until_acknowledged(
    queue: EmbeddedQueue,
):
    record = await queue.submit(spec(chat=42))
    assert (record.state, record.ahead, record.meta) == (JobState.QUEUED, 0, {"chat": 42})
    events = await collect(queue.events(record.id))
    assert isinstance(events[0], Queued | Started | Progressed)
    steps = [e.progress.step for e in events if isinstance(e, Progressed)]
    assert steps == sorted(steps) and steps[-1] == 5
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.result.width == 48

    png = await queue.result(record.id)
    original = gradient(48, 32).getpixel((0, 0))
    assert isinstance(original, tuple)
    with Image.open(io.BytesIO(png)) as picture:  # the fake painter inverts the photo
        assert picture.getpixel((0, 0)) == tuple(255 - v for v in original)
    assert [r.id for r in await queue.unfinished()] == [record.id]
    late = await collect(queue.events(record.id))  # a follower that comes after the end
    assert late == [finished]

    await queue.acknowledge(record.id)
    assert await queue.unfinished() == []
    with pytest.raises(KeyError):
        await queue.result(record.id)


async def test_one_job_per_owner_and_a_cap_on_waiting_jobs(tmp_path: Path):
    gate = threading.Event()
    painter = FakePainter(gate=gate)
    jobs = EmbeddedQueue(tmp_path, painter, max_waiting=2)
    await jobs.start()
    try:
        first = await jobs.submit(spec("alice"))
        await asyncio.to_thread(painter.started.wait, 5)
        with pytest.raises(AlreadyQueued) as again:
            await jobs.submit(spec("alice"))  # running counts too
        assert again.value.record.id == first.id
        await jobs.submit(spec("bob"))
        await jobs.submit(spec("carol"))
        with pytest.raises(QueueFull):  # two wait: the cap
            await jobs.submit(spec("dave"))
    finally:
        gate.set()
        await jobs.close()


async def test_places_in_the_queue_only_get_better(tmp_path: Path):
    gate = threading.Event()
    painter = FakePainter(gate=gate, steps=2)
    jobs = EmbeddedQueue(tmp_path, painter, max_waiting=5)
    await jobs.start()
    try:
        records = [await jobs.submit(spec(owner)) for owner in ("a", "b", "c", "d")]
        assert [r.ahead for r in records] == [0, 1, 2, 3]
        last = asyncio.create_task(collect(jobs.events(records[-1].id)))
        await asyncio.to_thread(painter.started.wait, 5)
        gate.set()
        events = await last
        places = [e.ahead for e in events if isinstance(e, Queued)]
        assert places == [3, 2, 1, 0]  # never up; 0 once the job before it is over
        assert isinstance(events[-1], Finished)
        done = await jobs.get(records[-1].id)
        assert done is not None and done.state is JobState.DONE
    finally:
        gate.set()
        await jobs.close()


async def test_cancel_a_waiting_and_a_running_job(tmp_path: Path):
    gate = threading.Event()
    painter = FakePainter(gate=gate)
    jobs = EmbeddedQueue(tmp_path, painter)
    await jobs.start()
    try:
        running, waiting = await jobs.submit(spec("a")), await jobs.submit(spec("b"))
        await asyncio.to_thread(painter.started.wait, 5)
        assert await jobs.cancel(waiting.id)
        assert (await collect(jobs.events(waiting.id)))[-1] == Cancelled()
        follow = asyncio.create_task(collect(jobs.events(running.id)))
        assert await jobs.cancel(running.id)  # stops within a step, gate or not
        assert (await follow)[-1] == Cancelled()
        assert not await jobs.cancel(running.id)  # already over
        assert await jobs.job_of("a") is None
    finally:
        gate.set()
        await jobs.close()


async def test_a_refused_picture_says_why_and_a_crash_apologises(queue: EmbeddedQueue):
    refused = await queue.submit(spec("a", REFUSE))
    crashed = await queue.submit(spec("b", CRASH))
    assert (await collect(queue.events(refused.id)))[-1] == Failed(
        "This image is too small (16×16).", *TOO_SMALL
    )
    assert (await collect(queue.events(crashed.id)))[-1] == Failed(FAILURE_MESSAGE)
    record = await queue.get(refused.id)  # the code and its numbers are kept with the job
    assert record is not None and (record.error_code, record.error_params) == TOO_SMALL
    after = await queue.submit(spec("a"))  # the queue goes on
    assert isinstance((await collect(queue.events(after.id)))[-1], Finished)


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


# ---- keeping DATA_DIR small while the bot runs ----------------------------------------------


@dataclass
class FilmingPainter(FakePainter):
    """The fake painter, leaving a making-of film of ``film_bytes`` random bytes (a GIF does
    not compress either)."""

    film_bytes: int = 1024

    def __call__(
        self, content: bytes, style: bytes, options: JSON, report: Report, cancel: threading.Event
    ) -> Painted:
        painted = super().__call__(content, style, options, report, cancel)
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


async def test_a_painter_that_could_not_start_refuses_jobs_instead_of_failing_them(
    tmp_path: Path,
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
    finally:
        await jobs.close()
