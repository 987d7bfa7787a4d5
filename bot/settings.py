"""Settings read once at start-up from the environment and ``.env``, validated into one object.

The rest of the bot receives a :class:`Settings` and never reads the environment itself.
Every problem is reported as a :class:`SettingsError` whose one-line message names the
variable, so ``python -m bot`` can print it instead of a traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from dotenv import dotenv_values

if TYPE_CHECKING:
    from engine import StyleOptions

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_BASE_FILE_URL = "https://api.telegram.org/file/bot"
TELEGRAM_DOWNLOAD_LIMIT_MB = 20  # getFile refuses bigger files on Telegram's own servers
ENGINE_WEIGHT_SOURCES = ("bundled", "torchvision")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")
_TOKEN = re.compile(r"\d+:[\w-]+")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message is one line naming the variable."""


class MissingTokenError(SettingsError):
    """BOT_TOKEN is not set: the one setting without a default."""


class Secret:
    """A string that never shows itself in ``repr``/``str`` (logs, tracebacks, dataclass repr)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The real value: only for the one place that needs it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything configurable about the bot; see ``.env.example`` for each variable."""

    bot_token: Secret
    telegram_base_url: str = DEFAULT_BASE_URL
    telegram_base_file_url: str = DEFAULT_BASE_FILE_URL
    engine_device: str = "auto"
    engine_max_side: int | None = None  # None: the engine's default for the device
    engine_steps: int | None = None  # None: the engine's default for the device
    engine_weights: str = "bundled"
    queue_url: str = ""
    queue_max: int = 20
    log_level: str = "INFO"
    progress_interval: float = 3.0  # seconds between edits of a progress message, per chat
    preview_interval: float = 15.0  # seconds between preview pictures; 0 turns them off
    max_download_mb: int = TELEGRAM_DOWNLOAD_LIMIT_MB

    @property
    def max_download_bytes(self) -> int:
        return self.max_download_mb * 1024 * 1024

    def engine_options(self) -> StyleOptions:
        """The queue's base options: strength is chosen per job."""
        from engine import StyleOptions  # torch loads here, not when settings are checked

        return StyleOptions(
            device=self.engine_device,
            max_side=self.engine_max_side,
            steps=self.engine_steps,
            weights=self.engine_weights,
        )


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> Settings:
    """Settings from ``environ`` (default ``os.environ``) over ``env_file``; empty means unset."""
    values: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return _parse(_Reader(values))


class _Reader:
    """Reads one variable at a time and turns every failure into a SettingsError."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def text(self, name: str, default: str) -> str:
        value = self._values.get(name, "").strip()
        return value or default

    def optional(self, name: str, parse: Callable[[str], T], rule: str) -> T | None:
        value = self._values.get(name, "").strip()
        if not value:
            return None
        try:
            return parse(value)
        except ValueError:
            raise SettingsError(f"{name}={value!r} is invalid: expected {rule}") from None

    def number(self, name: str, parse: Callable[[str], T], default: T, rule: str) -> T:
        value = self.optional(name, parse, rule)
        return default if value is None else value


def _at_least(minimum: float, kind: Callable[[str], T]) -> Callable[[str], T]:
    def parse(text: str) -> T:
        value = kind(text)
        if value < minimum:  # type: ignore[operator]
            raise ValueError(text)
        return value

    return parse


def _parse(read: _Reader) -> Settings:
    token = read.text("BOT_TOKEN", "")
    if not token:
        raise MissingTokenError("BOT_TOKEN is not set")
    if not _TOKEN.fullmatch(token):
        raise SettingsError(
            "BOT_TOKEN does not look like a token from @BotFather (digits, a colon, then letters)"
        )
    return Settings(
        bot_token=Secret(token),
        telegram_base_url=_url(
            "TELEGRAM_BASE_URL", read.text("TELEGRAM_BASE_URL", DEFAULT_BASE_URL)
        ),
        telegram_base_file_url=_url(
            "TELEGRAM_BASE_FILE_URL", read.text("TELEGRAM_BASE_FILE_URL", DEFAULT_BASE_FILE_URL)
        ),
        engine_device=_device(read.text("ENGINE_DEVICE", "auto")),
        engine_max_side=read.optional(
            "ENGINE_MAX_SIDE", _at_least(32, int), "a whole number of pixels, at least 32"
        ),
        engine_steps=read.optional("ENGINE_STEPS", _at_least(1, int), "a whole number, at least 1"),
        engine_weights=_weights(read.text("ENGINE_WEIGHTS", "bundled")),
        queue_url=_queue_url(read.text("QUEUE_URL", "")),
        queue_max=read.number("QUEUE_MAX", _at_least(1, int), 20, "a whole number, at least 1"),
        log_level=_log_level(read.text("LOG_LEVEL", "INFO")),
        progress_interval=read.number(
            "PROGRESS_INTERVAL", _at_least(0.5, float), 3.0, "seconds, at least 0.5"
        ),
        preview_interval=read.number(
            "PREVIEW_INTERVAL", _at_least(0, float), 15.0, "seconds (0 turns previews off)"
        ),
        max_download_mb=read.number(
            "MAX_DOWNLOAD_MB",
            _at_least(1, int),
            TELEGRAM_DOWNLOAD_LIMIT_MB,
            "megabytes, at least 1",
        ),
    )


def _url(name: str, value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise SettingsError(f"{name}={value!r} is invalid: expected an http:// or https:// URL")
    return value


def _device(value: str) -> str:
    if not _DEVICE.fullmatch(value):
        raise SettingsError(
            f"ENGINE_DEVICE={value!r} is invalid: expected auto, cpu, cuda or cuda:N"
        )
    return value


def _weights(value: str) -> str:
    if value in ENGINE_WEIGHT_SOURCES or Path(value).is_file():
        return value
    raise SettingsError(
        f"ENGINE_WEIGHTS={value!r} is invalid: expected bundled, torchvision or the path of a file"
    )


def _queue_url(value: str) -> str:
    if not value:
        return value
    if value.startswith(("redis://", "rediss://")):
        raise SettingsError(
            "QUEUE_URL points at Redis, but the shared queue is not available yet: "
            "leave QUEUE_URL empty to use the in-process queue"
        )
    # The value is not echoed: a queue URL may carry a password.
    raise SettingsError("QUEUE_URL is invalid: leave it empty to use the in-process queue")


def _log_level(value: str) -> str:
    level = value.upper()
    if level not in LOG_LEVELS:
        choices = ", ".join(LOG_LEVELS)
        raise SettingsError(f"LOG_LEVEL={value!r} is invalid: expected one of {choices}")
    return level
