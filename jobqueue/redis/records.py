"""Where this backend keeps a job next to saq's keys, and how a record is read back from
them: written and read here only (no I/O: ``store.py`` talks to Redis).

Under ``stylebot:<name>:``

* ``job:<id>``      hash: owner, options (the job's order, JSON: the name from before orders
                    were typed, kept so that their jobs still read), created; later cancel
                    (the owner asked), outcome (JSON: done, failed or cancelled: written
                    once, by whoever ends the job) and png (the result, until
                    acknowledged), ack. TTL ``keep``.
* ``meta:<id>``     hash: the submitter's notes, one JSON value a field. TTL ``keep``.
* ``content:<id>``, ``style:<id>``: the pictures, TTL ``picture_ttl``, dropped at the end.
* ``preview:<id>``  the latest preview JPEG, TTL one hour, dropped at the end.
* ``film:<id>``     the making-of GIF of a finished job, TTL ``KEEP_FILMS_SECONDS``.
* ``owner:<owner>`` the owner's active job id (one at a time), dropped at the end.
* ``claim:<id>``    which bot replica follows and delivers the job (a lease, ``claim``).
* ``jobs``          sorted set of the jobs not yet acknowledged, by submission time.
* ``ended``         sorted set of {id, state, elapsed} by end time, 30 days: ``stats``.
"""

from __future__ import annotations

import dataclasses
import json

from saq.job import Job, Status

from ..model import (
    FAILURE_MESSAGE,
    Cancelled,
    Ending,
    Failed,
    Finished,
    JobRecord,
    JobState,
    ProgressInfo,
    ResultInfo,
)
from ..orders import JSON, JobOrder
from ..policy import RESTARTING

#: ``unavailable`` while no worker is online (jobs still wait for one).
NO_PAINTER = "no painter is running (start stylebot-worker)"
#: ``Requeued.reason`` of a job whose worker stopped beating (killed, its machine lost).
LOST = "the painter stopped responding"
#: saq's error for a job whose worker was stopped: it went back to the queue on purpose.
STOPPED = "cancelled"
#: Ours, for a job whose worker stopped beating: the sweep took it back.
SWEPT = "worker lost"
#: The error saq keeps for a job its owner cancelled.
OWNER_CANCEL = "cancelled by its owner"
#: The fields of ``job:<id>`` a record is made of.
RECORD_FIELDS = ("owner", "options", "cancel", "outcome", "ack")


@dataclasses.dataclass(frozen=True)
class Keys:
    """The names of one queue's keys: ``keys("job", job_id)``, ``keys("jobs")``."""

    prefix: str  # stylebot:<name>

    def __call__(self, kind: str, name: str = "") -> str:
        return f"{self.prefix}:{kind}:{name}" if name else f"{self.prefix}:{kind}"


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """A job's record, with what a follower needs to tell one run from the next."""

    record: JobRecord
    attempts: int  # runs started so far
    preview_stamp: tuple[int, int]  # (run, number) of its latest preview: later is greater
    requeue_reason: str  # why it last went back to the queue


def snapshot_of(
    job_id: str,
    fields: list[bytes | None],
    meta: dict[bytes, bytes],
    job: Job | None,
    place: int | None,
    running: int,
    *,
    no_painter: bool,
) -> Snapshot | None:
    """The job as its keys say: ``fields`` of RECORD_FIELDS, its saq ``job``, its ``place``
    in saq's queued list and the number of ``running`` jobs. None: no such job (or gone)."""
    owner, order, cancel, raw_outcome, ack = fields
    if owner is None or order is None:
        return None
    outcome = json.loads(raw_outcome) if raw_outcome else None
    # (cancelled=None: read for its truth only: equivalent)
    state, error, result = state_of(outcome, job, cancelled=bool(cancel))
    progress, previews = None, 0
    if state is JobState.RUNNING and job is not None and job.meta.get("attempt") == job.attempts:
        progress = ProgressInfo.from_json(job.meta["progress"])
        # (the reporter writes "preview" with every "progress": the default is equivalent)
        previews = int(job.meta.get("preview", 0))
    ahead = 0
    if state is JobState.QUEUED and place is not None:  # else a worker is taking it
        ahead = place + running
    record = JobRecord(
        id=job_id,
        owner=owner.decode(),
        state=state,
        order=JobOrder.from_json(json.loads(order)),
        meta={key.decode(): json.loads(value) for key, value in meta.items()},
        ahead=ahead,
        no_painter=state is JobState.QUEUED and no_painter,
        progress=progress,
        error=error,
        error_code=outcome.get("code") if outcome else None,
        error_params=outcome.get("params", {}) if outcome else {},
        result=result,
        acknowledged=bool(ack),
    )
    attempts = job.attempts if job is not None else 0
    # (no error: "" is not a key, nor would any other string be: such mutants are equivalent)
    reason = {STOPPED: RESTARTING, SWEPT: LOST}.get((job and job.error) or "", RESTARTING)
    return Snapshot(record, attempts, (attempts, previews), reason)


def state_of(
    outcome: JSON | None, job: Job | None, *, cancelled: bool
) -> tuple[JobState, str | None, ResultInfo | None]:
    """The job's state (with its error or result) from its recorded outcome, else from
    saq's view of it."""
    if outcome is not None:
        state = JobState(outcome["state"])
        result = ResultInfo.from_json(outcome["result"]) if "result" in outcome else None
        return state, outcome.get("error"), result
    if job is None:  # saq forgot it without an ending: lost
        return JobState.FAILED, FAILURE_MESSAGE, None
    waiting = job.status in (Status.NEW, Status.QUEUED)
    if cancelled and (waiting or job.status is Status.ABORTED or job.stuck):
        # the owner cancelled it, and no worker is painting it (a worker that takes it
        # now drops it; one that stopped beating never answers saq's abort)
        return JobState.CANCELLED, None, None
    if waiting:
        return JobState.QUEUED, None, None
    if job.status in (Status.ACTIVE, Status.ABORTING):
        return JobState.RUNNING, None, None
    if job.status is Status.ABORTED and job.retryable:  # swept: about to be queued again
        return JobState.RUNNING, None, None
    return JobState.FAILED, FAILURE_MESSAGE, None  # out of attempts, or a bug of ours


def outcome_of(ending: Ending) -> JSON:
    """How ``ending`` is written into the record's ``outcome`` (``state_of`` reads it)."""
    if isinstance(ending, Finished):
        return {"state": "done", "result": ending.result.to_json()}
    if isinstance(ending, Cancelled):
        return {"state": "cancelled"}
    return failed_outcome(ending)


def failed_outcome(failed: Failed) -> JSON:
    if failed.code is None:
        return {"state": "failed", "error": failed.reason}
    return {"state": "failed", "error": failed.reason, "code": failed.code, "params": failed.params}


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def as_bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value
