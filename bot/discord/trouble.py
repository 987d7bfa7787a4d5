"""Discord's errors in the conversation's words (``bot.messenger.Trouble``). discord.py has
already waited out rate limits and retried 5xx answers a few times by then."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import aiohttp
import discord

from ..messenger import Gone, Refused, SlowDown, TooBig, Trouble, Unreachable

#: Discord's JSON error code for a file over the upload limit.
TOO_LARGE = 40005


def trouble_of(error: Exception) -> Trouble:
    """The kind of trouble ``error`` is: by HTTP status, and Discord's JSON codes."""
    if isinstance(error, discord.RateLimited):  # longer than discord.py waits by itself
        return SlowDown(str(error), error.retry_after)
    if isinstance(error, discord.DiscordServerError):
        return Unreachable(_reason(error))
    if isinstance(error, discord.NotFound | discord.Forbidden):  # deleted, or DMs closed
        return Gone(_reason(error))
    if isinstance(error, discord.HTTPException):
        if error.status == 413 or error.code == TOO_LARGE:
            return TooBig(_reason(error))
        if error.status >= 500:  # the CDN's (discord.py raises a plain HTTPException there)
            return Unreachable(_reason(error))
        if error.status == 429:  # the CDN's too: discord.py waits out only the API's
            return SlowDown(_reason(error), _retry_after(error))
        return Refused(_reason(error))
    return Unreachable(str(error) or type(error).__name__)  # the network, a timeout


def _retry_after(error: discord.HTTPException) -> float:
    try:
        return max(float(error.response.headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return 1.0


def _reason(error: discord.HTTPException) -> str:
    return f"{error.status} {error.text or error.response.reason}".strip()


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Raise a Discord or network error as the :class:`Trouble` it is (the original as its
    cause)."""
    try:
        yield
    except (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, OSError) as error:
        raise trouble_of(error) from error  # OSError: timeouts and refused connections too
