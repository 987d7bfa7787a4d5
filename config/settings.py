"""Settings read once at start-up from the environment and ``.env``, validated into one object.

The bot and the workers receive a :class:`Settings` and never read the environment themselves.
Every problem is reported as a :class:`SettingsError` whose one-line message names the
variable, so ``python -m bot`` can print it instead of a traceback. The secrets the settings
hold stay out of logs: :class:`Secret` in reprs, :class:`RedactingFormatter` in every line
(the bot's and the workers', which read these settings too).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, unquote_plus, urlsplit

from dotenv import dotenv_values

from jobqueue.logs import is_password

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_BASE_FILE_URL = "https://api.telegram.org/file/bot"
DEFAULT_DISCORD_API_BASE = "https://discord.com/api/v10"
DEFAULT_DISCORD_GATEWAY_URL = "wss://gateway.discord.gg/"
TELEGRAM_DOWNLOAD_LIMIT_MB = 20  # getFile refuses bigger files on Telegram's own servers
ENGINE_WEIGHT_SOURCES = ("bundled", "torchvision")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?|mps")
_TOKEN = re.compile(r"\d+:[\w-]+")
NO_TOKEN = "0:none"  # stands in for BOT_TOKEN in workers, which talk to no chat


class SettingsError(ValueError):
    """A setting is missing or invalid; the message is one line naming the variable."""


class MissingTokenError(SettingsError):
    """Neither BOT_TOKEN nor DISCORD_TOKEN is set: a bot needs at least one."""


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

    bot_token: Secret  # NO_TOKEN: no Telegram front-end (a worker, or a bot on Discord only)
    telegram_base_url: str = DEFAULT_BASE_URL
    telegram_base_file_url: str = DEFAULT_BASE_FILE_URL
    discord_token: Secret | None = None  # None: no Discord front-end
    discord_api_base: str = DEFAULT_DISCORD_API_BASE
    discord_gateway_url: str = DEFAULT_DISCORD_GATEWAY_URL
    engine_device: str = "auto"
    engine_max_side: int | None = None  # None: the engine's default for the device
    engine_steps: int | None = None  # None: the engine's default for the device
    engine_weights: str = "bundled"
    queue_url: str = ""  # empty: the embedded queue; redis://: shared, painted by workers
    queue_max: int = 20
    data_dir: Path = Path("data")  # durable state: SQLite, pictures, results awaiting delivery
    log_level: str = "INFO"
    progress_interval: float = 3.0  # seconds between edits of a progress message, per chat
    preview_interval: float = 15.0  # seconds between preview pictures; 0 turns them off
    max_download_mb: int = TELEGRAM_DOWNLOAD_LIMIT_MB
    allowed_users: Users = frozenset()  # empty: everyone may use the bot
    admin_users: Users = frozenset()  # /stats, and no limits
    jobs_per_user_per_day: int = 0  # 0: unlimited
    pictures_per_minute: int = 10  # per user; a flood cannot fill the disk or the queue
    data_max_mb: int = 0  # 0: no cap; else new pictures are refused once DATA_DIR is this big
    metrics_port: int | None = None  # /metrics and /healthz; None: off
    metrics_listen: str = "127.0.0.1"  # health and metrics are for this host unless opened
    webhook_url: str = ""  # empty: long polling
    webhook_secret: Secret | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    log_format: str = "text"

    @property
    def on_telegram(self) -> bool:
        return self.bot_token.reveal() != NO_TOKEN

    @property
    def on_discord(self) -> bool:
        return self.discord_token is not None

    def allowed(self, user_id: int | str, username: str | None) -> bool:
        """Whether this user may use the bot at all (admins always may). ``user_id`` is a
        Telegram id, or a ``discord:<id>`` for a Discord user."""
        return (
            not self.allowed_users
            or self.admin(user_id)
            or _listed(self.allowed_users, user_id, username)
        )

    def admin(self, user_id: int | str) -> bool:
        """Whether this user is an admin: by id only, as a username can pass to someone else
        (ADMIN_USERS refuses @names)."""
        return str(user_id) in self.admin_users

    def allowed_usernames(self) -> list[str]:
        """The @names in ALLOWED_USERS (without the @): each is a risk to warn about at start."""
        return sorted(name for name in self.allowed_users if not _is_id(name))

    def secrets(self) -> list[tuple[str, str]]:
        """Every secret these settings hold, as (variable, value): what no log line may show.
        A Redis password counts in each spelling a URL may give it (raw and decoded)."""
        found = [("WEBHOOK_SECRET", self.webhook_secret.reveal())] if self.webhook_secret else []
        if self.on_telegram:
            found.append(("BOT_TOKEN", self.bot_token.reveal()))
        if self.discord_token is not None:
            found.append(("DISCORD_TOKEN", self.discord_token.reveal()))
        found += [("REDIS_PASSWORD", password) for password in _redis_passwords(self.queue_url)]
        return found

    @property
    def max_download_bytes(self) -> int:
        return self.max_download_mb * 1024 * 1024


#: User ids as strings (``discord:<id>`` for Discord users) and Telegram @usernames in lower
#: case without the @ (ADMIN_USERS: ids only).
Users = frozenset[str]


def _is_id(user: str) -> bool:
    return user.removeprefix("discord:").isdigit()


def _listed(users: Users, user_id: int | str, username: str | None) -> bool:
    return str(user_id) in users or (username is not None and username.lower() in users)


def _redis_passwords(url: str) -> set[str]:
    """The password(s) a Redis URL carries, raw and decoded (an error may quote either)."""
    parts = urlsplit(url)
    raw = [parts.password] if parts.password else []
    raw += [pair.partition("=")[2] for pair in parts.query.split("&") if is_password(pair)]
    return {spelling for value in raw for spelling in (value, unquote(value), unquote_plus(value))}


def load_settings(
    environ: Mapping[str, str] | None = None,
    env_file: str | Path | None = ".env",
    *,
    require_token: bool = True,
) -> Settings:
    """Settings from ``environ`` (default ``os.environ``) over ``env_file``; empty means unset.

    Workers read the same variables but talk to no chat: they pass ``require_token=False``.
    """
    values: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return _parse({name: value.strip() for name, value in values.items()}, require_token)


def _parse(values: Mapping[str, str], require_token: bool = True) -> Settings:
    token = values.get("BOT_TOKEN", "")
    if not token and (values.get("DISCORD_TOKEN") or not require_token):
        token = NO_TOKEN
    elif not token:
        raise MissingTokenError("neither BOT_TOKEN nor DISCORD_TOKEN is set")
    if token != NO_TOKEN and not _TOKEN.fullmatch(token):
        raise SettingsError(
            "BOT_TOKEN does not look like a token from @BotFather (digits, a colon, then letters)"
        )
    fields = {
        name: _read(name.upper(), values[name.upper()], rule)
        for name, rule in _RULES.items()
        if values.get(name.upper())
    }
    if fields.get("webhook_url") and not fields.get("webhook_secret"):
        raise SettingsError(
            "WEBHOOK_URL needs WEBHOOK_SECRET too, so that only Telegram can post updates"
        )
    return Settings(bot_token=Secret(token), **fields)


@dataclass(frozen=True)
class _Rule:
    """How one variable is read, and what a valid value looks like (for the error)."""

    parse: Callable[[str], Any]  # Any: each field has its own type
    expected: str
    secret: bool = False  # never echo the value: it may carry a password


def _read(variable: str, value: str, rule: _Rule) -> Any:
    try:
        return rule.parse(value)
    except SettingsError:
        raise
    except ValueError:
        shown = variable if rule.secret else f"{variable}={value!r}"
        raise SettingsError(f"{shown} is invalid: expected {rule.expected}") from None


Number = TypeVar("Number", int, float)


def _at_least(minimum: Number, kind: Callable[[str], Number]) -> Callable[[str], Number]:
    def parse(text: str) -> Number:
        value = kind(text)
        if value < minimum:
            raise ValueError(text)
        return value

    return parse


def _log_level(value: str) -> str:
    if value.upper() not in LOG_LEVELS:
        raise ValueError(value)
    return value.upper()


def _url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(value)
    return value


def _device(value: str) -> str:
    if not _DEVICE.fullmatch(value):
        raise ValueError(value)
    return value


def _weights(value: str) -> str:
    if value in ENGINE_WEIGHT_SOURCES or Path(value).is_file():
        return value
    raise ValueError(value)


def _queue_url(value: str) -> str:
    if not re.fullmatch(r"rediss?://[^\s/?#]+(/\d+)?(\?[^\s#]*)?", value):
        raise ValueError(value)
    return value


def _users(value: str) -> Users:
    names = [part.strip() for part in value.split(",") if part.strip()]
    for name in names:
        if not re.fullmatch(r"(?:discord:)?\d+|@?[A-Za-z]\w{3,31}", name):
            raise ValueError(value)
    return frozenset(name.removeprefix("@").lower() for name in names)


def _user_ids(value: str) -> Users:
    """Admins by numeric id only: a released @username can be registered by anyone."""
    users = _users(value)
    if names := sorted(name for name in users if not _is_id(name)):
        raise SettingsError(
            f"ADMIN_USERS takes numeric user ids only, not @{names[0]}: a username can be given "
            "up and registered by someone else; ask each admin to message @userinfobot, which "
            "answers with their id"
        )
    return users


def _address(value: str) -> str:
    return str(ipaddress.ip_address(value))


def _port(value: str) -> int:
    port = int(value)
    if not 1 <= port <= 65535:
        raise ValueError(value)
    return port


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value.lower() not in choices:
            raise ValueError(value)
        return value.lower()

    return parse


def _https(value: str) -> str:
    if not value.startswith("https://"):
        raise ValueError(value)
    return value


def _secret_token(value: str) -> Secret:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
        raise ValueError(value)
    return Secret(value)


def _discord_token(value: str) -> Secret:
    """Three base64url parts separated by dots: the bot's id, a timestamp, an HMAC."""
    if not re.fullmatch(r"[\w-]{16,}\.[\w-]{4,}\.[\w-]{16,}", value):
        raise ValueError(value)
    return Secret(value)


def _websocket_url(value: str) -> str:
    if not value.startswith(("ws://", "wss://")):
        raise ValueError(value)
    return value


def _folder(value: str) -> Path:
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(value)
    return path


_URL = "an http:// or https:// URL"
#: One rule per Settings field but the token; field ``queue_max`` is variable QUEUE_MAX.
#: An unset or empty variable leaves the field's default.
_RULES: dict[str, _Rule] = {
    "telegram_base_url": _Rule(_url, _URL),
    "telegram_base_file_url": _Rule(_url, _URL),
    "discord_token": _Rule(_discord_token, "a bot token from Discord's developer portal", True),
    "discord_api_base": _Rule(_url, _URL),
    "discord_gateway_url": _Rule(_websocket_url, "a ws:// or wss:// URL"),
    "engine_device": _Rule(_device, "auto, cpu, cuda, cuda:N or mps"),
    "engine_max_side": _Rule(_at_least(32, int), "a whole number of pixels, at least 32"),
    "engine_steps": _Rule(_at_least(1, int), "a whole number, at least 1"),
    "engine_weights": _Rule(_weights, "bundled, torchvision or the path of a file"),
    "queue_url": _Rule(_queue_url, "redis://[:password@]host[:port][/db], or empty", True),
    "data_dir": _Rule(_folder, "a folder (created if missing)"),
    "queue_max": _Rule(_at_least(1, int), "a whole number, at least 1"),
    "log_level": _Rule(_log_level, f"one of {', '.join(LOG_LEVELS)}"),
    "progress_interval": _Rule(_at_least(0.5, float), "seconds, at least 0.5"),
    "preview_interval": _Rule(_at_least(0.0, float), "seconds (0 turns previews off)"),
    "max_download_mb": _Rule(_at_least(1, int), "megabytes, at least 1"),
    "allowed_users": _Rule(_users, "user ids or @usernames, separated by commas"),
    "admin_users": _Rule(_user_ids, "numeric user ids, separated by commas"),
    "jobs_per_user_per_day": _Rule(_at_least(0, int), "a whole number (0: unlimited)"),
    "pictures_per_minute": _Rule(_at_least(1, int), "a whole number, at least 1"),
    "data_max_mb": _Rule(_at_least(0, int), "megabytes (0: no cap)"),
    "metrics_port": _Rule(_port, "a port number, 1 to 65535"),
    "metrics_listen": _Rule(_address, "an IP address to listen on, like 127.0.0.1 or 0.0.0.0"),
    "webhook_url": _Rule(_https, "an https:// URL Telegram can reach"),
    "webhook_secret": _Rule(_secret_token, "1-256 letters, digits, _ or -", True),
    "webhook_listen": _Rule(str, "an address to listen on"),
    "webhook_port": _Rule(_port, "a port number, 1 to 65535"),
    "log_format": _Rule(_choice("text", "json"), "text or json"),
}
