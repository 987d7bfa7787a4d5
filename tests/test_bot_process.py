"""``python -m bot`` as a real process: it starts from its environment, or explains why not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import texts
from tests.botapi import BotApiServer
from tests.chat import ALICE

REPO = Path(__file__).resolve().parents[1]
OUR_VARIABLES = ("BOT_", "TELEGRAM_", "ENGINE_", "QUEUE_", "LOG_", "PROGRESS_", "PREVIEW_")


def environment(**values: str) -> dict[str, str]:
    """This test process's environment without any bot setting, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OUR_VARIABLES)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return {**env, **values}


def run_bot(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot`` to completion (for start-up failures)."""
    return subprocess.run(
        [sys.executable, "-m", "bot"], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def bot_process(
    telegram: BotApiServer, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """``python -m bot`` pointed at the fake server through environment variables."""
    log = tmp_path / "bot.log"
    env = environment(
        BOT_TOKEN=telegram.token,
        TELEGRAM_BASE_URL=telegram.base_url,
        TELEGRAM_BASE_FILE_URL=telegram.base_file_url,
        ENGINE_DEVICE="cpu",
        ENGINE_MAX_SIDE="64",
        ENGINE_STEPS="6",
        LOG_LEVEL="DEBUG",
    )
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        yield process, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_python_m_bot_answers_start_and_stops_cleanly(
    bot_process: tuple[subprocess.Popen[str], Path], telegram: BotApiServer
):
    process, log = bot_process
    telegram.wait_for_call("setMyCommands", timeout=60)  # up: torch imported, queue started
    sent = telegram.user_sends_command(ALICE, "/start")
    assert telegram.wait_for_message(ALICE, after=sent, timeout=30).body == texts.INTRO

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    output = log.read_text()
    assert "Bot @stylebot_test_bot is up" in output
    assert telegram.token not in output  # even at DEBUG level
    assert "Traceback" not in output


def test_without_a_token_it_says_how_to_get_one(tmp_path: Path):
    finished = run_bot(tmp_path, environment())
    assert finished.returncode == 2
    assert "@BotFather" in finished.stderr
    assert "BOT_TOKEN=" in finished.stderr and ".env" in finished.stderr
    assert "Traceback" not in finished.stderr
    assert len(finished.stderr.strip().splitlines()) <= 3


def test_a_bad_setting_is_one_line_naming_it(tmp_path: Path):
    (tmp_path / ".env").write_text(
        "BOT_TOKEN=123:abc\nQUEUE_URL=redis://:secret@localhost:6379/zero\n"
    )
    finished = run_bot(tmp_path, environment(ENGINE_STEPS="many"))
    assert finished.returncode == 2
    assert finished.stderr.strip() == (
        "stylebot: ENGINE_STEPS='many' is invalid: expected a whole number, at least 1"
    )

    finished = run_bot(tmp_path, environment())
    assert finished.returncode == 2
    assert finished.stderr.strip() == (
        "stylebot: QUEUE_URL is invalid: expected redis://[:password@]host[:port][/db], or empty"
    )
