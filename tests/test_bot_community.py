"""Running the bot for a community, as its users and its operator meet it: who may use it,
fair use, /stats, metrics and health, room on disk, JSON logs."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import urllib.error
import urllib.request
from pathlib import Path
from threading import Event

import pytest

import bot.service
from bot import texts
from config.logs import RedactingFormatter, formatter
from jobqueue import JobOrder, Painted, Report
from jobqueue.embedded import EmbeddedQueue
from jobqueue.logs import JobIdFilter, current_job
from jobqueue.redis import RedisQueue
from tests.botapi import BotApiServer
from tests.chat import ALICE, BOB, SendPair, StartBot, assert_no_reply, press_strength
from tests.painters import CRASH, FakePainter
from tests.pictures import encode, gradient, noise
from tests.processes import free_port
from tests.redis_server import start_redis, stop_redis

pytestmark = pytest.mark.slow
RESULT_TIMEOUT = 120


async def fetch(port: int, path: str) -> tuple[int, str]:
    def get() -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    return await asyncio.to_thread(get)


async def healthz_becomes(port: int, status: int, says: str = "", timeout: float = 15) -> str:
    for _ in range(int(timeout / 0.1)):
        code, body = await fetch(port, "/healthz")
        if code == status and body.startswith(says):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"/healthz never answered {status} {says!r}; last {code}: {body}")


@pytest.fixture(autouse=True)
def watch_often(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot looks at its queue and health every few seconds; here, ten times a second."""
    monkeypatch.setattr(bot.service, "WATCH_EVERY_SECONDS", 0.1)


async def paint_once(telegram: BotApiServer, send_pair: SendPair, user: int) -> None:
    pair = await send_pair(user)
    await press_strength(telegram, user, pair, "Light")
    await telegram.await_message(user, kind="document", timeout=RESULT_TIMEOUT)


# ---- access ------------------------------------------------------------------------------------


async def test_a_stranger_gets_one_polite_sentence_and_nothing_is_downloaded(
    start_bot: StartBot, telegram: BotApiServer
):
    async with start_bot(allowed_users=frozenset({str(ALICE)})):
        sent = telegram.user_sends_photo(BOB, encode(gradient()))
        assert (await telegram.await_message(BOB, after=sent)).body == texts.NOT_ALLOWED
        sent = telegram.user_sends_command(BOB, "/start")
        assert (await telegram.await_message(BOB, after=sent)).body == texts.NOT_ALLOWED
        assert telegram.calls("getFile") == []

        sent = telegram.user_sends_photo(ALICE, encode(gradient()))
        assert (await telegram.await_message(ALICE, after=sent)).body == texts.GOT_CONTENT


async def test_users_are_allowed_by_username_too_and_admins_always(
    start_bot: StartBot, telegram: BotApiServer
):
    allowed = frozenset({f"user{BOB}"})  # the fake server's usernames: user<id>
    async with start_bot(allowed_users=allowed, admin_users=frozenset({str(ALICE)})):
        for user in (ALICE, BOB):
            sent = telegram.user_sends_photo(user, encode(gradient()))
            assert (await telegram.await_message(user, after=sent)).body == texts.GOT_CONTENT


# ---- fair use ----------------------------------------------------------------------------------


async def test_the_daily_quota_says_when_to_come_back_survives_a_restart_and_spares_admins(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    async with start_bot(jobs_per_user_per_day=1, admin_users=frozenset({str(BOB)})):
        await paint_once(telegram, send_pair, ALICE)
        await paint_once(telegram, send_pair, BOB)
        result = await telegram.await_message(BOB, kind="document")
        press = telegram.user_presses_button(BOB, result.message_id, label="Stronger")
        assert await telegram.await_button_answer(press) == texts.QUEUED_NOTE  # an admin
        await telegram.await_message(BOB, after=press, kind="document", timeout=RESULT_TIMEOUT)

    async with start_bot(jobs_per_user_per_day=1):  # the count is on disk, and the pair
        result = await telegram.await_message(ALICE, kind="document")
        press = telegram.user_presses_button(ALICE, result.message_id, label="Stronger")
        answer = await telegram.await_button_answer(press)
        assert answer is not None and answer.startswith("That's your 1 picture for today.")
        assert " h " in answer or answer.endswith(" min.")  # until midnight UTC
        await assert_no_reply(telegram, ALICE, press)


async def test_a_flood_of_pictures_is_refused_before_downloading(
    start_bot: StartBot, telegram: BotApiServer
):
    async with start_bot(pictures_per_minute=2):
        for _ in range(2):
            sent = telegram.user_sends_photo(ALICE, encode(gradient()))
            await telegram.await_message(ALICE, after=sent)
        downloads = len(telegram.calls("getFile"))
        sent = telegram.user_sends_photo(ALICE, encode(noise()))
        reply = await telegram.await_message(ALICE, after=sent)
        assert reply.body.startswith("You're sending pictures faster than I can look at them.")
        assert "again in 1 min" in reply.body or " s." in reply.body
        assert len(telegram.calls("getFile")) == downloads


async def test_a_full_data_dir_refuses_new_pictures_politely(
    start_bot: StartBot, telegram: BotApiServer, tmp_path
):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "ballast.bin").write_bytes(b"\0" * 1_100_000)
    async with start_bot(data_max_mb=1):
        sent = telegram.user_sends_photo(ALICE, encode(gradient()))
        reply = await telegram.await_message(ALICE, after=sent)
        assert reply.body == texts.with_hint(texts.DISK_FULL, texts.NEED_CONTENT)
        assert telegram.calls("getFile") == []


# ---- the operator's view -----------------------------------------------------------------------


async def test_stats_for_admins_only(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    async with start_bot(admin_users=frozenset({str(ALICE)})):
        await paint_once(telegram, send_pair, BOB)
        sent = telegram.user_sends_command(BOB, "/stats")
        assert (await telegram.await_message(BOB, after=sent)).body == texts.UNKNOWN_COMMAND

        sent = telegram.user_sends_command(ALICE, "/stats")
        stats = (await telegram.await_message(ALICE, after=sent)).body
        assert stats.startswith("Queue: 0 waiting, 0 painting · workers alive: 1")
        assert "Today (UTC): 1 done, 0 failed, 0 cancelled" in stats
        assert "Job time: median " in stats and "95th percentile" in stats
        assert "DATA_DIR: " in stats


async def test_metrics_and_health_over_http_match_what_happened(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    port = free_port()
    async with start_bot(metrics_port=port):
        assert await healthz_becomes(port, 200) == "ok\n"
        await paint_once(telegram, send_pair, ALICE)
        pair = await send_pair(BOB)
        progress = await press_strength(telegram, BOB, pair, "Light")
        telegram.user_presses_button(BOB, progress.message_id, label="Cancel")
        await telegram.await_edit(BOB, progress.message_id, contains=texts.CANCELLED)
        await asyncio.sleep(0.2)  # the follower counts the ending right after its last edit

        code, metrics = await fetch(port, "/metrics")
        assert code == 200
        lines = set(metrics.splitlines())
        assert 'stylebot_jobs_total{outcome="done",platform="telegram"} 1.0' in lines
        assert 'stylebot_jobs_total{outcome="cancelled",platform="telegram"} 1.0' in lines
        assert 'stylebot_jobs_total{outcome="failed",platform="telegram"} 0.0' in lines
        assert "stylebot_job_seconds_count 1.0" in lines
        assert "stylebot_step_seconds_count 1.0" in lines
        assert "stylebot_queue_depth 0.0" in lines and "stylebot_workers 1.0" in lines
        assert any(line.startswith("process_resident_memory_bytes ") for line in lines)


class CrashingPainter(FakePainter):
    """Fails every job as a bug in the painter would."""

    def __call__(
        self, content: bytes, style: bytes, order: JobOrder, report: Report, cancel: Event
    ) -> Painted:
        return super().__call__(CRASH, style, order, report, cancel)


async def test_a_failed_job_is_counted_as_failed(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair, tmp_path: Path
):
    queue = EmbeddedQueue(tmp_path / "queue", CrashingPainter())
    async with start_bot(queue=queue) as application:
        pair = await send_pair(ALICE)
        progress = await press_strength(telegram, ALICE, pair, "Light")
        went_wrong = texts.FAILED.format(reason=texts.PAINTING_WENT_WRONG)
        await telegram.await_edit(ALICE, progress.message_id, contains=went_wrong)

        registry = application.bot_data.metrics.registry
        for outcome, count in {"failed": 1.0, "done": 0.0, "cancelled": 0.0}.items():
            labels = {"platform": "telegram", "outcome": outcome}
            sample = registry.get_sample_value("stylebot_jobs_total", labels)
            assert sample == count, outcome


async def test_a_failed_warm_up_shows_in_health_and_users_hear_painting_is_unavailable(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    port = free_port()
    async with start_bot(metrics_port=port, engine_weights="/nonexistent/vgg19.pth"):
        assert await healthz_becomes(port, 503, says="no painter") == "no painter ready\n"
        pair = await send_pair(ALICE)
        press = telegram.user_presses_button(ALICE, pair.message_id, label="Medium")
        assert await telegram.await_button_answer(press) == texts.PAINTING_UNAVAILABLE


async def test_health_says_when_the_bot_is_not_receiving(
    start_bot: StartBot, telegram: BotApiServer
):
    port = free_port()
    async with start_bot(metrics_port=port) as application:
        await healthz_becomes(port, 200)
        assert application.updater is not None
        await application.updater.stop()
        body = await healthz_becomes(port, 503)
        assert body == "not receiving updates from a chat platform\n"
        await application.updater.start_polling(poll_interval=0, timeout=1)


async def test_health_says_a_short_phrase_naming_no_host_and_listens_on_loopback(
    start_bot: StartBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    """/healthz is for anyone who reaches the port: the details are for the log."""
    (tmp_path / "redis").mkdir()
    redis, url = start_redis(tmp_path / "redis")
    port = free_port()
    try:
        with caplog.at_level(logging.INFO, logger="bot.service"):
            async with start_bot(queue=RedisQueue(url), metrics_port=port):
                body = await healthz_becomes(port, 503, says="no painter")  # no worker yet
                assert body == "no painter ready\n"
                with socket.socket() as elsewhere:  # METRICS_LISTEN: loopback by default
                    assert elsewhere.connect_ex(("127.0.0.2", port)) != 0

                stop_redis(redis)
                body = await healthz_becomes(port, 503, says="queue")
                assert body == "queue unreachable\n"
                assert "127.0.0.1" not in body and str(url) not in body
                await asyncio.sleep(0.5)  # five more looks at the queue
    finally:
        stop_redis(redis)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    unhealthy = [w for w in warnings if w.startswith("Unhealthy")]
    assert unhealthy[0].startswith("Unhealthy (no painter ready): ")
    assert unhealthy[1].startswith("Unhealthy (queue unreachable): the queue does not answer: ")
    assert len(unhealthy) == 2  # once each time the problem changes, not at every look


def test_logs_never_show_a_secret_however_it_is_spelt():
    """Token, webhook secret, Redis password: in a message, in a library's repr of its
    parameters, escaped in JSON, in a traceback; at any level."""
    password = 'pa"ss\\word'
    secrets = [("BOT_TOKEN", "123:SECRET"), ("WEBHOOK_SECRET", "hook-s3cret")]
    secrets.append(("REDIS_PASSWORD", password))
    for style in ("text", "json"):
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(RedactingFormatter(secrets, formatter(style)))
        log = logging.getLogger(f"test.secrets.{style}")
        log.addHandler(handler)
        log.propagate = False
        log.setLevel(logging.DEBUG)
        try:
            log.debug("setWebhook with parameters %s", {"secret_token": "hook-s3cret"})
            try:
                raise ConnectionError(f"redis://:{password}@db is unreachable")
            except ConnectionError:
                log.exception("Redis failed, token 123:SECRET")
        finally:
            log.removeHandler(handler)
        written = stream.getvalue()
        for spelling in ("123:SECRET", "hook-s3cret", password, json.dumps(password)[1:-1]):
            assert spelling not in written, (style, written)
        assert repr(password)[1:-1] not in written, (style, written)
        assert "<WEBHOOK_SECRET>" in written and "<REDIS_PASSWORD>" in written
        assert "<BOT_TOKEN>" in written and "Traceback" in written


def test_json_logs_carry_the_job_id_and_never_the_token():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(JobIdFilter())
    handler.setFormatter(RedactingFormatter([("BOT_TOKEN", "123:SECRET")], formatter("json")))
    log = logging.getLogger("test.json")
    log.addHandler(handler)
    log.propagate = False
    try:
        token = current_job.set("42")
        log.warning("Job %s: sent to https://api.telegram.org/bot123:SECRET/x", "42")
        current_job.reset(token)
        log.warning("no job here")
    finally:
        log.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["job_id"] == "42" and first["level"] == "WARNING"
    assert "SECRET" not in stream.getvalue() and "<BOT_TOKEN>" in first["message"]
    assert second["job_id"] is None
