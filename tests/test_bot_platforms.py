"""Telegram and Discord served by one ``python -m bot``: one queue, one painter, each
platform's jobs delivered on their own platform; a stop ends both; a refused token of
either stops the process with one line."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot import texts
from config.settings import NO_TOKEN
from tests.botapi import BotApiServer
from tests.chat import ALICE
from tests.discordapi import DiscordApiServer
from tests.pictures import encode, gradient, stripes
from tests.processes import environment, launch

pytestmark = pytest.mark.slow

RESULT_TIMEOUT = 90


def discord_variables(discord_server: DiscordApiServer) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": discord_server.token,
        "DISCORD_API_BASE": discord_server.api_base,
        "DISCORD_GATEWAY_URL": discord_server.gateway_url,
    }


@pytest.fixture
def discord_server():
    with DiscordApiServer() as server:
        yield server
    assert not server.internal_errors, "\n".join(server.internal_errors)


def test_one_process_paints_for_both_platforms_and_stops_cleanly(
    telegram: BotApiServer, discord_server: DiscordApiServer, tmp_path: Path
):
    process = launch(telegram, tmp_path, **discord_variables(discord_server))
    try:
        telegram.wait_for_call("setMyCommands", timeout=60)
        discord_server.wait_call("PUT /applications/{application_id}/commands", timeout=60)
        bob = discord_server.add_user("bob")
        dm = discord_server.dm(bob)

        # Both platforms' pairs at once, one painter: each result on its own platform.
        sent = telegram.user_sends_photo(ALICE, encode(gradient(72, 40)))
        telegram.wait_for_message(ALICE, after=sent, contains=texts.GOT_CONTENT, timeout=30)
        sent = telegram.user_sends_photo(ALICE, encode(stripes()))
        pair = telegram.wait_for_message(ALICE, after=sent, kind="photo", timeout=30)
        pictures = [
            ("photo.png", encode(gradient(72, 40)), "image/png"),
            ("style.png", encode(stripes()), "image/png"),
        ]
        sent_dm = discord_server.user_sends_message(bob, dm, attachments=pictures)
        discord_pair = discord_server.wait_message(
            dm, after=sent_dm, contains=texts.PAIR_READY, timeout=30
        )
        light = next(b.custom_id for b in discord_pair.buttons if b.label == "Light")
        assert light is not None
        telegram.user_presses_button(ALICE, pair.message_id, label="Light")
        discord_server.user_presses(bob, discord_pair, light)

        telegram.wait_for_message(ALICE, kind="document", timeout=RESULT_TIMEOUT)
        discord_server.wait_message(
            dm,
            after=sent_dm,
            where=lambda m: any(a.filename == "stylized-light.png" for a in m.attachments),
            timeout=RESULT_TIMEOUT,
        )

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    log = (tmp_path / "bot.log").read_text()
    assert "Traceback" not in log
    assert telegram.token not in log and discord_server.token not in log  # at DEBUG level
    assert "Bot stopped on telegram" in log and "Bot stopped on discord" in log
    assert (tmp_path / "data" / "discord" / "sessions.sqlite3").is_file()


def test_discord_alone_needs_no_telegram_token_and_a_refused_one_is_one_line(
    discord_server: DiscordApiServer, tmp_path: Path
):
    variables = discord_variables(discord_server)
    variables["DISCORD_TOKEN"] = "MTAwMDAwMDAwMDAwMDAwMDAx.fake.wrong-bot-token-xyz"
    env = environment(DATA_DIR=str(tmp_path / "data"), ENGINE_DEVICE="cpu", **variables)
    finished = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert finished.returncode == 2
    assert finished.stderr.strip().splitlines()[-1] == (
        "stylebot: Discord refused DISCORD_TOKEN: copy it again from the developer portal "
        "(Bot page)"
    )
    assert "Traceback" not in finished.stderr and "wrong-bot-token" not in finished.stderr
    assert NO_TOKEN not in finished.stderr
