"""How the Redis backend reads a job's record back from its keys (``jobqueue.redis.records``),
without Redis: the fields as Redis returns them, saq's job as saq keeps it, and the state,
place, progress and reason a follower is told."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from saq.job import Job, Status
from saq.utils import now

from jobqueue import (
    FAILURE_MESSAGE,
    Cancelled,
    Failed,
    Finished,
    JobOrder,
    JobState,
    Note,
    NoteCode,
    ProgressInfo,
    ResultInfo,
    Size,
    Strength,
)
from jobqueue.policy import RESTARTING
from jobqueue.redis.records import (
    LOST,
    STOPPED,
    SWEPT,
    Keys,
    as_bytes,
    failed_outcome,
    outcome_of,
    snapshot_of,
    state_of,
    text,
)

ORDER = JobOrder(Strength.STRONG, Size.SMALL, keep_colours=True)
RESULT = ResultInfo(64, 48, 2.5, Note(NoteCode.MADE_SMALLER, {"made": 64, "asked": 96}), True)
PROGRESS = ProgressInfo(step=3, total=10, scale=1, scales=2, elapsed=1.5, eta=3.5)


def saq_job(status: Status, **fields: object) -> Job:
    """saq's job as ``submit`` makes it: no timeout (the heartbeat watches instead)."""
    return Job(function="paint", key="j1", status=status, **{"timeout": 0, **fields})  # type: ignore[arg-type]


def fields(
    *, cancel: bool = False, outcome: dict[str, object] | None = None, ack: bool = False
) -> list[bytes | None]:
    """``RECORD_FIELDS`` of a job's hash, as Redis returns them."""
    return [
        b"alice",
        json.dumps(ORDER.to_json()).encode(),
        b"1" if cancel else None,
        json.dumps(outcome).encode() if outcome is not None else None,
        b"1" if ack else None,
    ]


def test_keys_are_named_under_the_queue() -> None:
    keys = Keys("stylebot:test")
    assert keys("job", "j1") == "stylebot:test:job:j1"
    assert keys("jobs") == "stylebot:test:jobs"


@pytest.mark.parametrize(
    ("ending", "written", "read"),
    [
        (
            Finished(RESULT),
            {"state": "done", "result": RESULT.to_json()},
            (JobState.DONE, None, RESULT),
        ),
        (Cancelled(), {"state": "cancelled"}, (JobState.CANCELLED, None, None)),
        (
            Failed("Sorry."),
            {"state": "failed", "error": "Sorry."},
            (JobState.FAILED, "Sorry.", None),
        ),
        (
            Failed("Too small.", "too_small", {"width": 16}),
            {
                "state": "failed",
                "error": "Too small.",
                "code": "too_small",
                "params": {"width": 16},
            },
            (JobState.FAILED, "Too small.", None),
        ),
    ],
)
def test_an_ending_is_written_once_and_read_back_whatever_saq_says(
    ending: Finished | Cancelled | Failed,
    written: dict[str, object],
    read: tuple[JobState, str | None, ResultInfo | None],
) -> None:
    outcome = outcome_of(ending)
    assert outcome == written
    if isinstance(ending, Failed):
        assert failed_outcome(ending) == written
    stored = json.loads(json.dumps(outcome))  # as it comes back from Redis
    assert state_of(stored, None, cancelled=False) == read
    assert state_of(stored, saq_job(Status.ACTIVE), cancelled=True) == read  # the outcome wins


def stuck(status: Status) -> Callable[[], Job]:
    """A job whose worker stopped beating a minute ago (its heartbeat is 2 s)."""
    return lambda: saq_job(status, heartbeat=2, started=now() - 120_000, touched=now() - 60_000)


def beating(status: Status) -> Callable[[], Job]:
    """A job whose worker beat just now."""
    return lambda: saq_job(status, heartbeat=60, started=now(), touched=now())


def made(status: Status, **fields: object) -> Callable[[], Job]:
    return lambda: saq_job(status, **fields)


@pytest.mark.parametrize(
    ("job", "cancelled", "state"),
    [
        (lambda: None, False, JobState.FAILED),  # saq forgot it without an ending: lost
        (made(Status.NEW), False, JobState.QUEUED),
        (made(Status.QUEUED), False, JobState.QUEUED),
        (made(Status.ACTIVE), False, JobState.RUNNING),
        (made(Status.ABORTING), False, JobState.RUNNING),
        # swept, about to be queued again: still running, as far as a follower knows
        (made(Status.ABORTED, retries=3, attempts=1), False, JobState.RUNNING),
        (made(Status.ABORTED, retries=3, attempts=3), False, JobState.FAILED),  # no more runs
        (made(Status.COMPLETE), False, JobState.FAILED),  # complete, yet no outcome: a bug
        # the owner cancelled: over unless a live worker paints it (it ends it itself)
        (made(Status.NEW), True, JobState.CANCELLED),
        (made(Status.QUEUED), True, JobState.CANCELLED),
        (made(Status.ABORTED, retries=3, attempts=1), True, JobState.CANCELLED),
        (stuck(Status.ACTIVE), True, JobState.CANCELLED),
        (stuck(Status.ABORTING), True, JobState.CANCELLED),
        (beating(Status.ACTIVE), True, JobState.RUNNING),
        (beating(Status.ABORTING), True, JobState.RUNNING),
    ],
)
def test_a_job_without_an_outcome_is_in_the_state_saq_says(
    job: Callable[[], Job | None], cancelled: bool, state: JobState
) -> None:
    error = FAILURE_MESSAGE if state is JobState.FAILED else None
    assert state_of(None, job(), cancelled=cancelled) == (state, error, None)


def test_no_record_without_its_owner_and_its_order() -> None:
    owner, order, *rest = fields()
    assert snapshot_of("j1", [None, order, *rest], {}, None, None, 0, no_painter=False) is None
    assert snapshot_of("j1", [owner, None, *rest], {}, None, None, 0, no_painter=False) is None


def test_a_waiting_job_reads_with_its_place_its_notes_and_whether_a_painter_is_online() -> None:
    meta = {b"chat": b"7", b"pair": b'"ab12"'}
    job = saq_job(Status.QUEUED)
    snapshot = snapshot_of("j1", fields(), meta, job, 2, 1, no_painter=True)
    assert snapshot is not None
    record = snapshot.record
    assert (record.id, record.owner, record.state, record.order) == (
        "j1",
        "alice",
        JobState.QUEUED,
        ORDER,
    )
    assert record.meta == {"chat": 7, "pair": "ab12"}
    assert (record.ahead, record.no_painter) == (3, True)  # two before it, one running
    assert (record.progress, record.error, record.error_code, record.error_params) == (
        None,
        None,
        None,
        {},
    )
    assert (record.result, record.acknowledged) == (None, False)
    assert (snapshot.attempts, snapshot.preview_stamp, snapshot.requeue_reason) == (
        0,
        (0, 0),
        RESTARTING,
    )
    taken = snapshot_of("j1", fields(), {}, job, None, 1, no_painter=False)
    assert taken is not None and taken.record.ahead == 0  # a worker is taking it: no place


def test_a_running_job_reads_with_the_progress_of_its_current_run_only() -> None:
    meta = {"progress": PROGRESS.to_json(), "attempt": 2, "preview": 4}
    job = saq_job(Status.ACTIVE, attempts=2, meta=meta)
    snapshot = snapshot_of("j1", fields(), {}, job, None, 1, no_painter=True)
    assert snapshot is not None
    assert snapshot.record.state is JobState.RUNNING
    assert snapshot.record.progress == PROGRESS and snapshot.preview_stamp == (2, 4)
    assert (snapshot.record.ahead, snapshot.record.no_painter) == (0, False)
    assert snapshot.attempts == 2
    again = saq_job(Status.ACTIVE, attempts=3, meta=meta)  # a new run, not yet reported
    snapshot = snapshot_of("j1", fields(), {}, again, None, 1, no_painter=False)
    assert snapshot is not None
    assert snapshot.record.progress is None and snapshot.preview_stamp == (3, 0)
    unreported = saq_job(Status.ACTIVE, attempts=1)
    snapshot = snapshot_of("j1", fields(), {}, unreported, None, 1, no_painter=False)
    assert snapshot is not None and snapshot.record.progress is None
    done = saq_job(Status.COMPLETE, attempts=2, meta=meta)  # ended: its progress is over
    outcome = outcome_of(Finished(RESULT))
    snapshot = snapshot_of("j1", fields(outcome=outcome), {}, done, None, 0, no_painter=False)
    assert snapshot is not None and snapshot.record.progress is None


def test_an_ended_job_reads_with_its_reason_code_numbers_and_delivery() -> None:
    outcome = outcome_of(Failed("Too small.", "too_small", {"width": 16}))
    snapshot = snapshot_of(
        "j1", fields(outcome=outcome, ack=True), {}, None, None, 0, no_painter=True
    )
    assert snapshot is not None
    record = snapshot.record
    assert (record.state, record.error, record.error_code, record.error_params) == (
        JobState.FAILED,
        "Too small.",
        "too_small",
        {"width": 16},
    )
    assert record.acknowledged and not record.no_painter and snapshot.attempts == 0
    outcome = outcome_of(Finished(RESULT))
    snapshot = snapshot_of("j1", fields(outcome=outcome), {}, None, None, 0, no_painter=False)
    assert snapshot is not None and snapshot.record.result == RESULT
    assert (snapshot.record.error_code, snapshot.record.error_params) == (None, {})


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (STOPPED, RESTARTING),  # its worker stopped and handed it back
        (SWEPT, LOST),  # its worker stopped beating
        (None, RESTARTING),
        ("something else", RESTARTING),
    ],
)
def test_a_job_back_on_the_queue_says_why(error: str | None, reason: str) -> None:
    job = saq_job(Status.QUEUED, attempts=1, error=error)
    snapshot = snapshot_of("j1", fields(), {}, job, 0, 0, no_painter=False)
    assert snapshot is not None and snapshot.requeue_reason == reason


def test_values_from_redis_are_text_or_bytes_as_asked() -> None:
    assert (text(b"caf\xc3\xa9"), text("café")) == ("café", "café")
    assert (as_bytes("café"), as_bytes(b"caf\xc3\xa9")) == (b"caf\xc3\xa9", b"caf\xc3\xa9")
