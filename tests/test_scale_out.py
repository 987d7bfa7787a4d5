"""QUEUE_URL=redis://…: the bot paints nothing; ``stylebot-worker`` processes do, as deployed.

A real redis-server, the bot as a process against the fake Bot API, and real workers with
the engine at 64 px. These are the operator's promises: a worker killed mid-job costs nobody
their picture, a cancel reaches whichever worker paints, each result arrives once, and a
press while no worker is up (they are starting, or restarting) is queued, not refused.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from bot import texts
from bot.i18n import ENGLISH
from jobqueue.redis import RedisQueue
from tests.botapi import BotApiServer
from tests.chat import SendPair, StartBot, labels, painting, press_strength
from tests.processes import (
    bot_running,
    free_port,
    healthz,
    healthz_becomes,
    kill,
    launch_worker,
    results,
)

pytestmark = [
    pytest.mark.slow,
    # saq 0.26 calls redis-py's setex, which redis-py 8 deprecates (the in-process bot test)
    pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning"),
]

USERS = tuple(range(2001, 2007))
RESULT_TIMEOUT = 240  # a killed worker's job waits for the sweep (about 30 s) before rerunning


async def wait_for_log(path: Path, text: str, timeout: float = 90) -> None:
    for _ in range(int(timeout / 0.1)):
        if path.exists() and text in path.read_text(errors="replace"):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path.name} never said {text!r}")


async def all_acknowledged(redis_url: str, timeout: float = 30) -> None:
    """Until the bot is done with every job (told its user, delivered its picture): only then
    may a count of the results say "once"."""
    queue = RedisQueue(redis_url)
    await queue.start()
    try:
        async with asyncio.timeout(timeout):
            while await queue.unfinished():
                await asyncio.sleep(0.2)
    finally:
        await queue.close()


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


# ---- no painter online: painters starting, restarting, or gone for a while ------------------


async def test_a_new_bot_takes_every_press_while_its_workers_come_up_and_each_is_painted_once(
    telegram: BotApiServer, send_pair: SendPair, redis_url: str, tmp_path: Path
):
    """The deployment's first seconds: the bot is up and has never seen a worker; the two
    workers are launched at the instant everyone presses, so every press comes while no
    painter is online (a worker needs seconds to load PyTorch and the model)."""
    users = USERS[:4]
    workers = []
    try:
        with bot_running(telegram, tmp_path, QUEUE_URL=redis_url):
            pairs = await asyncio.gather(*(send_pair(user) for user in users))
            began = time.monotonic()
            workers = [launch_worker(redis_url, tmp_path, name) for name in ("w1", "w2")]
            presses = [
                telegram.user_presses_button(user, pair.message_id, label="Medium")
                for user, pair in zip(users, pairs, strict=True)
            ]
            for user, press in zip(users, presses, strict=True):
                assert await telegram.await_button_answer(press) == texts.QUEUED_NOTE
                progress = await telegram.await_message(user, after=press, kind="photo")
                assert texts.NO_PAINTER_YET in progress.body  # it waits, and says so
            for user in users:
                await telegram.await_message(user, kind="document", timeout=RESULT_TIMEOUT)
            delivered = time.monotonic() - began
            await all_acknowledged(redis_url)
        for user in users:
            assert len(results(telegram, user)) == 1, telegram.dump(user)
        bot_log = (tmp_path / "bot.log").read_text()
        assert "Traceback" not in bot_log, bot_log
        print(f"all {len(users)} delivered {delivered:.1f} s after the workers were launched")
    finally:
        for worker in workers:
            kill(worker)


async def test_every_worker_stopped_for_a_minute_jobs_wait_and_are_painted_once_after(
    telegram: BotApiServer, send_pair: SendPair, redis_url: str, tmp_path: Path
):
    port = free_port()
    users = USERS[:3]
    # The first worker paints slowly: its job is still running when it stops.
    first = launch_worker(redis_url, tmp_path, "w1", ENGINE_STEPS="3000")
    later = None
    try:
        with bot_running(telegram, tmp_path, QUEUE_URL=redis_url, METRICS_PORT=str(port)):
            await wait_for_log(tmp_path / "w1.log", "Waiting for jobs")
            await healthz_becomes(port, 200)
            pairs = {user: await send_pair(user) for user in users}
            progress = {
                users[0]: await press_strength(telegram, users[0], pairs[users[0]], "Light")
            }
            await painting(telegram, users[0], progress[users[0]].message_id)

            first.send_signal(signal.SIGTERM)  # every worker stops: the job goes back to wait
            assert await asyncio.to_thread(first.wait, 30) == 0
            stopped = time.monotonic()
            await healthz_becomes(port, 503)  # the bot knows no painter is online
            for user in users[1:]:  # and still takes the presses
                progress[user] = await press_strength(telegram, user, pairs[user], "Medium")
            for user in users:  # the progress message, whether sent so or edited
                await telegram.await_message(user, after=0, contains=texts.NO_PAINTER_YET)
            while time.monotonic() - stopped < 60:  # a minute without any painter
                code, body = await healthz(port)
                assert code == 503 and "painter" in body, (code, body)
                assert not any(results(telegram, user) for user in users)
                await asyncio.sleep(2)

            later = launch_worker(redis_url, tmp_path, "w2")  # a painter comes back
            for user in users:
                await telegram.await_message(user, kind="document", timeout=RESULT_TIMEOUT)
            await all_acknowledged(redis_url)
            await healthz_becomes(port, 200)
        for user in users:
            assert len(results(telegram, user)) == 1, telegram.dump(user)
        bot_log = (tmp_path / "bot.log").read_text()
        assert "Traceback" not in bot_log, bot_log
    finally:
        for worker in (first, later):
            if worker is not None:
                kill(worker)


async def test_with_no_painter_for_the_give_up_time_the_user_hears_why_and_may_retry(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair, redis_url: str
):
    user = USERS[0]
    queue = RedisQueue(redis_url, give_up_after=2, status_every=0.1, poll_every=0.2)
    async with start_bot(queue, queue_url=redis_url):
        pair = await send_pair(user)
        progress = await press_strength(telegram, user, pair, "Medium")
        assert progress.body == f"{texts.queued(ENGLISH, 0)}\n{texts.NO_PAINTER_YET}"
        gave_up = texts.FAILED.format(reason=texts.NO_PAINTER_GAVE_UP.format(wait="2 s"))
        ended = await telegram.await_edit(user, progress.message_id, contains=gave_up, timeout=10)
        assert ended.body == gave_up
        assert labels(ended) == ["Light", "• Medium", "Strong"]  # as after any failure
        again = await press_strength(telegram, user, ended, "Strong")  # its buttons still work
        assert texts.NO_PAINTER_YET in again.body
