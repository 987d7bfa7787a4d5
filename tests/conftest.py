"""Shared pytest fixtures. Keep each side's fixtures in its own section."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application

from bot.app import build_application
from bot.settings import Secret, Settings
from engine.queue import StyleQueue
from tests.botapi import BotApiServer, BotMessage
from tests.pictures import encode, gradient, stripes

# ============================================================================================
# Bot fixtures: the real Application, polling a fake Bot API server on 127.0.0.1
# ============================================================================================

BOT_TOKEN = "123456:TEST-token-for-tests"

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
    """Telegram as the bot sees it, plus the users' side of every chat."""
    with BotApiServer(token=BOT_TOKEN) as server:
        yield server


def bot_settings(server: BotApiServer, **overrides: Any) -> Settings:
    """Settings that point the bot at ``server``, with the tiny engine unless overridden."""
    values: dict[str, Any] = {
        "bot_token": Secret(server.token),
        "telegram_base_url": server.base_url,
        "telegram_base_file_url": server.base_file_url,
        **TINY_ENGINE,
        **overrides,
    }
    return Settings(**values)


@contextlib.asynccontextmanager
async def running(application: Application) -> AsyncIterator[Application]:
    """Run ``application`` on this event loop with the same steps, in the same order, as
    ``run_polling``: initialize, post_init, polling, start ... stop, shutdown, post_shutdown."""
    assert application.updater is not None and application.post_init is not None
    assert application.post_shutdown is not None
    try:
        async with application:
            await application.post_init(application)
            await application.updater.start_polling(
                poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES
            )
            await application.start()
            try:
                yield application
            finally:
                await application.updater.stop()
                await application.stop()
    finally:
        await application.post_shutdown(application)


StartBot = Callable[..., contextlib.AbstractAsyncContextManager[Application]]


@pytest.fixture
def start_bot(telegram: BotApiServer) -> StartBot:
    """``async with start_bot(queue=None, **settings) as app:`` runs the bot on ``telegram``."""

    def start(
        queue: StyleQueue | None = None, **overrides: Any
    ) -> contextlib.AbstractAsyncContextManager[Application]:
        return running(build_application(bot_settings(telegram, **overrides), queue))

    return start


@pytest.fixture
async def bot(start_bot: StartBot) -> AsyncIterator[Application]:
    """The bot with default test settings, running for the whole test."""
    async with start_bot() as application:
        yield application


SendPair = Callable[..., Awaitable[BotMessage]]


@pytest.fixture
def send_pair(telegram: BotApiServer) -> SendPair:
    """``pair = await send_pair(user)``: the user sends a photo and a style; the bot's pair."""

    async def send(
        user_id: int, content: bytes | None = None, style: bytes | None = None
    ) -> BotMessage:
        telegram.user_sends_photo(user_id, content or encode(gradient(72, 40)))
        await telegram.await_message(user_id, contains="Got the content photo")
        sent = telegram.user_sends_photo(user_id, style or encode(stripes()))
        return await telegram.await_message(user_id, after=sent, kind="photo")

    return send
