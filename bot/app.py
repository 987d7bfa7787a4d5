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
import os
import secrets
import socket
import time
import warnings
from collections.abc import Coroutine
from typing import Any

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
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
from jobqueue.embedded import EmbeddedQueue

from . import i18n, jobs, texts
from .buttons import Action, ButtonData, button_key
from .context import BotApplication, BotData
from .gallery import Gallery
from .handlers import chat, errors, gallery, guards, pairs, pictures, preferences
from .limits import Limits
from .media import IMAGE_MIME_TYPES
from .metrics import (
    NO_PAINTER,
    NOT_RECEIVING,
    QUEUE_UNREACHABLE,
    STARTING,
    Health,
    Metrics,
    MonitorServer,
)
from .ordering import PerUserUpdates
from .progress import ChatThrottle
from .retry import PatientRateLimiter, QuietRequest
from .sessions import SWEEP_EVERY_SECONDS, SessionStore

logger = logging.getLogger(__name__)

#: Retries of a request that met a flood limit, after waiting as Telegram asks.
FLOOD_RETRIES = 3
#: Connections to the Bot API for everything but getUpdates (PTB's own default).
CONNECTIONS = 256
#: Seconds between two looks for jobs that no replica reports.
ADOPT_EVERY_SECONDS = 15.0
#: Seconds between two looks at the queue for the metrics and the health check.
WATCH_EVERY_SECONDS = 5.0


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

    async def stop(self) -> None:
        data = self.bot_data
        data.stopping = True
        for task in [*data.followers, *data.chores]:
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
        .rate_limiter(PatientRateLimiter(max_retries=FLOOD_RETRIES))
        .request(QuietRequest(connection_pool_size=CONNECTIONS))
        .get_updates_request(QuietRequest())
        .concurrent_updates(PerUserUpdates())
        .job_queue(None)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    data: BotData = application.bot_data
    data.settings = settings
    data.button_key = button_key(settings.bot_token.reveal())
    data.queue = queue or default_queue(settings)
    data.sessions = SessionStore(settings.data_dir)
    data.gallery = Gallery(settings.data_dir)
    data.limits = Limits(
        settings.data_dir,
        pictures_per_minute=settings.pictures_per_minute,
        jobs_per_day=settings.jobs_per_user_per_day,
        data_max_mb=settings.data_max_mb,
    )
    data.metrics = Metrics(_registry())
    data.health = Health()
    data.throttle = ChatThrottle(settings.progress_interval)
    data.followers = set()
    data.following = set()
    data.set_aside = set()
    data.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    data.chores = []
    _add_handlers(application)
    return application


def _registry() -> CollectorRegistry:
    """A registry per application (tests build many), with the library's process metrics."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def default_queue(settings: Settings) -> JobQueue:
    """Redis when QUEUE_URL says so (workers paint); else the embedded queue, painting here."""
    if settings.queue_url:
        from jobqueue.redis import RedisQueue

        return RedisQueue(settings.queue_url, max_waiting=settings.queue_max)
    from worker.painter import painter_for  # the painting side, and torch, load here only

    return EmbeddedQueue(settings.data_dir, painter_for(settings), max_waiting=settings.queue_max)


def _add_handlers(application: BotApplication) -> None:
    addressed = ADDRESSED
    # Group -2 runs first: strangers stop there (ALLOWED_USERS); then, in group -1, a press
    # on a button sealed for someone else.
    application.add_handler(TypeHandler(Update, guards.gate(addressed)), group=-2)
    application.add_handler(CallbackQueryHandler(guards.check_seal), group=-1)
    application.add_handlers(
        [
            CommandHandler(["start", "help"], chat.start, filters=NEW_MESSAGE),
            CommandHandler("status", chat.status, filters=NEW_MESSAGE),
            CommandHandler("cancel", chat.cancel, filters=NEW_MESSAGE),
            CommandHandler("stats", chat.stats, filters=NEW_MESSAGE),  # admins only
            CommandHandler("styles", gallery.styles, filters=NEW_MESSAGE),
            CommandHandler("settings", preferences.show_preferences, filters=NEW_MESSAGE),
            CommandHandler("language", preferences.language, filters=NEW_MESSAGE),
            # A GIF carries a document too, so animations are sorted out before documents.
            MessageHandler(addressed & filters.ANIMATION, pictures.explain(texts.ANIMATION)),
            MessageHandler(addressed & (filters.PHOTO | IMAGE_FILE), pictures.receive_image),
            MessageHandler(addressed & HEIC_FILE, pictures.explain(texts.HEIC)),
            MessageHandler(
                addressed & filters.Document.ALL, pictures.explain(texts.NOT_AN_IMAGE_FILE)
            ),
            MessageHandler(addressed & filters.Sticker.ALL, pictures.explain(texts.STICKER)),
            MessageHandler(
                addressed & (filters.VOICE | filters.AUDIO), pictures.explain(texts.AUDIO)
            ),
            MessageHandler(
                addressed & (filters.VIDEO | filters.VIDEO_NOTE), pictures.explain(texts.VIDEO)
            ),
            MessageHandler(addressed & filters.COMMAND, pictures.explain(texts.UNKNOWN_COMMAND)),
            MessageHandler(addressed, pictures.explain(texts.NOT_A_PICTURE)),
            CallbackQueryHandler(pairs.paint, pattern=ButtonData.pattern(Action.PAINT)),
            CallbackQueryHandler(pairs.swap, pattern=ButtonData.pattern(Action.SWAP)),
            CallbackQueryHandler(pairs.drop, pattern=ButtonData.pattern(Action.DROP)),
            CallbackQueryHandler(pairs.stop, pattern=ButtonData.pattern(Action.STOP)),
            CallbackQueryHandler(pairs.new_pair, pattern=ButtonData.pattern(Action.NEW_PAIR)),
            CallbackQueryHandler(pairs.making_of, pattern=ButtonData.pattern(Action.MAKING_OF)),
            CallbackQueryHandler(gallery.browse, pattern=ButtonData.pattern(Action.GALLERY)),
            CallbackQueryHandler(
                gallery.use_painting, pattern=ButtonData.pattern(Action.USE_PAINTING)
            ),
            CallbackQueryHandler(
                preferences.choose_language, pattern=ButtonData.pattern(Action.LANGUAGE)
            ),
            CallbackQueryHandler(
                preferences.change_preference, pattern=ButtonData.pattern(Action.PREFERENCE)
            ),
            CallbackQueryHandler(chat.unknown_button),
        ]
    )
    application.add_error_handler(errors.on_error)


async def _post_init(application: BotApplication) -> None:
    """Open the stores, pick up jobs from before a restart, and list the commands."""
    data: BotData = application.bot_data
    data.sessions.open()
    data.limits.open()
    await data.queue.start()
    settings = data.settings
    if settings.metrics_port is not None:
        data.monitor = MonitorServer(
            settings.metrics_listen, settings.metrics_port, data.health, data.metrics.registry
        )
        data.monitor.start()
    data.chores = [
        _task(application, _adopt(application), "adopt jobs"),
        _task(application, _sweep(data), "session sweep"),
        _task(application, _watch(application), "health and metrics"),
    ]
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


async def _watch(application: BotApplication) -> None:
    """Every few seconds: the queue's depth and workers into the metrics, and the health.
    /healthz shows a fixed phrase; the detail (which may name a host) goes to the log, once
    each time the problem changes."""
    data: BotData = application.bot_data
    while True:
        problem: str | None
        detail: str | None
        try:
            stats = await data.queue.stats(since=time.time())
        except Exception as error:  # e.g. Redis unreachable: unhealthy, not dead
            problem, detail = QUEUE_UNREACHABLE, f"the queue does not answer: {error}"
        else:
            data.metrics.observe_queue(stats)
            receiving = application.updater is not None and application.updater.running
            if data.queue.unavailable is not None:
                problem, detail = NO_PAINTER, data.queue.unavailable
            elif receiving:
                problem = detail = None
            elif data.health.problem == STARTING:  # polling starts right after this
                problem = detail = STARTING
            else:
                problem = detail = NOT_RECEIVING
        if problem != data.health.problem:
            if problem is not None:
                logger.warning("Unhealthy (%s): %s", problem, detail)
            elif data.health.problem != STARTING:
                logger.info("Healthy again")
        data.health.problem = problem
        await asyncio.sleep(WATCH_EVERY_SECONDS)


def _task(
    application: BotApplication, coroutine: Coroutine[Any, Any, None], name: str
) -> asyncio.Task[None]:
    """A task of ours: the chores, and followers of adopted jobs. Our ``stop()`` cancels each
    of them, so PTB's warning that a task made while it is not running is not awaited by its
    stop (true at start-up, and for the adoption chore's first round) does not apply."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Tasks created via", PTBUserWarning)
        return application.create_task(coroutine, name=name)


async def _adopt(application: BotApplication) -> None:
    """At start, then now and then: follow the jobs nobody reports (see jobs.adopt)."""
    data: BotData = application.bot_data
    spawn = functools.partial(_task, application)
    while True:
        try:
            await jobs.adopt(data, spawn, application.bot)
        except Exception as error:  # e.g. the queue unreachable: the next round tries again
            logger.warning("Could not look for jobs to pick up: %s", error, exc_info=True)
        await asyncio.sleep(ADOPT_EVERY_SECONDS)


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
    """Close the queue (a job painting here goes back on it) and the stores."""
    data: BotData = application.bot_data
    await data.queue.close()
    data.sessions.close()
    data.limits.close()
    if data.monitor is not None:
        data.monitor.stop()
    logger.info("Bot stopped; its jobs and pictures stay in %s", data.settings.data_dir)
