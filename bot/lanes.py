"""One user's turns in order, different users' side by side.

A platform hands the bot updates as they come; under load a quick /status must not wait
behind everyone's downloads, yet one user's two photos (an album) must not race each other.
So each user has a lane: a lock held while one of their turns is handled, forgotten when
nobody waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable


class UserLanes:
    """One lock per user (any hashable key; None is the lane of updates without a user)."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._holders: dict[Hashable, int] = {}  # turns waiting for or holding each lock

    @contextlib.asynccontextmanager
    async def lane(self, user: Hashable) -> AsyncIterator[None]:
        """Hold ``user``'s lane while the block runs."""
        lock = self._locks.setdefault(user, asyncio.Lock())
        self._holders[user] = self._holders.get(user, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._holders[user] -= 1
            if not self._holders[user]:  # nobody else queued for this user: forget the lock
                del self._holders[user], self._locks[user]

    def __len__(self) -> int:
        """How many lanes are in use."""
        return len(self._locks)
