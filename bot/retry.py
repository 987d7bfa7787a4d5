"""Sending through passing trouble: network errors, Telegram's 5xx and flood limits.

Two promises, two time limits:
- a reply to what a user sent (a new message, photo, file or film, and the ``getFile`` of a
  picture they sent) is retried for :data:`REPLY_GIVE_UP_SECONDS`, by the application's rate
  limiter (:class:`PatientRateLimiter`), so a short outage loses no answer;
- a finished picture (and the progress message's final edit) goes through
  :func:`with_retries` for far longer; the picture stays in the queue until then.
Edits of a progress message and answers to button presses only inform: they are not
retried here, and their callers never let them abort the work.

Each failed try is one WARNING line with a short reason (no traceback): during an outage
Telegram answers with an HTML page, which :class:`QuietRequest` keeps out of the log.
"""

from __future__ import annotations

import datetime as dtm
import json
import logging
import warnings
from asyncio import sleep
from collections.abc import Awaitable, Callable, Coroutine
from time import monotonic
from typing import Any, TypeVar

from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import AIORateLimiter
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

logger = logging.getLogger(__name__)

T = TypeVar("T")
JSONDict = dict[str, Any]
MAX_PAUSE = 15.0  # seconds between two tries of a send that keeps failing
#: A reply to a user is tried for this long before the bot gives up on it.
REPLY_GIVE_UP_SECONDS = 120.0
#: Bot API methods that answer a user: retried by :class:`PatientRateLimiter`.
REPLIES = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "sendAnimation", "sendMediaGroup", "getFile"}
)
_BRIEF = 120  # characters of an error's text worth a log line


async def persist(send: Callable[[], Awaitable[T]], give_up_after: float, what: str) -> T:
    """``send()`` until it gets through: passing network errors, 5xx and flood limits
    (honouring ``retry_after``) are waited out with growing pauses, one WARNING line each,
    for ``give_up_after`` seconds at most. Raises the last error then, or at once for an
    error that waiting cannot fix (blocked, chat gone, a refused request)."""
    deadline = monotonic() + give_up_after
    pause = 1.0
    failure: TelegramError
    while True:
        try:
            return await send()
        except RetryAfter as error:
            failure, wait = error, retry_after_seconds(error)
        except (Forbidden, BadRequest, InvalidToken):  # final: waiting cannot fix them
            raise
        except NetworkError as error:  # includes timeouts and Telegram's 5xx answers
            failure, wait, pause = error, pause, min(pause * 2, MAX_PAUSE)
        if monotonic() + wait > deadline:
            raise failure
        logger.warning("The %s failed (%s); trying again in %.0f s", what, brief(failure), wait)
        await sleep(wait)


async def with_retries(
    send: Callable[[], Awaitable[T]], give_up_after: float, what: str
) -> T | None:
    """:func:`persist`, for sends whose failure is logged rather than raised: None when it
    gave up."""
    try:
        return await persist(send, give_up_after, what)
    except (Forbidden, BadRequest) as error:
        logger.warning("Gave up on the %s: %s", what, brief(error))
    except TelegramError as error:
        logger.error("Gave up on the %s after %.0f s of failures: %s", what, give_up_after, error)
    return None


def is_passing(error: BaseException) -> bool:
    """Whether ``error`` is trouble that passes by itself (an outage, a flood limit), as
    opposed to a refusal or a bug."""
    if isinstance(error, RetryAfter):
        return True
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


def brief(error: BaseException) -> str:
    """An error's text cut to a log line's worth (an outage's HTML page is not news: PTB
    quotes the page after "Parsing the server response")."""
    text = " ".join(str(error).split(". Parsing the server response", 1)[0].split())
    return text if len(text) <= _BRIEF else f"{text[:_BRIEF]}…"


def retry_after_seconds(error: RetryAfter) -> float:
    """``RetryAfter.retry_after`` in seconds, whichever type this PTB version returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)  # int -> timedelta migration
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


class PatientRateLimiter(AIORateLimiter):
    """PTB's rate limiter, which also sees every reply through passing trouble (see
    :data:`REPLIES`); other calls are left to their callers."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        limited = super().process_request
        if endpoint not in REPLIES:
            return await limited(callback, args, kwargs, endpoint, data, rate_limit_args)

        async def send() -> bool | JSONDict | list[JSONDict]:
            return await limited(callback, args, kwargs, endpoint, data, rate_limit_args)

        return await persist(send, REPLY_GIVE_UP_SECONDS, f"{endpoint} call")


class QuietRequest(HTTPXRequest):
    """PTB's HTTP client, except that an answer that is not JSON (a proxy's error page during
    an outage) is an error to retry, not a logged traceback: the library logs one per call."""

    @staticmethod
    def parse_json_payload(payload: bytes) -> JSONDict:
        try:
            parsed: JSONDict = json.loads(payload.decode("utf-8", "replace"))
        except ValueError as error:
            raise TelegramError("Invalid server response") from error
        return parsed
