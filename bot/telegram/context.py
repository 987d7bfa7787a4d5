"""PTB's types as this bot uses them: its ``context`` carries a :class:`~bot.context.BotData`."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from ..context import BotData

#: ``ExtBot[int]``: AIORateLimiter's per-request argument is a number of retries.
Context = CallbackContext[ExtBot[int], dict[Any, Any], dict[Any, Any], BotData]
#: The application ``build_application`` makes: no PTB job queue (painting jobs are ours).
BotApplication = Application[ExtBot[int], Context, dict[Any, Any], dict[Any, Any], BotData, None]
#: A PTB callback.
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]
