"""Shared pytest fixtures. Keep each side's fixtures in its own section."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.error import TelegramError

from bot import texts
from bot.telegram.app import build_application
from bot.telegram.context import BotApplication
from config.settings import Secret, Settings
from jobqueue import JobQueue
from tests.botapi import BotApiServer, BotMessage
from tests.chat import BOT_TOKEN, SendPair, StartBot, in_group
from tests.pictures import encode, gradient, stripes

pytest_plugins = ["tests.redis_server"]  # ``redis_url``: a real redis-server per test

# ============================================================================================
# Bot fixtures: the real Application, polling a fake Bot API server on 127.0.0.1
# ============================================================================================

#: The engine at its smallest: a job takes seconds on two shared CPU cores.
TINY_ENGINE: dict[str, Any] = {
    "engine_device": "cpu",
    "engine_max_side": 64,
    "engine_steps": 6,
    "progress_interval": 0.3,
    "preview_interval": 0.0,
}


@pytest.fixture
def telegram() -> Iterator[BotApiServer]:
    """Telegram as the bot sees it, plus the users' side of every chat.

    A bug in the fake server answers the bot with a 500 that the bot may well survive; it
    must still fail the test.
    """
    with BotApiServer(token=BOT_TOKEN) as server:
        yield server
    assert not server.internal_errors, "\n".join(server.internal_errors)


def bot_settings(server: BotApiServer, data_dir: Path, **overrides: Any) -> Settings:
    """Settings that point the bot at ``server``, with the tiny engine unless overridden."""
    values: dict[str, Any] = {
        "bot_token": Secret(server.token),
        "data_dir": data_dir,
        "telegram_base_url": server.base_url,
        "telegram_base_file_url": server.base_file_url,
        **TINY_ENGINE,
        **overrides,
    }
    return Settings(**values)


@contextlib.asynccontextmanager
async def running(application: BotApplication) -> AsyncIterator[BotApplication]:
    """Run ``application`` on this event loop with the same steps, in the same order, as
    ``run_polling``: initialize, post_init, polling, start ... stop, shutdown, post_shutdown."""
    assert application.updater is not None and application.post_init is not None
    assert application.post_shutdown is not None
    try:
        async with application:
            await application.post_init(application)
            await application.updater.start_polling(
                poll_interval=0,
                timeout=1,
                allowed_updates=Update.ALL_TYPES,
                error_callback=functools.partial(_polling_failed, application),
            )
            await application.start()
            try:
                yield application
            finally:
                await application.updater.stop()
                await application.stop()
    finally:
        await application.post_shutdown(application)


def _polling_failed(application: BotApplication, error: TelegramError) -> None:
    """As ``run_polling`` does: a failed getUpdates goes to the application's error handler."""
    application.create_task(application.process_error(error=error, update=None))


@pytest.fixture
def start_bot(telegram: BotApiServer, tmp_path: Path) -> StartBot:
    """``async with start_bot(queue=None, **settings) as app:`` runs the bot on ``telegram``.

    Every start in one test shares one DATA_DIR, as a restarted bot would.
    """

    def start(
        queue: JobQueue | None = None, **overrides: Any
    ) -> contextlib.AbstractAsyncContextManager[BotApplication]:
        settings = bot_settings(telegram, tmp_path / "data", **overrides)
        return running(build_application(settings, queue))

    return start


@pytest.fixture
async def bot(start_bot: StartBot) -> AsyncIterator[BotApplication]:
    """The bot with default test settings, running for the whole test."""
    async with start_bot() as application:
        yield application


@pytest.fixture
def send_pair(telegram: BotApiServer) -> SendPair:
    """The user sends a photo and a style (in a group, each replying to the bot); the pair."""

    async def send(
        user_id: int,
        content: bytes | None = None,
        style: bytes | None = None,
        *,
        group: int | None = None,
    ) -> BotMessage:
        chat_id, where = group or user_id, in_group(group)
        reply_to = None
        if group is not None:  # in a group, pictures count only as replies to the bot
            sent = telegram.user_sends_command(user_id, "/start", mention_bot=True, **where)
            reply_to = (await telegram.await_message(chat_id, after=sent)).message_id
        content = content or encode(gradient(72, 40))
        sent = telegram.user_sends_photo(user_id, content, reply_to_message_id=reply_to, **where)
        got = await telegram.await_message(chat_id, after=sent, contains=texts.GOT_CONTENT)
        if group is not None:
            reply_to = got.message_id
        style = style or encode(stripes())
        sent = telegram.user_sends_photo(user_id, style, reply_to_message_id=reply_to, **where)
        return await telegram.await_message(chat_id, after=sent, kind="photo")

    return send
