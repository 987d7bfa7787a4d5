"""Real processes for the tests: ``python -m bot`` and ``stylebot-worker`` against local
servers, started the way an operator would, with their settings in the environment."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.botapi import BotApiServer, BotMessage

REPO = Path(__file__).resolve().parents[1]
OUR_VARIABLES = (
    "BOT_",
    "TELEGRAM_",
    "ENGINE_",
    "QUEUE_",
    "LOG_",
    "PROGRESS_",
    "PREVIEW_",
    "DATA_",
    "MAX_",
    "DISCORD_",
    "ALLOWED_",
    "ADMIN_",
)


def environment(**values: str) -> dict[str, str]:
    """This test process's environment without any bot setting, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OUR_VARIABLES)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return {**env, **values}


def free_port() -> int:
    """A loopback port nobody listens on right now (for servers the tests start)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def launch(telegram: BotApiServer, folder: Path, **settings: str) -> subprocess.Popen[str]:
    """``python -m bot`` in ``folder`` (its DATA_DIR is ``folder/data``), pointed at the fake
    server; it logs to ``folder/bot.log``, appending across restarts."""
    defaults = {
        "BOT_TOKEN": telegram.token,
        "TELEGRAM_BASE_URL": telegram.base_url,
        "TELEGRAM_BASE_FILE_URL": telegram.base_file_url,
        "ENGINE_DEVICE": "cpu",
        "ENGINE_MAX_SIDE": "64",
        "ENGINE_STEPS": "6",
        "PROGRESS_INTERVAL": "0.5",
        "PREVIEW_INTERVAL": "0",
        "LOG_LEVEL": "DEBUG",
    }
    env = environment(**{**defaults, **settings})
    with (folder / "bot.log").open("a") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=folder,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )


def launch_worker(
    queue_url: str, folder: Path, name: str, **settings: str
) -> subprocess.Popen[str]:
    """``python -m worker`` (``stylebot-worker``) with the tiny engine; logs to ``name.log``."""
    defaults = {
        "QUEUE_URL": queue_url,
        "ENGINE_DEVICE": "cpu",
        "ENGINE_MAX_SIDE": "64",
        "ENGINE_STEPS": "6",
        "PREVIEW_INTERVAL": "0",
        "LOG_LEVEL": "INFO",
    }
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{name}.log").open("a") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "worker"],
            cwd=folder,
            env=environment(**{**defaults, **settings}),
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )


@contextlib.contextmanager
def bot_running(
    telegram: BotApiServer, folder: Path, **settings: str
) -> Iterator[subprocess.Popen[str]]:
    """The bot process, up (its commands set); killed at the end if still running."""
    process = launch(telegram, folder, **settings)
    try:
        calls = len(telegram.calls("setMyCommands"))
        telegram.wait_for_call(
            "setMyCommands",
            where=lambda _: len(telegram.calls("setMyCommands")) > calls,
            timeout=60,
        )
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def results(telegram: BotApiServer, user: int) -> list[BotMessage]:
    """The result files the bot sent to ``user``."""
    return [m for m in telegram.messages(user) if m.kind == "document"]


def kill(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


async def healthz(port: int) -> tuple[int, str]:
    """``GET /healthz`` of a bot started with ``METRICS_PORT=port``: the status and the body."""

    def get() -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    return await asyncio.to_thread(get)


async def healthz_becomes(port: int, status: int, timeout: float = 30) -> str:
    """Until the bot's /healthz answers ``status`` (it looks at its queue every few seconds);
    returns the body."""
    code, body = 0, "(never answered)"
    for _ in range(int(timeout / 0.2)):
        with contextlib.suppress(OSError):  # not listening yet
            code, body = await healthz(port)
            if code == status:
                return body
        await asyncio.sleep(0.2)
    raise AssertionError(f"/healthz never answered {status}; last {code}: {body}")
