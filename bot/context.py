"""The typed ``context`` every handler receives: ``context.bot_data`` is a :class:`BotData`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from config.settings import Settings
from jobqueue import JobQueue

from .gallery import Gallery
from .limits import Limits
from .metrics import Health, Metrics, MonitorServer
from .progress import ChatThrottle
from .sessions import SessionStore


class BotData:
    """What all handlers share. PTB creates it empty; ``build_application`` fills it in."""

    settings: Settings
    button_key: bytes  # seals the buttons for their owners (see bot.buttons)
    queue: JobQueue
    sessions: SessionStore
    gallery: Gallery
    limits: Limits
    metrics: Metrics
    health: Health
    monitor: MonitorServer | None = None  # METRICS_PORT's server, when set
    throttle: ChatThrottle
    followers: set[asyncio.Task[None]]  # one per job being shown: cancelled on a stop
    following: set[str]  # the ids of the jobs those tasks follow
    set_aside: set[str]  # jobs whose record is malformed: logged once, never followed
    holder: str  # this process's name on the jobs it claims (replicas share a queue)
    chores: list[asyncio.Task[None]]  # the session sweep, the metrics watcher
    stopping: bool = False  # set while the application stops


#: ``ExtBot[int]``: AIORateLimiter's per-request argument is a number of retries.
Context = CallbackContext[ExtBot[int], dict[Any, Any], dict[Any, Any], BotData]
#: The application ``build_application`` makes: no PTB job queue (painting jobs are ours).
BotApplication = Application[ExtBot[int], Context, dict[Any, Any], dict[Any, Any], BotData, None]
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]
