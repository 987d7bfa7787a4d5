"""Running the Telegram front-end until stopped: wait for Telegram to answer, then a webhook
server when WEBHOOK_URL is set, else long polling, on the process's event loop."""

from __future__ import annotations

import asyncio
import itertools
import logging
from urllib.parse import urlsplit

from telegram import Bot, Update
from telegram.error import InvalidToken, NetworkError, TelegramError

from config.settings import Settings

from ..service import Shared, TokenRefused
from .app import build_application

logger = logging.getLogger(__name__)

MAX_START_PAUSE = 60.0  # seconds between two tries to reach Telegram at start-up


async def wait_for_telegram(settings: Settings) -> str:
    """Until Telegram answers: a bot started while the network is down (a reboot, a container
    that starts first) retries with growing pauses, one log line per attempt. Returns the
    bot's username; raises ``TokenRefused`` when Telegram refuses the token."""
    bot = Bot(
        settings.bot_token.reveal(),
        base_url=settings.telegram_base_url,
        base_file_url=settings.telegram_base_file_url,
    )
    pause = 1.0
    for attempt in itertools.count(1):
        try:
            async with bot:
                return bot.username
        except InvalidToken:
            raise TokenRefused("Telegram refused BOT_TOKEN: check it with @BotFather") from None
        except NetworkError as error:
            logger.warning(
                "Telegram is unreachable (attempt %d: %s); trying again in %.0f s",
                attempt,
                error,
                pause,
            )
        await asyncio.sleep(pause)
        pause = min(pause * 2, MAX_START_PAUSE)
    raise AssertionError("unreachable")


async def serve(settings: Settings, shared: Shared, stopped: asyncio.Event) -> None:
    """The Telegram front-end until ``stopped`` is set, as PTB's ``run_polling`` and
    ``run_webhook`` would run it, but beside other front-ends on one event loop: a webhook
    server when WEBHOOK_URL is set, else long polling. Call :func:`wait_for_telegram` first,
    so that a refused token stops the process before anything opens."""
    application = build_application(settings, shared=shared)
    assert application.updater is not None and application.post_init is not None
    assert application.post_shutdown is not None
    updater = application.updater

    def polling_failed(error: TelegramError) -> None:  # to the error handler, as PTB does
        application.create_task(application.process_error(error=error, update=None))

    try:
        async with application:
            await application.post_init(application)
            if settings.webhook_url and settings.webhook_secret:
                await updater.start_webhook(  # posts without the secret header get a 403
                    listen=settings.webhook_listen,
                    port=settings.webhook_port,
                    url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
                    webhook_url=settings.webhook_url,
                    secret_token=settings.webhook_secret.reveal(),
                    allowed_updates=Update.ALL_TYPES,
                )
            else:  # later network trouble: PTB retries by itself (-1: for ever)
                await updater.start_polling(
                    allowed_updates=Update.ALL_TYPES,
                    bootstrap_retries=-1,
                    error_callback=polling_failed,
                )
            await application.start()
            try:
                await stopped.wait()
            finally:
                if updater.running:
                    await updater.stop()
                await application.stop()
    finally:
        await application.post_shutdown(application)
