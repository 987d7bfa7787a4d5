"""What the conversation's handlers share, whatever the platform: :class:`BotData`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from config.settings import Settings
from jobqueue import JobQueue

from .gallery import Gallery
from .limits import Limits
from .messenger import Messenger
from .metrics import Health, Metrics
from .progress import ChatThrottle
from .sessions import SessionStore

#: Starts a task of the bot's (a job's follower, a chore) under a name; a stop cancels it.
Spawn = Callable[[Coroutine[Any, Any, None], str], "asyncio.Task[None]"]


class BotData:
    """What all handlers of one front-end share. ``bot.service.prepare`` fills it in (the
    queue, settings, metrics and health are the process's, shared by every front-end); the
    front-end adds how it sends (``messenger``) and starts tasks (``spawn``)."""

    platform: str  # "telegram" or "discord": whose users these are
    settings: Settings
    button_key: bytes  # seals the buttons for their owners (see bot.buttons)
    queue: JobQueue
    sessions: SessionStore
    gallery: Gallery
    limits: Limits
    metrics: Metrics
    health: Health
    throttle: ChatThrottle
    messenger: Messenger  # how the conversation sends and edits on its platform
    spawn: Spawn
    followers: set[asyncio.Task[None]]  # one per job being shown: cancelled on a stop
    following: set[str]  # the ids of the jobs those tasks follow
    set_aside: set[str]  # jobs whose record is malformed: logged once, never followed
    holder: str  # this process's name on the jobs it claims (replicas share a queue)
    chores: list[asyncio.Task[None]]  # the adoption of jobs, the session sweep, the watcher
    stopping: bool = False  # set while the bot stops

    def who(self, user_id: int) -> str:
        """The user as ALLOWED_USERS and ADMIN_USERS name them: a Telegram user by their id,
        anyone else as ``platform:id``, so the ids of two platforms never collide."""
        return str(user_id) if self.platform == "telegram" else f"{self.platform}:{user_id}"
