"""The typed ``context`` every handler receives: ``context.bot_data`` is a :class:`BotData`."""

from __future__ import annotations

from typing import Any

from telegram.ext import CallbackContext, ExtBot

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


Context = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]
