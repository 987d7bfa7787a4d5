"""``python -m bot`` / ``stylebot``: read the settings, then run the bot on Telegram."""

from __future__ import annotations

import dataclasses
import logging
import sys

from config import configure_logging
from config.settings import (
    MissingTokenError,
    Settings,
    SettingsError,
    load_settings,
)
from jobqueue.logs import redact_url

logger = logging.getLogger(__name__)

NO_TOKEN = """\
stylebot needs a bot token, and BOT_TOKEN is not set.
Get one from @BotFather in Telegram (send it /newbot), then put it in a file named .env
next to where you start the bot, as a line like: BOT_TOKEN=123456789:AA...  (see .env.example)"""

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
    from .telegram import run  # telegram and the queue: only once settings are fine

    log_start(settings)
    try:
        run.run(settings)
    except run.TokenRefused:
        print("stylebot: Telegram refused BOT_TOKEN: check it with @BotFather", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    except Exception as error:  # logged, not left to Python: the log masks the secrets
        logger.critical("Stopped: %s", error, exc_info=not isinstance(error, ConnectionError))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
