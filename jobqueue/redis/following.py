"""Following a job: its events, told from successive snapshots of its record.

A follower looks again whenever saq publishes a change of the job (or, while it waits, of
any job: its place may have moved), and at least every ``poll_every`` seconds; what changed
between two looks becomes the events in between (a job that started and ended meanwhile was
started too).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

from redis.exceptions import RedisError

from ..model import (
    TERMINAL,
    JobEvent,
    JobState,
    Progressed,
    ProgressInfo,
    Queued,
    Requeued,
    Started,
    current_event,
    terminal_event,
)
from .notes import ALL, Notes
from .records import Snapshot, as_bytes
from .store import Store


async def follow(
    store: Store, notes: Notes, job_id: str, poll_every: float
) -> AsyncIterator[JobEvent]:
    """The job's current state as an event, then each change, ending with a terminal one."""
    inbox = await notes.subscribe(ALL)  # before the first read: nothing is missed
    try:
        snapshot = await store.snapshot(job_id)
        if snapshot is None:
            return
        event = current_event(snapshot.record)
        yield event
        if isinstance(event, TERMINAL):
            return
        follower = Follower(snapshot)
        channel = store.saq.job_id(job_id)
        while True:
            await notes.wait(inbox, channel, follower.waiting, poll_every)
            try:
                snapshot = await store.snapshot(job_id)
                preview = None
                if snapshot is not None and follower.has_new_preview(snapshot):
                    raw = await store.redis.get(store.key("preview", job_id))
                    # (as_bytes(None) is None too: dropping the test is an equivalent mutant)
                    preview = None if raw is None else as_bytes(raw)
            except (RedisError, OSError):  # Redis restarting: the job is still there
                await asyncio.sleep(poll_every)
                continue
            if snapshot is None:  # acknowledged elsewhere and gone
                return
            for event in follower.update(snapshot, preview):
                yield event
                if isinstance(event, TERMINAL):
                    return
    finally:
        await notes.unsubscribe(inbox)


class Follower:
    """Turns successive snapshots of one job into the events between them."""

    def __init__(self, snapshot: Snapshot) -> None:
        record = snapshot.record
        self.waiting = record.state is JobState.QUEUED
        self.ahead = record.ahead
        self.no_painter = record.no_painter
        self.attempts = snapshot.attempts
        self.preview_stamp = snapshot.preview_stamp
        self.steps = _steps(record.progress)

    def has_new_preview(self, snapshot: Snapshot) -> bool:
        """Whether the job has a preview this follower has not shown (worth fetching)."""
        return bool(snapshot.preview_stamp[1]) and snapshot.preview_stamp > self.preview_stamp

    def update(self, snapshot: Snapshot, preview: bytes | None) -> list[JobEvent]:
        record = snapshot.record
        ended = terminal_event(record)
        restarted = snapshot.attempts > self.attempts
        if ended is not None:  # a job that ran and ended between two looks was started too
            return [Started(), ended] if self.waiting and restarted else [ended]
        events: list[JobEvent] = []
        if record.state is JobState.QUEUED:
            if not self.waiting or restarted:
                reason = snapshot.requeue_reason  # ("events =" below is equivalent: it is [])
                events += [Requeued(reason), Queued(record.ahead, record.no_painter)]
                self.waiting, self.attempts, self.ahead = True, snapshot.attempts, record.ahead
            elif record.ahead < self.ahead or record.no_painter != self.no_painter:
                self.ahead = min(self.ahead, record.ahead)  # places only ever get better
                events.append(Queued(self.ahead, record.no_painter))
            self.no_painter = record.no_painter
            return events
        if not self.waiting and restarted:  # died and started again between two looks
            events.append(Requeued(snapshot.requeue_reason))
            self.waiting = True
        if self.waiting:
            events.append(Started())
            self.waiting, self.attempts, self.steps = False, snapshot.attempts, None
        progress = record.progress
        new_preview = preview is not None and snapshot.preview_stamp > self.preview_stamp
        if progress is not None and (_steps(progress) != self.steps or new_preview):
            if new_preview:
                progress = dataclasses.replace(progress, preview=preview)
                self.preview_stamp = snapshot.preview_stamp
            events.append(Progressed(progress))
            self.steps = _steps(progress)
        return events


def _steps(progress: ProgressInfo | None) -> tuple[int, int, int, int] | None:
    """Where a run is, to tell a new report from one already told."""
    if progress is None:
        return None
    return (progress.scale, progress.step, progress.scales, progress.total)
