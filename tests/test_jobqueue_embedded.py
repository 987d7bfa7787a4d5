"""The embedded queue (SQLite under DATA_DIR) with a painter that needs no PyTorch.

What every backend promises is checked in test_jobqueue_behaviour.py; here is what only the
embedded queue does: the process that restarts (or is killed) with its painter, the purge
that keeps DATA_DIR small, and a painter that cannot start."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
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

from jobqueue import (
    KEEP_ENDED_SECONDS,
    KEEP_FILMS_SECONDS,
    Finished,
    JobEvent,
    JobOrder,
    JobRecord,
    JobSpec,
    JobState,
    Painted,
    QueueUnavailable,
    Report,
    Requeued,
)
from jobqueue.embedded import DATABASE, EmbeddedQueue
from tests.painters import FakePainter
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
