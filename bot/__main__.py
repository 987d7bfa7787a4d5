"""``python -m bot`` / ``stylebot``: read the settings, then run the bot with long polling."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import sys
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from telegram import Bot, Update
from telegram.error import InvalidToken, NetworkError

from config import configure_logging
from config.settings import (
    MissingTokenError,
    Settings,
    SettingsError,
    load_settings,
)
from jobqueue.logs import redact_url

if TYPE_CHECKING:
    from .context import BotApplication

logger = logging.getLogger(__name__)

NO_TOKEN = """\
stylebot needs a bot token, and BOT_TOKEN is not set.
Get one from @BotFather in Telegram (send it /newbot), then put it in a file named .env
next to where you start the bot, as a line like: BOT_TOKEN=123456789:AA...  (see .env.example)"""

MAX_START_PAUSE = 60.0  # seconds between two tries to reach Telegram at start-up
# Libraries that log request URLs, and Telegram's URLs contain the token.
CHATTY_LOGGERS = ("httpx", "httpcore")


def without_password(settings: Settings) -> Settings:
    """The settings to log: QUEUE_URL may carry the Redis password."""
    return dataclasses.replace(settings, queue_url=redact_url(settings.queue_url))


def log_start(settings: Settings) -> None:
    """The first lines of the log: the settings, and the risks they take."""
    logger.info("Starting; settings: %r", without_password(settings))
    if names := settings.allowed_usernames():
        logger.warning(
            "ALLOWED_USERS lets in @%s by username: a username can be given up and registered "
            "by someone else, who may then use the bot; list numeric user ids instead (ask "
            "each user to message @userinfobot, which answers with their id)",
            ", @".join(names),
        )


async def wait_for_telegram(settings: Settings) -> str:
    """Until Telegram answers: a bot started while the network is down (a reboot, a container
    that starts first) retries with growing pauses, one log line per attempt. Returns the
    bot's username; raises ``InvalidToken`` when Telegram refuses the token."""
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
            raise
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


def main() -> int:
    """Start the bot; returns the process exit code (2 for a configuration problem)."""
    try:
        settings = load_settings()
    except MissingTokenError:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    except SettingsError as error:
        print(f"stylebot: {error}", file=sys.stderr)
        return 2
    configure_logging(settings, quiet=CHATTY_LOGGERS)
    from .app import build_application  # telegram and the queue: only once settings are fine

    log_start(settings)
    try:
        asyncio.run(wait_for_telegram(settings))
    except InvalidToken:
        print("stylebot: Telegram refused BOT_TOKEN: check it with @BotFather", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    try:
        run(build_application(settings), settings)
    except Exception as error:  # logged, not left to Python: the log masks the secrets
        logger.critical("Stopped: %s", error, exc_info=not isinstance(error, ConnectionError))
        return 1
    return 0


def run(application: BotApplication, settings: Settings) -> None:
    """Until stopped: a webhook server when WEBHOOK_URL is set, else long polling."""
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


if __name__ == "__main__":
    sys.exit(main())
