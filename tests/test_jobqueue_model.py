"""Where a new follower of a job starts (``jobqueue.model.current_event``): the job as its
record says it is now, so that a progress message shows the right thing from its first edit."""

from __future__ import annotations

from jobqueue import (
    AlreadyQueued,
    JobOrder,
    JobRecord,
    JobState,
    Progressed,
    ProgressInfo,
    Queued,
    Started,
    current_event,
)


def record(state: JobState, **fields: object) -> JobRecord:
    return JobRecord(id="7", owner="alice", state=state, order=JobOrder(), meta={}, **fields)  # type: ignore[arg-type]


def test_a_follower_of_a_waiting_job_hears_its_place_and_whether_a_painter_is_online():
    assert current_event(record(JobState.QUEUED, ahead=2)) == Queued(2)
    assert current_event(record(JobState.QUEUED, ahead=0, no_painter=True)) == Queued(
        0, no_painter=True
    )


def test_a_follower_joining_a_running_job_hears_how_far_it_is():
    far = ProgressInfo(step=40, total=100, scale=1, scales=2, elapsed=12.0, eta=18.0)
    assert current_event(record(JobState.RUNNING, progress=far)) == Progressed(far)
    assert current_event(record(JobState.RUNNING)) == Started(), "no step reported yet"


def test_a_second_job_for_the_same_owner_is_refused_naming_the_job_already_there():
    assert str(AlreadyQueued(record(JobState.QUEUED))) == "owner alice already has job 7"
