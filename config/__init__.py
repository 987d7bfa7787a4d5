"""The operator's settings: read once at start-up from the environment and ``.env`` into one
typed object, for the bot and the workers alike; and log lines that never show a secret.

Torch-free and chat-free: both sides of the queue import it, it imports only ``jobqueue``."""

from .logs import RedactingFormatter, configure_logging
from .settings import (
    MissingTokenError,
    Secret,
    Settings,
    SettingsError,
    load_settings,
)

__all__ = [
    "MissingTokenError",
    "RedactingFormatter",
    "Secret",
    "Settings",
    "SettingsError",
    "configure_logging",
    "load_settings",
]
