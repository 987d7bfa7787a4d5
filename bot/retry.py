"""Sending through passing trouble: a platform unreachable, its 5xx answers, rate limits.

Two promises, two time limits:
- a reply to what a user sent (a new message, photo, file or film, and the download of a
  picture they sent) is retried for :data:`REPLY_GIVE_UP_SECONDS`, by the front-end
  (Telegram's rate limiter, ``bot.telegram.requests``), so a short outage loses no answer;
- a finished picture (and the progress message's final edit) goes through
  :func:`with_retries` for far longer; the picture stays in the queue until then.
Edits of a progress message and answers to button presses only inform: they are not
retried here, and their callers never let them abort the work.

Each failed try is one WARNING line with a short reason (no traceback). The errors are the
platform-neutral :class:`~bot.messenger.Trouble` kinds, so this is written once for every
front-end.
"""

from __future__ import annotations

import logging
from asyncio import sleep
from collections.abc import Awaitable, Callable
from time import monotonic
from typing import TypeVar

from .messenger import Refused, SlowDown, Trouble, Unreachable

logger = logging.getLogger(__name__)

T = TypeVar("T")
MAX_PAUSE = 15.0  # seconds between two tries of a send that keeps failing
#: A reply to a user is tried for this long before the bot gives up on it.
REPLY_GIVE_UP_SECONDS = 120.0
_BRIEF = 120  # characters of an error's text worth a log line


async def persist(send: Callable[[], Awaitable[T]], give_up_after: float, what: str) -> T:
    """``send()`` until it gets through: passing trouble (:class:`Unreachable`, and
    :class:`SlowDown`, honouring its pause) is waited out with growing pauses, one WARNING
    line each, for ``give_up_after`` seconds at most. Raises the last error then, or at once
    for an error that waiting cannot fix (:class:`Refused`: blocked, chat gone, bad request)."""
    deadline = monotonic() + give_up_after
    pause = 1.0
    failure: Trouble
    while True:
        try:
            return await send()
        except SlowDown as error:
            failure, wait = error, error.seconds
        except Unreachable as error:
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
    except Refused as error:
        logger.warning("Gave up on the %s: %s", what, brief(error))
    except Trouble as error:
        logger.error("Gave up on the %s after %.0f s of failures: %s", what, give_up_after, error)
    return None


def brief(error: BaseException) -> str:
    """An error's text cut to a log line's worth (an outage's HTML page is not news:
    Telegram's library quotes the page after "Parsing the server response")."""
    # (maxsplit 1, 2 or none, or rsplit: Telegram says it once, and [0] is what comes before
    # it: equivalent)
    text = " ".join(str(error).split(". Parsing the server response", 1)[0].split())
    return text if len(text) <= _BRIEF else f"{text[:_BRIEF]}…"
