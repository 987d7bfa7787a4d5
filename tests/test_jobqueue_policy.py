"""The rules both backends share (``jobqueue.policy``), one at a time and without a queue:
what a painter's run makes of its job, and what the operator reads in the log about it.

The behaviour suite (test_jobqueue_behaviour.py) checks the same endings through each
backend; here each is pinned where it is decided, with its log line, which an operator
follows by the job's id."""

from __future__ import annotations

import logging

import pytest

from jobqueue import (
    FAILURE_MESSAGE,
    Cancelled,
    Failed,
    Finished,
    Note,
    NoteCode,
    PaintCancelled,
    Painted,
    PaintRefused,
    ResultInfo,
)
from jobqueue.policy import settle

JOB = "job-7"


def logged(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(record.levelno, record.getMessage()) for record in caplog.records]


@pytest.fixture(autouse=True)
def _policy_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="jobqueue.policy")


def test_a_painted_picture_finishes_its_job_and_the_log_says_how_long_it_took(
    caplog: pytest.LogCaptureFixture,
) -> None:
    note = Note(NoteCode.MADE_SMALLER, {"made": 300, "asked": 512})
    painted = Painted(b"png", 300, 200, 12.34, note, making_of=b"GIF89a")
    ending = settle(JOB, painted, cancelled_by_owner=False)
    assert ending == Finished(ResultInfo(300, 200, 12.34, note, making_of=True))
    assert logged(caplog) == [(logging.INFO, "Job job-7 done in 12.3 s")]


@pytest.mark.parametrize("by_owner", [True, False])
def test_a_run_cancelled_by_its_owner_ends_and_one_stopped_by_its_queue_does_not(
    caplog: pytest.LogCaptureFixture, by_owner: bool
) -> None:
    ending = settle(JOB, PaintCancelled(), cancelled_by_owner=by_owner)
    if by_owner:
        assert ending == Cancelled()
        assert logged(caplog) == [(logging.INFO, "Job job-7 cancelled")]
    else:  # a restart or a worker presumed lost: the job goes back to the queue, untold
        assert ending is None
        assert logged(caplog) == []


def test_a_refused_picture_fails_with_its_reason_for_the_user(
    caplog: pytest.LogCaptureFixture,
) -> None:
    refusal = PaintRefused("This image is too small (16×16).", "too_small", {"width": 16})
    ending = settle(JOB, refusal, cancelled_by_owner=False)
    assert ending == Failed("This image is too small (16×16).", "too_small", {"width": 16})
    assert logged(caplog) == [
        (logging.INFO, "Job job-7 refused a picture: This image is too small (16×16).")
    ]


def test_anything_else_a_painter_raises_is_an_apology_and_an_error_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bug = RuntimeError("no weights")
    assert settle(JOB, bug, cancelled_by_owner=True) == Failed(FAILURE_MESSAGE)
    [record] = caplog.records
    assert (record.levelno, record.getMessage()) == (logging.ERROR, "Job job-7 failed")
    assert record.exc_info is not None and record.exc_info[1] is bug
