"""``python -m bot`` as a real process: it starts from its environment, or explains why not."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import texts
from tests.botapi import BotApiServer
from tests.chat import ALICE, BOB, CAROL, DAVE, SendPair, painting, press_strength
from tests.pictures import encode, gradient, stripes
from tests.processes import bot_running, environment, free_port, launch, results


def run_bot(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot`` to completion (for start-up failures)."""
    return subprocess.run(
        [sys.executable, "-m", "bot"], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def bot_process(
    telegram: BotApiServer, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """``python -m bot`` pointed at the fake server through environment variables; Alice
    is let in by username, as some operators do."""
    process = launch(telegram, tmp_path, ALLOWED_USERS=f"@user{ALICE}")
    try:
        yield process, tmp_path / "bot.log"
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
    assert f"WARNING __main__: ALLOWED_USERS lets in @user{ALICE} by username" in output


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

    finished = run_bot(tmp_path, environment(QUEUE_URL="", ADMIN_USERS="42,@carol"))
    assert finished.returncode == 2
    assert finished.stderr.strip() == (
        "stylebot: ADMIN_USERS takes numeric user ids only, not @carol: a username can be given "
        "up and registered by someone else; ask each admin to message @userinfobot, which "
        "answers with their id"
    )


@pytest.mark.slow
def test_a_redis_password_never_shows_even_in_the_error_that_stops_the_bot(
    telegram: BotApiServer, tmp_path: Path
):
    url = f"redis://127.0.0.1:{free_port()}/0?password=hunter2"  # nobody listens there
    process = launch(telegram, tmp_path, QUEUE_URL=url)
    assert process.wait(timeout=120) == 1
    output = (tmp_path / "bot.log").read_text()
    assert "hunter2" not in output
    assert "queue_url='redis://127.0.0.1:" in output and "/0?password=***'" in output
    (stopped,) = [line for line in output.splitlines() if "CRITICAL" in line]
    assert "Stopped: Redis at redis://" in stopped and "?password=***" in stopped


# ---- restarts: nothing is lost ---------------------------------------------------------------

RESTART_TIMEOUT = 120


@pytest.mark.slow
async def test_after_a_sigkill_every_job_is_delivered_once_and_pictures_stay(
    telegram: BotApiServer, send_pair: SendPair, tmp_path: Path
):
    with bot_running(telegram, tmp_path, ENGINE_STEPS="300") as process:
        pairs = {user: await send_pair(user) for user in (ALICE, BOB, CAROL)}
        sent = telegram.user_sends_photo(DAVE, encode(gradient()))
        await telegram.await_message(DAVE, after=sent, contains=texts.GOT_CONTENT)
        painting_now = await press_strength(telegram, ALICE, pairs[ALICE], "Medium")
        await painting(telegram, ALICE, painting_now.message_id)
        waiting = {
            user: await press_strength(telegram, user, pairs[user], "Light")
            for user in (BOB, CAROL)
        }
        process.send_signal(signal.SIGKILL)
        process.wait()

    with bot_running(telegram, tmp_path, ENGINE_STEPS="300"):
        sent = telegram.user_sends_photo(DAVE, encode(stripes()))  # the photo from before
        pair = await telegram.await_message(DAVE, after=sent, kind="photo")
        assert pair.body == texts.PAIR_READY
        for user in (ALICE, BOB, CAROL):
            await telegram.await_message(user, kind="document", timeout=RESTART_TIMEOUT)
        for user, progress in waiting.items():
            # The progress message goes on; only if the kill came between its sending and
            # the bot noting its id on the job (a few ms), a new one takes over.
            later = [m for m in telegram.messages(user) if m.seq >= progress.seq]
            done = [m for m in later if m.body.startswith("Done in ")]
            assert len(done) == 1, telegram.dump(user)
    for user in (ALICE, BOB, CAROL):
        assert len(results(telegram, user)) == 1, telegram.dump(user)


@pytest.mark.slow
async def test_sigterm_mid_job_exits_cleanly_and_the_next_start_delivers_it(
    telegram: BotApiServer, send_pair: SendPair, tmp_path: Path
):
    with bot_running(telegram, tmp_path, ENGINE_STEPS="2000") as process:
        pair = await send_pair(ALICE)
        progress = await press_strength(telegram, ALICE, pair, "Medium")
        await painting(telegram, ALICE, progress.message_id)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 20) == 0
        assert time.monotonic() - started < 20
        assert telegram.message(ALICE, progress.message_id).body == texts.RESTARTING

    with bot_running(telegram, tmp_path, ENGINE_STEPS="20"):
        await telegram.await_message(ALICE, kind="document", timeout=RESTART_TIMEOUT)
        await telegram.await_edit(ALICE, progress.message_id, contains="Done in ")
    assert len(results(telegram, ALICE)) == 1
    log = (tmp_path / "bot.log").read_text()
    assert "Traceback" not in log and telegram.token not in log


# ---- webhook mode ---------------------------------------------------------------------------


def post(url: str, update: dict[str, object], secret: str | None) -> int:
    """POST an update the way Telegram does; the HTTP status the bot answers."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = json.dumps(update).encode()
    request = urllib.request.Request(url, body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.slow
async def test_webhook_mode_takes_updates_only_with_the_secret(
    telegram: BotApiServer, tmp_path: Path
):
    port, secret = free_port(), "s3cret-token"
    settings = {
        "WEBHOOK_URL": "https://bot.example.org/telegram/hook",
        "WEBHOOK_SECRET": secret,
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
    }
    with bot_running(telegram, tmp_path, **settings) as process:
        hook = await asyncio.to_thread(telegram.wait_for_call, "setWebhook", timeout=60)
        assert hook.params["url"] == settings["WEBHOOK_URL"]
        assert hook.params["secret_token"] == secret
        url = f"http://127.0.0.1:{port}/telegram/hook"
        for _ in range(100):  # the webhook server comes up with the bot's start
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            await asyncio.sleep(0.1)

        forged = telegram.user_sends_command(ALICE, "/start")  # the update, not polled
        assert await asyncio.to_thread(post, url, forged.update, None) == 403
        assert await asyncio.to_thread(post, url, forged.update, "wrong") == 403
        real = telegram.user_sends_command(BOB, "/start")
        assert await asyncio.to_thread(post, url, real.update, secret) == 200
        assert (await telegram.await_message(BOB, after=real)).body == texts.INTRO
        assert telegram.messages(ALICE) == []
        assert telegram.calls("getUpdates") == []  # no polling in webhook mode

        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 20) == 0
    output = (tmp_path / "bot.log").read_text()  # at DEBUG: PTB logs setWebhook's parameters
    assert secret not in output and "'secret_token': '<WEBHOOK_SECRET>'" in output


# ---- start-up without Telegram -------------------------------------------------------------


class Gate:
    """A TCP port that refuses connections until opened, then forwards to ``target``."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self._target = target_port
        self._server: asyncio.Server | None = None

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self._target)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


@pytest.mark.slow
async def test_started_without_network_it_retries_then_runs(telegram: BotApiServer, tmp_path: Path):
    telegram_port = int(telegram.base_url.split(":")[2].split("/")[0])
    gate = Gate(telegram_port)
    base = telegram.base_url.replace(f":{telegram_port}/", f":{gate.port}/")
    files = telegram.base_file_url.replace(f":{telegram_port}/", f":{gate.port}/")
    process = launch(telegram, tmp_path, TELEGRAM_BASE_URL=base, TELEGRAM_BASE_FILE_URL=files)
    log = tmp_path / "bot.log"
    try:
        for _ in range(200):  # two failed attempts: 1 s, then 2 s apart
            if log.read_text().count("Telegram is unreachable") >= 2:
                break
            await asyncio.sleep(0.1)
        text = log.read_text()
        assert text.count("Telegram is unreachable") >= 2 and "Traceback" not in text
        assert process.poll() is None  # still trying

        await gate.open()
        await asyncio.to_thread(telegram.wait_for_call, "setMyCommands", timeout=60)
        sent = telegram.user_sends_command(ALICE, "/start")
        assert (await telegram.await_message(ALICE, after=sent, timeout=30)).body == texts.INTRO
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        await gate.close()


def test_a_wrong_token_ends_with_one_line(telegram: BotApiServer, tmp_path: Path):
    env = environment(
        BOT_TOKEN="999:wrong-token",
        TELEGRAM_BASE_URL=telegram.base_url,
        TELEGRAM_BASE_FILE_URL=telegram.base_file_url,
        DATA_DIR=str(tmp_path / "data"),
    )
    finished = run_bot(tmp_path, env)
    assert finished.returncode == 2
    assert finished.stderr.strip().splitlines()[-1] == (
        "stylebot: Telegram refused BOT_TOKEN: check it with @BotFather"
    )
    assert "Traceback" not in finished.stderr and "wrong-token" not in finished.stderr
