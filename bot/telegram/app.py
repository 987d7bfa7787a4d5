"""``build_application``: the Telegram front-end — which update reaches which handler, and the
bot's start and stop as PTB runs them.

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

from telegram import BotCommand, Message, Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from config.settings import Settings
from jobqueue import JobQueue

from .. import i18n, service, texts
from ..context import BotData
from ..handlers import COMMANDS
from ..media import IMAGE_MIME_TYPES
from . import updates
from .context import BotApplication
from .messenger import TelegramMessenger
from .ordering import PerUserUpdates
from .requests import PatientRateLimiter, QuietRequest

logger = logging.getLogger(__name__)

#: Retries of a request that met a flood limit, after waiting as Telegram asks.
FLOOD_RETRIES = 3
#: Connections to the Bot API for everything but getUpdates (PTB's own default).
CONNECTIONS = 256


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


class _FromPerson(filters.MessageFilter):
    """Messages a person sent: not another bot (nor an anonymous admin, sent as a bot)."""

    def filter(self, message: Message) -> bool:
        return message.from_user is not None and not message.from_user.is_bot


# Not edits (a changed photo or caption is not a new picture), not channel posts, not bots.
NEW_MESSAGE = filters.UpdateType.MESSAGE & _FromPerson(name="FromPerson")
ADDRESSED = NEW_MESSAGE & (
    filters.ChatType.PRIVATE | _ReplyToBot(name="ReplyToBot") | _CommandToBot(name="CommandToBot")
)
IMAGE_FILE = functools.reduce(
    operator.or_, (filters.Document.MimeType(mime_type) for mime_type in IMAGE_MIME_TYPES)
)
#: An iPhone photo sent as a file; as a photo, Telegram's app turns it into a JPEG.
HEIC_FILE = (
    filters.Document.MimeType("image/heic")
    | filters.Document.MimeType("image/heif")
    | filters.Document.FileExtension("heic")
    | filters.Document.FileExtension("heif")
)


class StyleBotApplication(BotApplication):
    """An Application that lets go of its jobs before it waits for its tasks to finish.

    ``Application.stop`` awaits every task made by ``create_task``; a task following a job
    ends only when the job does. On a stop the followers say "paused" and end; the jobs stay
    on the queue, and the next start follows them again.
    """

    shared: service.Shared  # the process's queue, metrics and health
    owns_shared: bool = False  # alone in its process: it opens and closes them itself

    async def stop(self) -> None:
        service.let_go(self.bot_data)
        await super().stop()


def build_application(
    settings: Settings, queue: JobQueue | None = None, *, shared: service.Shared | None = None
) -> BotApplication:
    """The Telegram front-end, ready to run. Beside other front-ends it gets the process's
    ``shared`` parts (opened and closed by whoever made them); alone, it makes its own, with
    ``queue`` (default: the one QUEUE_URL names), and opens and closes them itself."""
    application = (
        ApplicationBuilder()
        .application_class(StyleBotApplication)
        .token(settings.bot_token.reveal())
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .context_types(ContextTypes(bot_data=BotData))
        .rate_limiter(PatientRateLimiter(max_retries=FLOOD_RETRIES))
        .request(QuietRequest(connection_pool_size=CONNECTIONS))
        .get_updates_request(QuietRequest())
        .concurrent_updates(PerUserUpdates())
        .job_queue(None)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    assert isinstance(application, StyleBotApplication)
    application.owns_shared = shared is None
    application.shared = shared or service.shared(settings, queue)
    data: BotData = application.bot_data
    service.prepare(
        data, application.shared, platform="telegram", token=settings.bot_token.reveal()
    )
    application.shared.receivers.append(
        lambda: application.updater is not None and application.updater.running
    )
    data.messenger = TelegramMessenger(application.bot)
    data.spawn = functools.partial(_task, application)
    _add_handlers(application)
    return application


def _add_handlers(application: BotApplication) -> None:
    addressed = ADDRESSED
    explain = updates.explain
    # Group -2 runs first: strangers stop there (ALLOWED_USERS); then, in group -1, a press
    # on a button sealed for someone else.
    application.add_handler(TypeHandler(Update, updates.gate(addressed)), group=-2)
    application.add_handler(CallbackQueryHandler(updates.check_seal), group=-1)
    application.add_handlers(
        [
            *(
                CommandHandler(name, updates.command(handler), filters=NEW_MESSAGE)
                for name, handler in COMMANDS.items()
            ),
            # A GIF carries a document too, so animations are sorted out before documents.
            MessageHandler(addressed & filters.ANIMATION, explain(texts.ANIMATION)),
            MessageHandler(addressed & (filters.PHOTO | IMAGE_FILE), updates.receive_image),
            MessageHandler(addressed & HEIC_FILE, explain(texts.HEIC)),
            MessageHandler(addressed & filters.Document.ALL, explain(texts.NOT_AN_IMAGE_FILE)),
            MessageHandler(addressed & filters.Sticker.ALL, explain(texts.STICKER)),
            MessageHandler(addressed & (filters.VOICE | filters.AUDIO), explain(texts.AUDIO)),
            MessageHandler(addressed & (filters.VIDEO | filters.VIDEO_NOTE), explain(texts.VIDEO)),
            MessageHandler(addressed & filters.COMMAND, explain(texts.UNKNOWN_COMMAND)),
            MessageHandler(addressed, explain(texts.NOT_A_PICTURE)),
            # Every button, to the handler of its action (bot.handlers.PRESSES); data this
            # bot did not make is answered as unknown.
            CallbackQueryHandler(updates.press),
        ]
    )
    application.add_error_handler(updates.on_error)


async def _post_init(application: BotApplication) -> None:
    """Open the stores, pick up jobs from before a restart, and list the commands."""
    assert isinstance(application, StyleBotApplication)
    if application.owns_shared:
        await service.open_shared(application.shared)
    await service.open_up(application.bot_data)
    await _list_commands(application)
    logger.info("Bot @%s is up", application.bot.username)


async def _list_commands(application: BotApplication) -> None:
    """The command menu in each language: English for everyone, and each other language for
    the Telegram apps set to it."""
    for language in i18n.LANGUAGES:
        t = i18n.translator(language)
        commands = [BotCommand(name, t(text)) for name, text in texts.COMMAND_DESCRIPTIONS.items()]
        code = None if language == i18n.DEFAULT else language
        await application.bot.set_my_commands(commands, language_code=code)


def _task(
    application: BotApplication, coroutine: Coroutine[Any, Any, None], name: str
) -> asyncio.Task[None]:
    """A task of ours: the chores, and followers of adopted jobs. Our ``stop()`` cancels each
    of them, so PTB's warning that a task made while it is not running is not awaited by its
    stop (true at start-up, and for the adoption chore's first round) does not apply."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Tasks created via", PTBUserWarning)
        return application.create_task(coroutine, name=name)


async def _post_shutdown(application: BotApplication) -> None:
    assert isinstance(application, StyleBotApplication)
    await service.close(application.bot_data)
    if application.owns_shared:
        await service.close_shared(application.shared)
