"""Log lines for the bot and the workers alike: at LOG_LEVEL, as text or JSON (LOG_FORMAT),
each line about a job naming it, and no secret of the settings in any line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from pythonjsonlogger.json import JsonFormatter

from jobqueue.logs import JobIdFilter

from .settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(settings: Settings, *, quiet: Iterable[str] = ()) -> None:
    """Log to stderr at LOG_LEVEL with every secret the settings hold (token, webhook secret,
    Redis password) masked; ``quiet`` loggers (chatty libraries) only from WARNING up."""
    handler = logging.StreamHandler()
    handler.addFilter(JobIdFilter())
    handler.setFormatter(RedactingFormatter(settings.secrets(), formatter(settings.log_format)))
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    for name in quiet:
        logging.getLogger(name).setLevel(logging.WARNING)


def formatter(log_format: str) -> logging.Formatter:
    """LOG_FORMAT: lines for people, or one JSON object a line for log shippers (every line
    about a job carries its ``job_id``)."""
    if log_format == "json":
        return JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(job_id)s",
            rename_fields={"levelname": "level", "name": "logger", "asctime": "time"},
        )
    return logging.Formatter(LOG_FORMAT)


class RedactingFormatter(logging.Formatter):
    """Belt and braces: no secret shows in a log line, whoever logs it and at any level (a
    library's debug line of a request's parameters, an error quoting a URL, a traceback).
    Each is replaced by its variable's name, also where the line spells it escaped (JSON, a
    repr)."""

    def __init__(self, secrets: Iterable[tuple[str, str]], inner: logging.Formatter) -> None:
        super().__init__()
        self._inner = inner
        replacements = {
            spelling: f"<{variable}>"
            for variable, value in secrets
            if value
            for spelling in (value, json.dumps(value)[1:-1], repr(value)[1:-1])
        }
        #: Longest first, so that a secret inside another one cannot leave part of it.
        self._replacements = sorted(replacements.items(), key=lambda item: -len(item[0]))

    def format(self, record: logging.LogRecord) -> str:
        line = self._inner.format(record)
        for secret, name in self._replacements:
            line = line.replace(secret, name)
        return line
