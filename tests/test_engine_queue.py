"""The job queue: order, positions, one job per user, cancellation, failures, cleanup."""

from __future__ import annotations

import asyncio

import pytest

from engine import Strength, StyleOptions
from engine.queue import (
    FAILURE_MESSAGE,
    AlreadyQueued,
    Failed,
    Finished,
    JobEvent,
    JobRequest,
    Progressed,
    Queued,
    QueueFull,
    Started,
    StyleQueue,
    WasCancelled,
)
from tests.pictures import encode, gradient, stripes

pytestmark = pytest.mark.slow
TINY = StyleOptions(device="cpu", max_side=48, steps=4, progress_every=1)


def request(tmp_path, owner: int, *, content: bytes | None = None) -> JobRequest:
    workdir = tmp_path / f"job-{owner}"
    workdir.mkdir()
    (workdir / "content.png").write_bytes(content or encode(gradient(64, 32)))
    (workdir / "style.png").write_bytes(encode(stripes()))
    return JobRequest(
        owner=owner,
        chat_id=owner,
        content=workdir / "content.png",
        style=workdir / "style.png",
        strength=Strength.STRONG,
        workdir=workdir,
    )


@pytest.fixture
async def queue():
    queue = StyleQueue(TINY, max_waiting=2)
    await queue.start()
    yield queue
    await queue.stop()


async def events_of(job) -> list[JobEvent]:
    return [event async for event in job.events()]


async def test_a_job_runs_reports_progress_and_cleans_its_files(queue, tmp_path):
    job = queue.submit(request(tmp_path, 1))
    events = await asyncio.wait_for(events_of(job), 60)
    assert events[0] == Queued(0) and events[1] == Started()
    assert [e.progress.step for e in events if isinstance(e, Progressed)] == [1, 2, 3, 4]
    finished = events[-1]
    assert isinstance(finished, Finished)
    result = finished.result
    assert result.image.size == (48, 24)
    assert result.options.strength is Strength.STRONG and job.state == "done"
    assert not (tmp_path / "job-1").exists()


async def test_waiting_jobs_learn_their_position_and_one_job_per_user(queue, tmp_path):
    queue.max_waiting = 3
    first, second, third = (queue.submit(request(tmp_path, owner)) for owner in (1, 2, 3))
    assert (first.ahead, second.ahead, third.ahead) == (0, 1, 2)
    with pytest.raises(AlreadyQueued) as already:
        queue.submit(JobRequest(3, 3, first.request.content, first.request.style))
    assert already.value.job is third
    events = await asyncio.wait_for(events_of(third), 90)
    assert events[:2] == [Queued(2), Queued(1)] and events[2] == Started()
    assert isinstance(events[-1], Finished)
    assert first.state == second.state == "done"


async def test_a_full_queue_refuses_politely(tmp_path):
    queue = StyleQueue(TINY, max_waiting=1)  # not started: nothing leaves the queue
    queue.submit(request(tmp_path, 1))
    with pytest.raises(QueueFull):
        queue.submit(request(tmp_path, 2))
    await queue.stop()


async def test_cancel_while_waiting_and_while_running(queue, tmp_path):
    slow = StyleOptions(device="cpu", max_side=64, steps=500, progress_every=1)
    queue.base_options = slow
    running = queue.submit(request(tmp_path, 1))
    waiting = queue.submit(request(tmp_path, 2))
    assert queue.cancel(waiting)
    assert await asyncio.wait_for(events_of(waiting), 5) == [Queued(1), WasCancelled()]
    async for event in running.events():
        if isinstance(event, Progressed):
            assert queue.cancel(running)
            break
    rest = await asyncio.wait_for(events_of(running), 30)
    assert rest[-1] == WasCancelled() and running.last_progress.step < 500
    assert queue.job_of(1) is None and not (tmp_path / "job-1").exists()


async def test_a_broken_image_fails_the_job_and_the_worker_goes_on(queue, tmp_path):
    broken = queue.submit(request(tmp_path, 1, content=b"not an image"))
    after = queue.submit(request(tmp_path, 2))
    events = await asyncio.wait_for(events_of(broken), 30)
    assert isinstance(events[-1], Failed) and "could not read" in events[-1].message
    assert isinstance((await asyncio.wait_for(events_of(after), 60))[-1], Finished)


async def test_operator_errors_reach_the_user_as_a_plain_apology(tmp_path):
    queue = StyleQueue(StyleOptions(device="cpu", weights=str(tmp_path / "missing.pth")))
    await queue.start()
    job = queue.submit(request(tmp_path, 1))
    events = await asyncio.wait_for(events_of(job), 30)
    await queue.stop()
    assert events[-1] == Failed(FAILURE_MESSAGE)  # no file paths or weight names for users


async def test_stopping_the_queue_ends_the_running_job_and_cleans_up(tmp_path):
    queue = StyleQueue(StyleOptions(device="cpu", max_side=64, steps=500, progress_every=1))
    await queue.start()
    job = queue.submit(request(tmp_path, 1))
    async for event in job.events():
        if isinstance(event, Progressed):
            break
    await asyncio.wait_for(queue.stop(), 30)
    assert job.state == "cancelled" and not (tmp_path / "job-1").exists()
