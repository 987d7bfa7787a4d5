"""What a job is, what can happen to it, and what the queue refuses: one vocabulary for the
bot, the workers and both backends. Nothing here knows of Telegram or of PyTorch."""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field

from .orders import JSON, JobOrder, Note


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        """Waiting or being painted: the owner may not submit another."""
        return self in (JobState.QUEUED, JobState.RUNNING)


@dataclass(frozen=True)
class JobSpec:
    """A job as submitted: the two pictures, what it asks of the painter, and the
    submitter's own notes."""

    owner: str  # one active job per owner
    content: bytes = field(repr=False)
    style: bytes = field(repr=False)
    order: JobOrder = field(default_factory=JobOrder)
    meta: JSON = field(default_factory=dict)  # the submitter's own (chat, message ids); kept


@dataclass(frozen=True)
class ProgressInfo:
    """How far a running job is; ``preview`` is a small JPEG of the picture, now and then."""

    step: int
    total: int
    scale: int  # 0-based
    scales: int
    elapsed: float
    eta: float
    preview: bytes | None = field(default=None, repr=False)

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 1.0

    def to_json(self) -> str:
        """The numbers only: a preview travels on its own."""
        return json.dumps({k: v for k, v in asdict(self).items() if k != "preview"})

    @classmethod
    def from_json(cls, text: str, preview: bytes | None = None) -> ProgressInfo:
        # (no caller passes ``preview`` today: mutants that drop it are equivalent)
        return cls(**json.loads(text), preview=preview)


@dataclass(frozen=True)
class Painted:
    """A painter's finished picture (PNG) and how it was made."""

    png: bytes = field(repr=False)
    width: int
    height: int
    elapsed: float
    note: Note | None = None  # e.g. made smaller than asked: the GPU had no room for more
    making_of: bytes | None = field(default=None, repr=False)  # a short GIF of the run
    faces: int = 0  # faces that kept the person's features (0: none found, or not asked)


@dataclass(frozen=True)
class ResultInfo:
    """What the queue keeps about a finished picture; the PNG itself is fetched on demand."""

    width: int
    height: int
    elapsed: float
    note: Note | None = None
    making_of: bool = False  # a film of the run is kept (for a day): see ``making_of``
    faces: int = 0  # faces kept, for the caption to say so

    @classmethod
    def of(cls, painted: Painted) -> ResultInfo:
        film = painted.making_of is not None
        return cls(
            painted.width, painted.height, painted.elapsed, painted.note, film, painted.faces
        )

    def to_json(self) -> JSON:
        fields = asdict(self)
        fields["note"] = self.note.to_json() if self.note is not None else None
        return fields

    @classmethod
    def from_json(cls, data: JSON) -> ResultInfo:
        """As ``to_json`` made it (a note from before notes were typed, a sentence, is
        dropped: the picture's caption says its size anyway; a result from before faces were
        counted kept none)."""
        note = data.get("note")
        typed = Note.from_json(note) if isinstance(note, dict) else None
        return cls(**{**data, "note": typed})


@dataclass(frozen=True)
class JobRecord:
    """A snapshot of one job as the queue knows it."""

    id: str
    owner: str
    state: JobState
    order: JobOrder
    meta: JSON
    ahead: int = 0  # jobs before this one, running ones included (queued jobs only)
    no_painter: bool = False  # queued while no painter is online: it starts when one is
    progress: ProgressInfo | None = None  # latest, while running
    error: str | None = None  # why it failed, in words a user can read
    error_code: str | None = None  # the same for a program (e.g. "too_small"), if the painter said
    error_params: JSON = field(default_factory=dict)  # the numbers behind error_code
    result: ResultInfo | None = None
    acknowledged: bool = False  # the submitter has told its user how it ended


@dataclass(frozen=True)
class QueueStats:
    """The queue at a glance, for the operator: now, and since a given time."""

    waiting: int
    running: int
    outcomes: dict[str, int]  # "done", "failed", "cancelled": jobs that ended since
    durations: list[float]  # seconds of painting of each job done since
    workers: int  # painters alive now


# ---- events, in the order a job meets them ----------------------------------------------------


@dataclass(frozen=True)
class Queued:
    ahead: int  # jobs that run before this one
    no_painter: bool = False  # no painter is online: the job waits for one (and says so)


@dataclass(frozen=True)
class Started:
    pass


@dataclass(frozen=True)
class Progressed:
    progress: ProgressInfo


@dataclass(frozen=True)
class Requeued:
    """The job went back to the queue: its worker stopped or died. It will start again."""

    reason: str


@dataclass(frozen=True)
class Finished:
    result: ResultInfo


@dataclass(frozen=True)
class Failed:
    reason: str  # readable by the user (in English)
    code: str | None = None  # what went wrong, for a submitter that words it itself
    params: JSON = field(default_factory=dict)  # the numbers behind ``code``


@dataclass(frozen=True)
class Cancelled:
    pass


JobEvent = Queued | Started | Progressed | Requeued | Finished | Failed | Cancelled
#: How a job ended: the last event a follower sees.
Ending = Finished | Failed | Cancelled
TERMINAL = (Finished, Failed, Cancelled)


def ended_state(ending: Ending) -> JobState:
    """The state a job is in once ``ending`` ended it (``terminal_event`` the other way)."""
    if isinstance(ending, Finished):
        return JobState.DONE
    if isinstance(ending, Failed):
        return JobState.FAILED
    return JobState.CANCELLED


def terminal_event(record: JobRecord) -> JobEvent | None:
    """The event that ended ``record``'s job, if it has ended."""
    # (a record has a result only when DONE: "or" is equivalent)
    if record.state is JobState.DONE and record.result is not None:
        return Finished(record.result)
    if record.state is JobState.FAILED:
        return Failed(record.error or FAILURE_MESSAGE, record.error_code, record.error_params)
    if record.state is JobState.CANCELLED:
        return Cancelled()
    return None


def current_event(record: JobRecord) -> JobEvent:
    """The event that describes ``record`` now: where a new follower starts."""
    ended = terminal_event(record)
    if ended is not None:
        return ended
    if record.state is JobState.QUEUED:
        return Queued(record.ahead, record.no_painter)
    if record.progress is not None:
        return Progressed(record.progress)
    return Started()


# ---- what a painter may raise, and what the queue refuses -------------------------------------

FAILURE_MESSAGE = "Something went wrong while painting. Please try again."


class PaintCancelled(Exception):
    """The painter saw the cancel event and stopped."""


class PaintRefused(Exception):
    """The user's picture cannot be painted (e.g. too small); the message says why.

    ``code`` and ``params`` (optional) say it for a program, e.g. ``"too_small"`` and
    ``{"width": 16, "height": 16, "min_side": 32}``: they reach the submitter on ``Failed``.
    """

    def __init__(self, message: str, code: str | None = None, params: JSON | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.params: JSON = dict(params or {})

    def failed(self) -> Failed:
        """The job's ending this refusal makes."""
        return Failed(str(self), self.code, self.params)


class QueueFull(Exception):
    """Too many jobs are waiting; the caller should ask the user to come back later."""


class QueueUnavailable(Exception):
    """The queue cannot take a job now, and nothing was queued: its store does not answer
    (Redis is down), or its painter, in this process, could not start. The message says which,
    for the log; the caller should ask the user to try again later."""


class AlreadyQueued(Exception):
    """The owner already has a job waiting or running (one at a time per owner)."""

    def __init__(self, record: JobRecord) -> None:
        super().__init__(f"owner {record.owner} already has job {record.id}")
        self.record = record
