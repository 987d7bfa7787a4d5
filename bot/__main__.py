"""``python -m bot`` / ``stylebot``: read the settings, then run the bot on Telegram."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import sys

from config import configure_logging
from config.settings import (
    MissingTokenError,
    Settings,
    SettingsError,
    load_settings,
)
from jobqueue.logs import redact_url

from .service import TokenRefused

logger = logging.getLogger(__name__)

NO_TOKEN = """\
stylebot needs a bot token: set BOT_TOKEN (Telegram), DISCORD_TOKEN, or both, in a file named
.env next to where you start the bot (see .env.example). Telegram: send /newbot to @BotFather,
then a line like BOT_TOKEN=123456789:AA...; Discord: see docs/discord.md."""

#: Libraries that log request URLs, and Telegram's URLs contain the token.
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
    log_start(settings)
    try:
        asyncio.run(serve(settings))
    except TokenRefused as refused:
        print(f"stylebot: {refused}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    except Exception as error:  # logged, not left to Python: the log masks the secrets
        logger.critical("Stopped: %s", error, exc_info=not isinstance(error, ConnectionError))
        return 1
    return 0


async def serve(settings: Settings) -> None:
    """Every front-end whose token is set, on one event loop, sharing one queue, until
    SIGINT or SIGTERM. A front-end's platform library loads only here, and only if used."""
    from . import service
    from .telegram import run as telegram

    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, stopped.set)
    if settings.on_telegram:
        await telegram.wait_for_telegram(settings)  # a refused token stops us before the queue
    shared = service.shared(settings)
    await service.open_shared(shared)
    try:
        async with asyncio.TaskGroup() as front_ends:
            if settings.on_telegram:
                front_ends.create_task(telegram.serve(settings, shared, stopped))
            if settings.on_discord:
                from .discord import run as discord

                front_ends.create_task(discord.serve(settings, shared, stopped))
    except* TokenRefused as refused:  # the first front-end to fail stops the others
        raise refused.exceptions[0] from None
    finally:
        await service.close_shared(shared)


if __name__ == "__main__":
    sys.exit(main())
