"""What the queue's tests share: jobs to submit, following a job's events as a test reads
them, waiting for a painter, and the Redis backend's timing shrunk for tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from jobqueue import TERMINAL, JobEvent, JobOrder, JobQueue, JobSpec, Size, Strength
from tests.pictures import encode, gradient, stripes

PHOTO = encode(gradient())
STYLE = encode(stripes())
#: Orders told apart by the painter: the ``n``-th job of a test asks for the ``n``-th.
ORDERS = [JobOrder(strength, size) for strength in Strength for size in Size]
#: Redis queues' knobs for tests: heartbeat 2 s and a sweep every second, so that even a
#: dead worker's job comes back in seconds.
FAST: dict[str, Any] = {
    "name": "test",
    "heartbeat": 2,
    "sweep_every": 1,
    "sweep_wait": 0.5,
    "worker_info_every": 1,
    "status_every": 0.1,
    "poll_every": 0.5,
}


def spec(owner: str, content: bytes = PHOTO, *, n: int = 0) -> JobSpec:
    """``owner``'s job, asking for the ``n``-th order; its meta notes the owner's chat."""
    return JobSpec(owner, content, STYLE, ORDERS[n], meta={"chat": owner})


class Follow:
    """A job's events as a test reads them, each within a timeout."""

    def __init__(self, queue: JobQueue, job_id: str) -> None:
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


async def waited(event: threading.Event, timeout: float = 5.0) -> None:
    assert await asyncio.to_thread(event.wait, timeout), "the painter never got there"


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)
