"""The job queue between the bot and the painters: one interface, two backends.

Embedded (the default): SQLite and files under ``DATA_DIR``, painters in this process.
Redis (``QUEUE_URL=redis://…``): jobs in Redis through the saq library, painters in
``stylebot-worker`` processes on any number of machines. Imports neither telegram nor torch.

``base`` is the interface, ``model`` and ``orders`` the vocabulary, ``policy`` the rules
both backends keep (written once: what a painter's run makes of its job, how often a job
is tried again, how long things are kept); ``embedded/`` and ``redis/`` are the backends.
"""

from .base import JobQueue, Painter, Report
from .model import (
    FAILURE_MESSAGE,
    TERMINAL,
    AlreadyQueued,
    Cancelled,
    Failed,
    Finished,
    JobEvent,
    JobRecord,
    JobSpec,
    JobState,
    PaintCancelled,
    Painted,
    PaintRefused,
    Progressed,
    ProgressInfo,
    Queued,
    QueueFull,
    QueueStats,
    QueueUnavailable,
    Requeued,
    ResultInfo,
    Started,
    current_event,
    terminal_event,
)
from .orders import JSON, JobOrder, Note, NoteCode, Size, Strength
from .policy import (
    KEEP_ENDED_SECONDS,
    KEEP_FILMS_SECONDS,
    NO_PAINTER_CODE,
    NO_PAINTER_GIVE_UP_SECONDS,
)

__all__ = [
    "FAILURE_MESSAGE",
    "JSON",
    "KEEP_ENDED_SECONDS",
    "KEEP_FILMS_SECONDS",
    "NO_PAINTER_CODE",
    "NO_PAINTER_GIVE_UP_SECONDS",
    "TERMINAL",
    "AlreadyQueued",
    "Cancelled",
    "Failed",
    "Finished",
    "JobEvent",
    "JobOrder",
    "JobQueue",
    "JobRecord",
    "JobSpec",
    "JobState",
    "Note",
    "NoteCode",
    "PaintCancelled",
    "PaintRefused",
    "Painted",
    "Painter",
    "ProgressInfo",
    "Progressed",
    "QueueFull",
    "QueueStats",
    "QueueUnavailable",
    "Queued",
    "Report",
    "Requeued",
    "ResultInfo",
    "Size",
    "Started",
    "Strength",
    "current_event",
    "terminal_event",
]
