"""Which job a log line is about: set where a job is worked on, read by a logging filter."""

from __future__ import annotations

import logging
from contextvars import ContextVar

#: The job the current task (or thread started from it) works on; None outside a job.
current_job: ContextVar[str | None] = ContextVar("current_job", default=None)


class JobIdFilter(logging.Filter):
    """Adds ``job_id`` to every record (None outside a job), e.g. for JSON logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.job_id = current_job.get()
        return True
