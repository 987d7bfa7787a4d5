"""Telegram's errors in the conversation's words (``bot.messenger.Trouble``), so that waiting
out an outage or giving up on a closed chat is decided once, for every platform."""

from __future__ import annotations

import contextlib
import datetime as dtm
import warnings
from collections.abc import Iterator

from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from ..messenger import Gone, Refused, SlowDown, TooBig, Trouble, Unchanged, Unreachable


def trouble_of(error: TelegramError) -> Trouble:
    """The kind of trouble ``error`` is. Telegram says which by status code (flood limits,
    blocked bots, network and 5xx) and, for its 400s, only in words."""
    reason = error.message
    if isinstance(error, RetryAfter):
        return SlowDown(reason, retry_after_seconds(error))
    if isinstance(error, Forbidden):  # the user blocked the bot, or left the group
        return Gone(reason)
    if isinstance(error, BadRequest):
        lowered = reason.lower()
        if "not modified" in lowered:
            return Unchanged(reason)
        if "not found" in lowered:  # the message (or chat) was deleted
            return Gone(reason)
        if "too big" in lowered:
            return TooBig(reason)
        return Refused(reason)
    if isinstance(error, NetworkError):  # timeouts and Telegram's 5xx answers too
        return Unreachable(reason)
    return Refused(reason)  # a bad token, an answer that is not JSON: waiting cannot help


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Raise a Telegram error as the :class:`Trouble` it is (the original as its cause)."""
    try:
        yield
    except TelegramError as error:
        raise trouble_of(error) from error


def retry_after_seconds(error: RetryAfter) -> float:
    """``RetryAfter.retry_after`` in seconds, whichever type this PTB version returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)  # int -> timedelta migration
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def is_passing(error: BaseException) -> bool:
    """Whether ``error`` is trouble that passes by itself (an outage, a flood limit), as
    opposed to a refusal or a bug."""
    if isinstance(error, TelegramError):
        error = trouble_of(error)
    return isinstance(error, SlowDown | Unreachable)
