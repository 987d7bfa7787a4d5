"""The job queue between the bot and the painters: one interface, two backends.

Embedded (the default): SQLite and files under ``DATA_DIR``, painters in this process.
Redis (``QUEUE_URL=redis://…``): jobs in Redis through the saq library, painters in
``stylebot-worker`` processes on any number of machines. Imports neither telegram nor torch.
"""

from .base import JobQueue, Painter, Report
from .model import (
    FAILURE_MESSAGE,
    JSON,
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
    PictureRefused,
    Progressed,
    ProgressInfo,
    Queued,
    QueueFull,
    QueueStats,
    Requeued,
    ResultInfo,
    Started,
    current_event,
    terminal_event,
)

__all__ = [
    "FAILURE_MESSAGE",
    "JSON",
    "TERMINAL",
    "AlreadyQueued",
    "Cancelled",
    "Failed",
    "Finished",
    "JobEvent",
    "JobQueue",
    "JobRecord",
    "JobSpec",
    "JobState",
    "PaintCancelled",
    "Painted",
    "Painter",
    "PictureRefused",
    "ProgressInfo",
    "Progressed",
    "QueueFull",
    "QueueStats",
    "Queued",
    "Report",
    "Requeued",
    "ResultInfo",
    "Started",
    "current_event",
    "terminal_event",
]
