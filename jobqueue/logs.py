"""What log lines of the queue carry: which job a line is about (set where a job is worked
on, read by a logging filter), and the queue's URL without its password."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from urllib.parse import unquote_plus, urlsplit

#: The job the current task (or thread started from it) works on; None outside a job.
current_job: ContextVar[str | None] = ContextVar("current_job", default=None)


class JobIdFilter(logging.Filter):
    """Adds ``job_id`` to every record (None outside a job), e.g. for JSON logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.job_id = current_job.get()
        return True


def redact_url(url: str) -> str:
    """A Redis URL fit for a log line: its password, as ``:password@`` or as ``?password=``,
    becomes ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username or ''}:***@{netloc.rsplit('@', 1)[1]}"
    query = "&".join(
        "password=***" if is_password(pair) else pair for pair in parts.query.split("&")
    )
    return parts._replace(netloc=netloc, query=query).geturl()


def is_password(pair: str) -> bool:
    """Whether a URL's query pair ``key=value`` is the password (its key, decoded)."""
    return unquote_plus(pair.partition("=")[0]) == "password"
