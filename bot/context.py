"""The typed ``context`` every handler receives: ``context.bot_data`` is a :class:`BotData`."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from engine.queue import StyleQueue

from .progress import ChatThrottle
from .sessions import SessionStore
from .settings import Settings


class BotData:
    """What all handlers share. PTB creates it empty; ``build_application`` fills it in."""

    settings: Settings
    queue: StyleQueue
    sessions: SessionStore
    throttle: ChatThrottle
    stopping: bool = False  # set while the application stops: jobs end as "restarting"


#: ``ExtBot[int]``: AIORateLimiter's per-request argument is a number of retries.
Context = CallbackContext[ExtBot[int], dict[Any, Any], dict[Any, Any], BotData]
#: The application ``build_application`` makes: no PTB job queue (painting jobs are ours).
BotApplication = Application[ExtBot[int], Context, dict[Any, Any], dict[Any, Any], BotData, None]
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]
