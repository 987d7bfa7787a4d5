"""Updates of different users are handled at the same time; one user's, in order
(``bot.lanes``). PTB handles one update at a time by default, so under load a quick /status
would wait behind everyone's downloads and previews."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from ..lanes import UserLanes

#: Updates in progress at once, over all users.
MAX_CONCURRENT_UPDATES = 64


class PerUserUpdates(BaseUpdateProcessor):
    """One user's updates in order, one at a time; different users' side by side."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._lanes = UserLanes()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        async with self._lanes.lane(_user(update)):
            await coroutine

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _user(update: object) -> int | None:
    """Whose update this is; updates without a user (channel posts) share one lane."""
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return None
