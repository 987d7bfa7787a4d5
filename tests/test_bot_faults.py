"""A flaky Telegram: calls failing at random, and a whole outage while pictures paint.

Whatever Telegram does, each result arrives exactly once, each command is answered exactly
once, and a call that only informs (a button's answer, a progress edit) never costs a job.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time

import pytest

from bot import jobs, texts
from bot.jobs import Ticket
from bot.telegram.context import BotApplication
from jobqueue import JobOrder, JobSpec
from tests.botapi import BotApiServer
from tests.chat import (
    ALICE,
    BOB,
    CAROL,
    SendPair,
    StartBot,
    painting,
    pending_jobs,
    press_strength,
    watch_engine,
)
from tests.pictures import encode, gradient, stripes

pytestmark = [
    pytest.mark.slow,
    # PTB's own RetryAfter constructor warns about a coming type change of ``retry_after``.
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
RESULT_TIMEOUT = 120
OUTAGE_SECONDS = 30

#: Every Bot API method the bot calls while serving users, and the file downloads.
EVERY_METHOD = (
    "answerCallbackQuery",
    "sendMessage",
    "getFile",
    "download",
    "sendPhoto",
    "sendDocument",
    "sendAnimation",
    "editMessageText",
    "editMessageCaption",
    "editMessageMedia",
    "editMessageReplyMarkup",
)


async def test_a_fifth_of_every_call_failing_loses_no_result_and_no_answer(
    start_bot: StartBot,
    telegram: BotApiServer,
    send_pair: SendPair,
    monkeypatch: pytest.MonkeyPatch,
):
    users = (ALICE, BOB, CAROL)

    def slow_until_a_preview(_: object) -> None:
        """However fast the CPU, painting lasts until a preview edit has been tried."""
        if not telegram.calls("editMessageMedia"):
            time.sleep(0.1)

    watch_engine(monkeypatch, after_report=slow_until_a_preview)
    async with start_bot(engine_steps=12, preview_interval=0.2) as application:
        for method in EVERY_METHOD:  # each fails at least once each way, then at random
            telegram.inject_error(method, 500, "Internal Server Error")
            telegram.flood_limit(method)
        telegram.unreliable(0.2, EVERY_METHOD, seed=7)
        pairs = {user: await send_pair(user) for user in users}
        for user, pair in pairs.items():
            # The press's answer may fail: the job must be followed all the same.
            telegram.user_presses_button(user, pair.message_id, label="Medium")
        for user in users:
            result = await telegram.await_message(user, kind="document", timeout=RESULT_TIMEOUT)
            press = telegram.user_presses_button(user, result.message_id, label="Making-of")
            await telegram.await_message(user, after=press, kind="animation", timeout=60)
            sent = telegram.user_sends_command(user, "/status")
            await telegram.await_message(user, after=sent, kind="text", timeout=60)
            sent = telegram.user_sends_command(user, "/settings")
            panel = await telegram.await_message(user, after=sent, kind="text", timeout=60)
            telegram.user_presses_button(user, panel.message_id, label="Keep my photo")
            await kept_colours(application, user)
            press = telegram.user_presses_button(user, pairs[user].message_id, label="Cancel")
            await telegram.await_message(user, after=press, contains=texts.PAIR_DROPPED, timeout=60)
        assert await pending_jobs(application, timeout=60) == []
        telegram.unreliable(0, ())

    for method in EVERY_METHOD:  # the first call of each failed with 500, the next with 429
        statuses = [c.status for c in telegram.calls(method)]
        assert statuses and statuses[:2] == [500, 429][: len(statuses)], method
    for user in users:
        kinds = [m.kind for m in telegram.messages(user)]
        # Got the photo, the pair, progress, result photo and file, the film, /status,
        # /settings, and the pair dropped.
        expected = ["text", "photo", "photo", "photo", "document", "animation"] + ["text"] * 3
        assert kinds == expected, telegram.dump(user)
        answer = telegram.messages(user)[-3].body
        assert answer.startswith(texts.STATUS_IDLE), telegram.dump(user)


async def kept_colours(application: BotApplication, user: int) -> None:
    """Until the user's press on "Keep my photo's colours" is saved (its answer may fail)."""
    for _ in range(600):
        if application.bot_data.sessions.preferences(user).keep_colours:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"user {user}'s setting was never saved")


async def test_a_30_second_outage_while_painting_loses_no_result_and_no_reply(
    start_bot: StartBot,
    telegram: BotApiServer,
    send_pair: SendPair,
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.INFO)
    async with start_bot(engine_steps=40) as application:
        pairs = {user: await send_pair(user) for user in (ALICE, BOB)}
        progress = {
            user: await press_strength(telegram, user, pairs[user], "Medium") for user in pairs
        }
        await painting(telegram, ALICE, progress[ALICE].message_id)

        # Carol's /start reaches the bot; then Telegram answers every call with a 502 page.
        telegram.outage(OUTAGE_SECONDS, after_next_update=True)
        start = telegram.user_sends_command(CAROL, "/start")
        wait = OUTAGE_SECONDS + RESULT_TIMEOUT
        for user in pairs:
            await telegram.await_message(user, kind="document", timeout=wait)
        answer = await telegram.await_message(CAROL, after=start, timeout=wait)
        assert answer.body.startswith("Hi! I repaint a photo")
        assert await pending_jobs(application, timeout=60) == []
        assert telegram.outage_hits >= 10, "the bot met the outage"

    for user in pairs:
        after = [m.kind for m in telegram.messages(user) if m.seq > progress[user].seq]
        assert after == ["photo", "document"], telegram.dump(user)
        done = telegram.message(user, progress[user].message_id).body
        assert done.startswith("Done in "), telegram.dump(user)
    assert [m.body for m in telegram.messages(CAROL)] == [answer.body], "answered once"

    # Each failed call is one line, not a traceback from the library or from the bot.
    loud = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not loud, [r.getMessage()[:200] for r in loud]
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) >= 3 and all("<html>" not in r.getMessage() for r in warned)


async def test_a_malformed_job_record_is_set_aside_and_the_others_delivered(
    bot: BotApplication, telegram: BotApiServer, caplog: pytest.LogCaptureFixture
):
    data = bot.bot_data
    sent = telegram.user_sends_command(ALICE, "/start")
    await telegram.await_message(ALICE, after=sent)
    pictures = encode(gradient(72, 40)), encode(stripes())
    broken = {"chat_id": "not a chat", "user_id": BOB, "pair_id": "00ff"}
    good = dataclasses.asdict(Ticket(ALICE, ALICE, "00ff"))
    bad = await data.queue.submit(JobSpec(str(BOB), *pictures, JobOrder(), broken))
    await data.queue.submit(JobSpec(str(ALICE), *pictures, JobOrder(), good))

    for _ in range(2):  # two rounds of the adoption chore, run here and now
        await jobs.adopt(data)
    await telegram.await_message(ALICE, kind="document", timeout=RESULT_TIMEOUT)
    assert bad.id in data.set_aside and bad.id not in data.following
    logged = [r for r in caplog.records if "malformed record" in r.getMessage()]
    assert len(logged) == 1, "logged once, then set aside"
