"""Updates of different users are handled at the same time; one user's, in order.

PTB handles one update at a time by default, so under load a quick /status waits behind
everyone's downloads and previews. Running all updates at once would let one user's two
photos (an album) race each other. This processor does both right: one lock per user.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

#: Updates in progress at once, over all users.
MAX_CONCURRENT_UPDATES = 64


class PerUserUpdates(BaseUpdateProcessor):
    """One user's updates in order, one at a time; different users' side by side."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int | None, asyncio.Lock] = {}
        self._holders: dict[int | None, int] = {}  # updates waiting for or holding each lock

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _user(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:  # nobody else queued for this user: forget the lock
                del self._holders[key], self._locks[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _user(update: object) -> int | None:
    """Whose update this is; updates without a user (channel posts) share one lane."""
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return None
