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
from tests.processes import environment, launch, launch_worker, results

pytestmark = pytest.mark.slow

RESULT_TIMEOUT = 90
RESTART_TIMEOUT = 240  # a job painted again from its start, on a shared machine


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


def launch_on_discord(
    discord_server: DiscordApiServer, folder: Path, **settings: str
) -> subprocess.Popen[str]:
    """``python -m bot`` on Discord alone, with the tiny engine; logs to ``folder/bot.log``."""
    values = {
        "DATA_DIR": str(folder / "data"),
        "ENGINE_DEVICE": "cpu",
        "ENGINE_MAX_SIDE": "64",
        "ENGINE_STEPS": "6",
        "PROGRESS_INTERVAL": "0.5",
        "PREVIEW_INTERVAL": "0",
        "LOG_LEVEL": "DEBUG",
        **discord_variables(discord_server),
        **settings,
    }
    with (folder / "bot.log").open("a") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=folder,
            env=environment(**values),
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )


def test_after_a_sigkill_on_discord_the_job_is_delivered_once_and_its_buttons_work(
    discord_server: DiscordApiServer, tmp_path: Path
):
    server = discord_server
    alice = server.add_user("alice")
    dm = server.dm(alice)
    commands = "PUT /applications/{application_id}/commands"
    process = launch_on_discord(server, tmp_path, ENGINE_STEPS="60")
    try:
        up = server.wait_call(commands, timeout=60)
        server.wait_ready(timeout=30)
        pictures = [
            ("photo.png", encode(gradient(72, 40)), "image/png"),
            ("style.png", encode(stripes()), "image/png"),
        ]
        sent = server.user_sends_message(alice, dm, attachments=pictures)
        pair = server.wait_message(dm, after=sent, contains=texts.PAIR_READY, timeout=30)
        medium = next(b.custom_id for b in pair.buttons if "Medium" in (b.label or ""))
        assert medium is not None
        pressed = server.user_presses(alice, pair, medium)
        card = server.wait_message(dm, after=pressed, contains="Painting", timeout=30)
        server.wait_edit(dm, card.id, contains="%", timeout=60)  # painting, mid-job
        process.send_signal(signal.SIGKILL)
        process.wait()

        process = launch_on_discord(server, tmp_path, ENGINE_STEPS="60")
        server.wait_call(commands, after=up.seq, timeout=60)
        server.wait_ready(after=up.seq, timeout=30)
        server.wait_edit(dm, card.id, contains="Done", timeout=RESTART_TIMEOUT)  # the same card
        result = server.wait_message(
            dm,
            after=pressed,
            where=lambda m: any(a.filename == "stylized-medium.png" for a in m.attachments),
            timeout=RESTART_TIMEOUT,
        )
        stronger = next(b.custom_id for b in result.buttons if "Stronger" in (b.label or ""))
        assert stronger is not None
        again = server.user_presses(alice, result, stronger)  # a button from before the kill
        server.wait_message(
            dm,
            after=again,
            where=lambda m: any(a.filename == "stylized-strong.png" for a in m.attachments),
            timeout=RESTART_TIMEOUT,
        )
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    delivered = [
        m
        for m in server.messages(dm)
        if any(a.filename == "stylized-medium.png" for a in m.attachments)
    ]
    assert len(delivered) == 1, "delivered exactly once"


@pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning")
def test_with_redis_each_platform_runs_as_its_own_replica_painted_by_one_worker(
    telegram: BotApiServer, discord_server: DiscordApiServer, redis_url: str, tmp_path: Path
):
    """Two bot processes (Telegram only, Discord only) on one Redis queue, one worker: each
    process follows and delivers its own platform's job, and only its own."""
    (tmp_path / "telegram").mkdir()
    (tmp_path / "discord").mkdir()
    processes = [
        launch(telegram, tmp_path / "telegram", QUEUE_URL=redis_url),
        launch_on_discord(discord_server, tmp_path / "discord", QUEUE_URL=redis_url),
        launch_worker(redis_url, tmp_path, "worker"),
    ]
    try:
        telegram.wait_for_call("setMyCommands", timeout=60)
        discord_server.wait_ready(timeout=60)
        bob = discord_server.add_user("bob")
        dm = discord_server.dm(bob)
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
        telegram.wait_for_message(ALICE, kind="document", timeout=RESTART_TIMEOUT)
        discord_server.wait_message(
            dm,
            after=sent_dm,
            where=lambda m: any(a.filename == "stylized-light.png" for a in m.attachments),
            timeout=RESTART_TIMEOUT,
        )
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert len(results(telegram, ALICE)) == 1
    pngs = [
        m
        for m in discord_server.messages(dm)
        if any(a.filename == "stylized-light.png" for a in m.attachments)
    ]
    assert len(pngs) == 1, "one result file"
    for name in ("telegram", "discord"):
        log = (tmp_path / name / "bot.log").read_text()
        # A front-end that took the other platform's job would fail to reach its chat.
        assert "Traceback" not in log and "Gave up" not in log and "Could not send" not in log
