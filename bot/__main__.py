"""``python -m bot`` / ``stylebot``: read the settings, then run the bot with long polling."""

from __future__ import annotations

import logging
import sys

from telegram import Update

from .settings import MissingTokenError, Secret, Settings, SettingsError, load_settings

logger = logging.getLogger(__name__)

NO_TOKEN = """\
stylebot needs a bot token, and BOT_TOKEN is not set.
Get one from @BotFather in Telegram (send it /newbot), then put it in a file named .env
next to where you start the bot, as a line like: BOT_TOKEN=123456789:AA...  (see .env.example)"""

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that log request URLs, and Telegram's URLs contain the token.
CHATTY_LOGGERS = ("httpx", "httpcore")


class RedactingFormatter(logging.Formatter):
    """Belt and braces: the token never appears in a log line, tracebacks included."""

    def __init__(self, token: Secret) -> None:
        super().__init__(LOG_FORMAT)
        self._token = token.reveal()

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace(self._token, "<BOT_TOKEN>")


def configure_logging(settings: Settings) -> None:
    """Log to stderr at LOG_LEVEL, keep the HTTP client quiet and the token out of every line."""
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(settings.bot_token))
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


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
    configure_logging(settings)
    from .app import build_application  # imports the engine (torch): only once settings are fine

    logger.info("Starting; settings: %r", settings)
    build_application(settings).run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
