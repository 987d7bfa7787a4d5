"""Running the Telegram front-end until stopped: wait for Telegram to answer, then a webhook
server when WEBHOOK_URL is set, else long polling."""

from __future__ import annotations

import asyncio
import itertools
import logging
from urllib.parse import urlsplit

from telegram import Bot, Update
from telegram.error import InvalidToken, NetworkError

from config.settings import Settings

from .app import build_application

logger = logging.getLogger(__name__)

MAX_START_PAUSE = 60.0  # seconds between two tries to reach Telegram at start-up


class TokenRefused(Exception):
    """Telegram does not know BOT_TOKEN."""


async def wait_for_telegram(settings: Settings) -> str:
    """Until Telegram answers: a bot started while the network is down (a reboot, a container
    that starts first) retries with growing pauses, one log line per attempt. Returns the
    bot's username; raises :class:`TokenRefused` when Telegram refuses the token."""
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
            raise TokenRefused from None
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


def run(settings: Settings) -> None:
    """Until stopped (raises :class:`TokenRefused` before starting with a bad token)."""
    asyncio.run(wait_for_telegram(settings))
    application = build_application(settings)
    if settings.webhook_url and settings.webhook_secret:
        application.run_webhook(  # PTB's server: posts without the secret header get a 403
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret.reveal(),
            allowed_updates=Update.ALL_TYPES,
        )
    else:  # later network trouble: PTB retries by itself (bootstrap_retries=-1: for ever)
        application.run_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=-1)
