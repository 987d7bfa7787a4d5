"""Settings: read once from the environment and ``.env``, validated, the token never shown."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

from config.settings import (
    _RULES,
    DEFAULT_BASE_URL,
    MissingTokenError,
    Settings,
    SettingsError,
    load_settings,
)
from engine import StyleOptions
from worker.painter import painter_for

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
DISCORD_TOKEN = "MTA1MjM0NTY3ODkwMTIzNDU2Nw.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"


def test_only_the_token_is_needed():
    settings = load_settings({"BOT_TOKEN": TOKEN}, env_file=None)
    assert settings.bot_token.reveal() == TOKEN
    assert settings.telegram_base_url == DEFAULT_BASE_URL
    assert (settings.queue_url, settings.queue_max, settings.log_level) == ("", 20, "INFO")
    assert (settings.progress_interval, settings.max_download_mb) == (3.0, 20)
    assert painter_for(settings).base == StyleOptions(device="auto", weights="bundled")


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"BOT_TOKEN={TOKEN}\nENGINE_MAX_SIDE=256\nENGINE_STEPS=50\nQUEUE_MAX=3\nLOG_LEVEL=debug\n"
    )
    settings = load_settings({"QUEUE_MAX": "7", "ENGINE_STEPS": ""}, env_file=env_file)
    assert settings.queue_max == 7
    assert settings.engine_steps is None  # empty means "use the default"
    assert settings.log_level == "DEBUG"
    options = painter_for(settings).base
    assert (options.max_side, options.steps) == (256, None)


def test_the_token_never_shows_in_repr_or_str():
    settings = load_settings({"BOT_TOKEN": TOKEN}, env_file=None)
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.bot_token)
    assert "Secret('***')" in repr(settings)


def test_a_missing_token_is_its_own_error():
    with pytest.raises(MissingTokenError):
        load_settings({}, env_file=None)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BOT_TOKEN", "not a token"),
        ("TELEGRAM_BASE_URL", "ftp://example.org/bot"),
        ("ENGINE_DEVICE", "tpu"),
        ("ENGINE_MAX_SIDE", "big"),
        ("ENGINE_MAX_SIDE", "16"),
        ("ENGINE_STEPS", "0"),
        ("ENGINE_WEIGHTS", "/nowhere/vgg19.pth"),
        ("QUEUE_MAX", "-1"),
        ("LOG_LEVEL", "LOUD"),
        ("PROGRESS_INTERVAL", "0"),
        ("PREVIEW_INTERVAL", "soon"),
        ("MAX_DOWNLOAD_MB", "0"),
        ("METRICS_LISTEN", "everywhere"),
        ("ADMIN_USERS", "42;43"),
        ("ADMIN_USERS", "slack:42"),
        ("DISCORD_TOKEN", "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
        ("DISCORD_API_BASE", "discord.com/api/v10"),
        ("DISCORD_GATEWAY_URL", "https://gateway.discord.gg/"),
    ],
)
def test_an_invalid_value_is_one_line_naming_the_variable(name: str, value: str):
    with pytest.raises(SettingsError) as raised:
        load_settings({"BOT_TOKEN": TOKEN, name: value}, env_file=None)
    message = str(raised.value)
    assert message.startswith(name) and "\n" not in message


def test_discord_alone_needs_no_telegram_token_and_its_token_is_a_secret():
    settings = load_settings({"DISCORD_TOKEN": DISCORD_TOKEN}, None)
    assert settings.on_discord and not settings.on_telegram
    assert DISCORD_TOKEN not in repr(settings)
    assert ("DISCORD_TOKEN", DISCORD_TOKEN) in settings.secrets()
    both = load_settings({"DISCORD_TOKEN": DISCORD_TOKEN, "BOT_TOKEN": TOKEN}, None)
    assert both.on_discord and both.on_telegram
    assert not load_settings({"BOT_TOKEN": TOKEN}, None).on_discord


def test_a_discord_user_is_listed_as_discord_and_never_mistaken_for_a_telegram_one():
    settings = load_settings(
        {"BOT_TOKEN": TOKEN, "ADMIN_USERS": "discord:42", "ALLOWED_USERS": "discord:7, 9"}, None
    )
    assert settings.admin("discord:42") and not settings.admin(42)
    assert settings.allowed("discord:7", None) and not settings.allowed(7, None)
    assert settings.allowed(9, None) and not settings.allowed("discord:9", None)
    assert settings.allowed_usernames() == []


def test_a_redis_url_is_taken_and_a_bad_one_never_echoes_its_password():
    url = "redis://:hunter2@db:6379/0"
    assert load_settings({"BOT_TOKEN": TOKEN, "QUEUE_URL": url}, None).queue_url == url
    with pytest.raises(SettingsError, match="QUEUE_URL is invalid") as raised:
        load_settings({"BOT_TOKEN": TOKEN, "QUEUE_URL": "http://:hunter2@db:6379/0"}, None)
    assert "hunter2" not in str(raised.value)


def test_workers_need_no_token_but_the_bot_does(tmp_path):
    worker = load_settings({"DATA_DIR": str(tmp_path)}, None, require_token=False)
    assert worker.data_dir == tmp_path
    with pytest.raises(MissingTokenError):
        load_settings({}, None)


def test_every_setting_is_read_from_its_variable_and_documented():
    """A new Settings field needs its rule, a line in .env.example and a row in README."""
    repo = Path(__file__).resolve().parents[1]
    example, readme = (repo / ".env.example").read_text(), (repo / "README.md").read_text()
    variables = [field.name.upper() for field in dataclasses.fields(Settings)]
    assert sorted(name.upper() for name in _RULES) == sorted(set(variables) - {"BOT_TOKEN"})
    for variable in variables:
        assert f"\n{variable}=" in example, f"{variable} is missing from .env.example"
        assert f"| `{variable}` |" in readme, f"{variable} is missing from README's table"


@pytest.mark.parametrize(
    ("url", "logged"),
    [
        ("redis://:hunter2@db:6379/0", "redis://:***@db:6379/0"),
        ("redis://bot:hunter2@db:6379/0", "redis://bot:***@db:6379/0"),
        ("redis://db:6379/0?password=hunter2", "redis://db:6379/0?password=***"),
        (
            "rediss://db?ssl_cert_reqs=none&password=hunter2",
            "rediss://db?ssl_cert_reqs=none&password=***",
        ),
    ],
)
def test_the_logged_settings_hide_the_redis_password(
    url: str, logged: str, caplog: pytest.LogCaptureFixture
):
    from bot.__main__ import log_start

    settings = load_settings({"BOT_TOKEN": TOKEN, "QUEUE_URL": url}, None)
    assert settings.queue_url == url  # taken as it is: redis-py reads both forms
    with caplog.at_level(logging.INFO, logger="bot"):
        log_start(settings)
    (line,) = caplog.messages
    assert line.startswith("Starting; settings: ")
    assert "hunter2" not in line and f"queue_url='{logged}'" in line


def test_admins_go_by_numeric_id_only():
    """A username can be given up and registered by someone else, who would be an admin."""
    settings = load_settings({"BOT_TOKEN": TOKEN, "ADMIN_USERS": "42, 7"}, None)
    assert settings.admin_users == {"42", "7"} and settings.admin(42)
    for value in ("42,@alice", "alice"):
        with pytest.raises(SettingsError) as raised:
            load_settings({"BOT_TOKEN": TOKEN, "ADMIN_USERS": value}, None)
        message = str(raised.value)
        assert message.startswith("ADMIN_USERS takes numeric user ids only, not @alice")
        assert "@userinfobot" in message and "\n" not in message


def test_allowing_users_by_username_warns_at_start(caplog: pytest.LogCaptureFixture):
    from bot.__main__ import log_start

    settings = load_settings({"BOT_TOKEN": TOKEN, "ALLOWED_USERS": "42,@Alice,bob_b"}, None)
    assert settings.allowed(42, None) and settings.allowed(7, "alice")  # names still work
    with caplog.at_level(logging.INFO, logger="bot"):
        log_start(settings)
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage().startswith("ALLOWED_USERS lets in @alice, @bob_b by username")
    assert "someone else" in warning.getMessage() and "@userinfobot" in warning.getMessage()

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot"):
        log_start(load_settings({"BOT_TOKEN": TOKEN, "ALLOWED_USERS": "42"}, None))
    assert [r.levelno for r in caplog.records] == [logging.INFO]


def test_the_workers_log_masks_the_redis_password_too(capsys: pytest.CaptureFixture[str]):
    from worker.__main__ import configure_logging

    url = "redis://:hunter2@db:6379/0?password=hunter3"
    settings = load_settings({"QUEUE_URL": url}, None, require_token=False)
    root, saq = logging.getLogger(), logging.getLogger("saq")
    handlers, level = root.handlers[:], root.level
    saq_filters, saq_level = saq.filters[:], saq.level
    try:
        configure_logging(settings)
        try:
            raise ConnectionError(f"Redis at {url} is unreachable")
        except ConnectionError:
            logging.getLogger("worker").exception("Cannot start")
    finally:  # the logging of this test process, as it was
        root.handlers[:], saq.filters[:] = handlers, saq_filters
        root.setLevel(level)
        saq.setLevel(saq_level)
    logged = capsys.readouterr().err
    assert "hunter2" not in logged and "hunter3" not in logged
    assert "Redis at redis://:<REDIS_PASSWORD>@db:6379/0?password=<REDIS_PASSWORD>" in logged
