"""``build_application``: the whole chat's routing in one place, and the bot's lifecycle.

Reading ``_add_handlers`` top to bottom tells which command, which kind of message and which
button reaches which handler. In a group the bot only reacts when addressed: to commands,
to button presses, and to messages that reply to one of its own messages.
An unknown command that names the bot gets the same answer as in a private chat.
"""

from __future__ import annotations

import functools
import logging
import operator
import warnings

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

from engine.queue import StyleQueue

from . import handlers, texts
from .buttons import Action, ButtonData
from .context import BotApplication, BotData
from .media import IMAGE_MIME_TYPES
from .progress import ChatThrottle
from .sessions import SessionStore
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
    """An Application that ends its users' jobs before it waits for its tasks to finish.

    ``Application.stop`` awaits every task made by ``create_task``; a task following a job
    ends only when the job does, so without this a stop would wait for the whole queue.
    """

    async def stop(self) -> None:
        self.bot_data.stopping = True
        for job in self.bot_data.sessions.active_jobs():
            self.bot_data.queue.cancel(job)  # waiting jobs end now, a running one within a step
        await super().stop()


def build_application(settings: Settings, queue: StyleQueue | None = None) -> BotApplication:
    """The bot, ready for ``run_polling``; ``queue`` defaults to an in-process StyleQueue."""
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
    if queue is None:
        queue = StyleQueue(settings.engine_options(), max_waiting=settings.queue_max)
    data.queue = queue
    data.sessions = SessionStore()
    data.throttle = ChatThrottle(settings.progress_interval)
    _add_handlers(application)
    return application


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
    """Start the queue's worker (it warms the model in the background) and list the commands."""
    data: BotData = application.bot_data
    with warnings.catch_warnings():
        # PTB warns that tasks made before the application runs are not awaited by stop();
        # that is what we want: the worker lives until post_shutdown stops the queue.
        warnings.filterwarnings("ignore", "Tasks created via", PTBUserWarning)
        await data.queue.start(spawn=application.create_task)
    commands = [BotCommand(name, text) for name, text in texts.COMMAND_DESCRIPTIONS.items()]
    await application.bot.set_my_commands(commands)
    logger.info("Bot @%s is up", application.bot.username)


async def _post_shutdown(application: BotApplication) -> None:
    """Stop the queue and delete every picture this process kept."""
    data: BotData = application.bot_data
    await data.queue.stop()
    data.sessions.close()
    logger.info("Bot stopped; temporary files removed")
