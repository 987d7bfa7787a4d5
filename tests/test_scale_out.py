"""QUEUE_URL=redis://…: the bot paints nothing; ``stylebot-worker`` processes do, as deployed.

A real redis-server, the bot as a process against the fake Bot API, and real workers with
the engine at 64 px. These are the operator's promises: a worker killed mid-job costs nobody
their picture, a cancel reaches whichever worker paints, each result arrives once.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from bot import texts
from tests.botapi import BotApiServer
from tests.chat import SendPair, painting, press_strength
from tests.processes import bot_running, kill, launch_worker, results

pytestmark = pytest.mark.slow

USERS = tuple(range(2001, 2007))
RESULT_TIMEOUT = 240  # a killed worker's job waits for the sweep (about 30 s) before rerunning


async def wait_for_log(path: Path, text: str, timeout: float = 90) -> None:
    for _ in range(int(timeout / 0.1)):
        if path.exists() and text in path.read_text(errors="replace"):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path.name} never said {text!r}")


async def test_six_users_two_workers_one_killed_mid_job_each_gets_one_result(
    telegram: BotApiServer, send_pair: SendPair, redis_url: str, tmp_path: Path
):
    workers = [
        launch_worker(redis_url, tmp_path, name, ENGINE_STEPS="120") for name in ("w1", "w2")
    ]
    try:
        for name in ("w1", "w2"):
            await wait_for_log(tmp_path / f"{name}.log", "Waiting for jobs")
        with bot_running(telegram, tmp_path, QUEUE_URL=redis_url):
            pairs = {user: await send_pair(user) for user in USERS}
            progress = {
                user: await press_strength(telegram, user, pair, "Medium")
                for user, pair in pairs.items()
            }
            await painting(telegram, USERS[0], progress[USERS[0]].message_id)
            await painting(telegram, USERS[1], progress[USERS[1]].message_id)
            workers[0].send_signal(signal.SIGKILL)  # both paint: the first dies mid-job
            workers[0].wait()

            for user in USERS:
                await telegram.await_message(user, kind="document", timeout=RESULT_TIMEOUT)
                places = [
                    int(body.split("—")[1].split()[0])
                    for _, body in telegram.message(user, progress[user].message_id).versions
                    if body.startswith("Queued — ") and "ahead" in body
                ]
                assert places == sorted(places, reverse=True), places  # never up
        for user in USERS:
            assert len(results(telegram, user)) == 1, telegram.dump(user)
        bot_log = (tmp_path / "bot.log").read_text()
        assert "Traceback" not in bot_log and telegram.token not in bot_log
    finally:
        for worker in workers:
            kill(worker)


async def test_a_cancel_from_the_chat_stops_the_job_on_the_worker(
    telegram: BotApiServer, send_pair: SendPair, redis_url: str, tmp_path: Path
):
    worker = launch_worker(redis_url, tmp_path, "w1", ENGINE_STEPS="3000")
    try:
        await wait_for_log(tmp_path / "w1.log", "Waiting for jobs")
        with bot_running(telegram, tmp_path, QUEUE_URL=redis_url):
            user = USERS[0]
            pair = await send_pair(user)
            progress = await press_strength(telegram, user, pair, "Strong")
            await painting(telegram, user, progress.message_id)
            sent = telegram.user_sends_command(user, "/cancel")
            reply = await telegram.await_message(user, after=sent)
            assert reply.body == texts.CANCELLING_RUNNING
            await telegram.await_edit(
                user, progress.message_id, contains=texts.CANCELLED, timeout=15
            )

            second = await press_strength(telegram, user, pair, "Light")  # the worker is free
            await painting(telegram, user, second.message_id)
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(worker.wait, 20) == 0
    finally:
        kill(worker)


def test_a_worker_without_a_redis_url_says_so_in_one_line(tmp_path: Path):
    worker = launch_worker("", tmp_path, "w1")
    assert worker.wait(timeout=60) == 2
    log = (tmp_path / "w1.log").read_text().strip()
    assert log.startswith("stylebot-worker: QUEUE_URL must name") and "\n" not in log
