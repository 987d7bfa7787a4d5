"""``build_application``: the whole chat's routing in one place, and the bot's lifecycle.

Reading ``_add_handlers`` top to bottom tells which command, which kind of message and which
button reaches which handler. In a group the bot only reacts when addressed: to commands,
to button presses, and to messages that reply to one of its own messages.
An unknown command that names the bot gets the same answer as in a private chat.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import operator
import warnings
from collections.abc import Coroutine
from typing import Any

from telegram import BotCommand, Message
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from jobqueue import JobQueue
from jobqueue.embedded import EmbeddedQueue

from . import handlers, jobs, texts
from .buttons import Action, ButtonData
from .context import BotApplication, BotData
from .media import IMAGE_MIME_TYPES
from .progress import ChatThrottle
from .sessions import SWEEP_EVERY_SECONDS, SessionStore
from .settings import Settings

logger = logging.getLogger(__name__)

#: Retries of a request that met a flood limit, after waiting as Telegram asks.
FLOOD_RETRIES = 3


class _ReplyToBot(filters.MessageFilter):
    """Messages that reply to one of this bot's own messages."""

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return bool(replied and replied.from_user and replied.from_user.id == message.get_bot().id)


class _CommandToBot(filters.MessageFilter):
    """Commands that name this bot (``/paint@this_bot``), as groups write them."""

    def filter(self, message: Message) -> bool:
        command = message.text.split(maxsplit=1)[0] if message.text else ""
        username = message.get_bot().username
        return command.startswith("/") and command.lower().endswith(f"@{username}".lower())


NEW_MESSAGE = filters.UpdateType.MESSAGE  # not edits, not channel posts
ADDRESSED = NEW_MESSAGE & (
    filters.ChatType.PRIVATE | _ReplyToBot(name="ReplyToBot") | _CommandToBot(name="CommandToBot")
)
IMAGE_FILE = functools.reduce(
    operator.or_, (filters.Document.MimeType(mime_type) for mime_type in IMAGE_MIME_TYPES)
)


class StyleBotApplication(BotApplication):
    """An Application that lets go of its jobs before it waits for its tasks to finish.

    ``Application.stop`` awaits every task made by ``create_task``; a task following a job
    ends only when the job does. On a stop the followers say "paused" and end; the jobs stay
    on the queue, and the next start follows them again.
    """

    async def stop(self) -> None:
        data = self.bot_data
        data.stopping = True
        for task in [*data.followers, *([data.sweeper] if data.sweeper else [])]:
            task.cancel()
        await super().stop()


def build_application(settings: Settings, queue: JobQueue | None = None) -> BotApplication:
    """The bot, ready for ``run_polling``; ``queue`` defaults to the one QUEUE_URL names."""
    application = (
        ApplicationBuilder()
        .application_class(StyleBotApplication)
        .token(settings.bot_token.reveal())
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .context_types(ContextTypes(bot_data=BotData))
        .rate_limiter(AIORateLimiter(max_retries=FLOOD_RETRIES))
        .job_queue(None)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    data: BotData = application.bot_data
    data.settings = settings
    data.queue = queue or default_queue(settings)
    data.sessions = SessionStore(settings.data_dir)
    data.throttle = ChatThrottle(settings.progress_interval)
    data.followers = set()
    _add_handlers(application)
    return application


def default_queue(settings: Settings) -> JobQueue:
    """Redis when QUEUE_URL says so (workers paint); else the embedded queue, painting here."""
    if settings.queue_url:
        from jobqueue.redis import RedisQueue

        return RedisQueue(settings.queue_url, max_waiting=settings.queue_max)
    from engine.painter import EnginePainter  # torch loads here

    painter = EnginePainter(settings.engine_options(), preview_interval=settings.preview_interval)
    return EmbeddedQueue(settings.data_dir, painter, max_waiting=settings.queue_max)


def _add_handlers(application: BotApplication) -> None:
    addressed = ADDRESSED
    application.add_handlers(
        [
            CommandHandler(["start", "help"], handlers.start, filters=NEW_MESSAGE),
            CommandHandler("status", handlers.status, filters=NEW_MESSAGE),
            CommandHandler("cancel", handlers.cancel, filters=NEW_MESSAGE),
            # A GIF carries a document too, so animations are sorted out before documents.
            MessageHandler(addressed & filters.ANIMATION, handlers.explain(texts.ANIMATION)),
            MessageHandler(addressed & (filters.PHOTO | IMAGE_FILE), handlers.receive_image),
            MessageHandler(
                addressed & filters.Document.ALL, handlers.explain(texts.NOT_AN_IMAGE_FILE)
            ),
            MessageHandler(addressed & filters.Sticker.ALL, handlers.explain(texts.STICKER)),
            MessageHandler(
                addressed & (filters.VOICE | filters.AUDIO | filters.VIDEO_NOTE),
                handlers.explain(texts.AUDIO),
            ),
            MessageHandler(addressed & filters.VIDEO, handlers.explain(texts.VIDEO)),
            MessageHandler(addressed & filters.COMMAND, handlers.explain(texts.UNKNOWN_COMMAND)),
            MessageHandler(addressed, handlers.explain(texts.NOT_A_PICTURE)),
            CallbackQueryHandler(handlers.paint, pattern=ButtonData.pattern(Action.PAINT)),
            CallbackQueryHandler(handlers.swap, pattern=ButtonData.pattern(Action.SWAP)),
            CallbackQueryHandler(handlers.drop, pattern=ButtonData.pattern(Action.DROP)),
            CallbackQueryHandler(handlers.stop, pattern=ButtonData.pattern(Action.STOP)),
            CallbackQueryHandler(handlers.new_pair, pattern=ButtonData.pattern(Action.NEW_PAIR)),
            CallbackQueryHandler(handlers.unknown_button),
        ]
    )
    application.add_error_handler(handlers.on_error)


async def _post_init(application: BotApplication) -> None:
    """Open the stores, pick up jobs from before a restart, and list the commands."""
    data: BotData = application.bot_data
    data.sessions.open()
    await data.queue.start()
    with warnings.catch_warnings():
        # PTB warns that tasks made before the application runs are not awaited by stop();
        # followers of resumed jobs are cancelled by our stop(), the sweep below too.
        warnings.filterwarnings("ignore", "Tasks created via", PTBUserWarning)
        await jobs.resume(data, functools.partial(_task, application), application.bot)
        data.sweeper = application.create_task(_sweep(data), name="session sweep")
    commands = [BotCommand(name, text) for name, text in texts.COMMAND_DESCRIPTIONS.items()]
    await application.bot.set_my_commands(commands)
    logger.info("Bot @%s is up", application.bot.username)


def _task(
    application: BotApplication, coroutine: Coroutine[Any, Any, None], name: str
) -> asyncio.Task[None]:
    return application.create_task(coroutine, name=name)


async def _sweep(data: BotData) -> None:
    """Now and then, forget sessions idle for a day whose user has no job in the works."""
    while True:
        await asyncio.sleep(SWEEP_EVERY_SECONDS)
        await forget_idle(data)


async def forget_idle(data: BotData) -> int:
    """One sweep; returns how many sessions it forgot."""
    forgotten = 0
    for session in data.sessions.idle():
        if await data.queue.job_of(session.owner) is None:
            data.sessions.forget(session)
            forgotten += 1
    return forgotten


async def _post_shutdown(application: BotApplication) -> None:
    """Close the queue (a job painting here goes back on it) and the session store."""
    data: BotData = application.bot_data
    await data.queue.close()
    data.sessions.close()
    logger.info("Bot stopped; its jobs and pictures stay in %s", data.settings.data_dir)
