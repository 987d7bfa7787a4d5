"""Sending through passing trouble: network errors, Telegram's 5xx and flood limits.

A finished picture must not be lost to a hiccup, so its sends (and the progress message's
final edit) go through :func:`with_retries`; the picture stays in the queue until then.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import time
import warnings
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.warnings import PTBDeprecationWarning

logger = logging.getLogger(__name__)

T = TypeVar("T")
MAX_PAUSE = 60.0  # seconds between two tries of a send that keeps failing


async def with_retries(
    send: Callable[[], Awaitable[T]], give_up_after: float, what: str
) -> T | None:
    """``send()`` until it gets through: passing network errors, 5xx and flood limits
    (honouring ``retry_after``) are waited out with growing pauses, for ``give_up_after``
    seconds at most; then, or on an error that waiting cannot fix, it logs and gives up.
    """
    deadline = time.monotonic() + give_up_after
    pause = 1.0
    while True:
        try:
            return await send()
        except RetryAfter as error:
            wait = retry_after_seconds(error)
        except (Forbidden, BadRequest) as error:  # blocked, chat gone, refused: final
            logger.warning("Gave up on the %s: %s", what, error)
            return None
        except NetworkError as error:  # includes timeouts and Telegram's 5xx answers
            wait, pause = pause, min(pause * 2, MAX_PAUSE)
            logger.info("The %s failed (%s); trying again in %.0f s", what, error, wait)
        if time.monotonic() + wait > deadline:
            logger.error("Gave up on the %s after %.0f s of failures", what, give_up_after)
            return None
        await asyncio.sleep(wait)


def retry_after_seconds(error: RetryAfter) -> float:
    """``RetryAfter.retry_after`` in seconds, whichever type this PTB version returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)  # int -> timedelta migration
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)
