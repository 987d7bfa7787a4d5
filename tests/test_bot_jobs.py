"""Painting, as a user sees it: queue, live progress, result, cancel, two users, bad luck.

These run the real engine at 64 px and a few steps. A job that must still be running when
the test acts gets many steps and is cancelled as soon as it has shown progress.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

import pytest
from telegram.ext import Application

from bot import texts
from engine import StyleOptions
from engine.queue import StyleQueue
from tests.botapi import BotApiServer, BotMessage
from tests.pictures import checkerboard, encode, gradient, noise, waves

pytestmark = pytest.mark.slow

SendPair = Callable[..., Awaitable[BotMessage]]  # the send_pair fixture
StartBot = Callable[..., AbstractAsyncContextManager[Application]]  # the start_bot fixture

ALICE, BOB, CAROL = 1001, 1002, 1003
LONG_JOB = {"engine_steps": 400}  # minutes of work: it is always cancelled long before
RESULT_TIMEOUT = 120


async def press_strength(telegram: BotApiServer, user: int, pair: BotMessage, label: str) -> int:
    """Press a strength button; returns the id of the progress message that appears."""
    press = telegram.user_presses_button(user, pair.message_id, label=label)
    assert await telegram.await_button_answer(press) == texts.QUEUED_NOTE
    progress = await telegram.await_message(user, after=press, kind="photo")
    return progress.message_id


async def painting(telegram: BotApiServer, user: int, progress_id: int) -> BotMessage:
    """Wait until the progress message shows a percentage: the job is running."""
    return await telegram.await_edit(user, progress_id, contains="%", timeout=RESULT_TIMEOUT)


def job_folders(application: Application) -> list[str]:
    jobs = application.bot_data.sessions.root / "jobs"
    return sorted(path.name for path in jobs.iterdir()) if jobs.exists() else []


async def test_happy_path_photo_photo_medium_progress_then_result(
    bot: Application, telegram: BotApiServer, send_pair: SendPair
):
    pair = await send_pair(ALICE, encode(gradient(72, 40)), encode(waves()))
    progress_id = await press_strength(telegram, ALICE, pair, "Medium")

    photo = await telegram.await_message(ALICE, kind="photo", contains="Medium style", timeout=120)
    assert photo.body.startswith("Medium style · 64×36 px · ")
    document = await telegram.await_message(ALICE, after=photo.seq, kind="document")
    assert document.file_name == "stylized-medium.png"
    result = document.image()
    assert result.format == "PNG" and result.size == (64, 36)  # the content's 16:9 shape
    assert [label for label, _ in document.buttons] == ["− Lighter", "+ Stronger", "New pair"]

    progress = telegram.message(ALICE, progress_id)
    shown = [body for _, body in progress.versions]
    assert any(b.startswith("Painting… ") and "% · stage 1 of 1 · about" in b for b in shown)
    assert progress.body.startswith("Done in ")
    assert progress.buttons == []
    assert job_folders(bot) == []  # the job's copy of the pair is gone


async def test_result_buttons_paint_the_same_pair_again_or_start_over(
    bot: Application, telegram: BotApiServer, send_pair: SendPair
):
    pair = await send_pair(ALICE)
    await press_strength(telegram, ALICE, pair, "Medium")
    first = await telegram.await_message(ALICE, kind="document", timeout=RESULT_TIMEOUT)

    press = telegram.user_presses_button(ALICE, first.message_id, label="Stronger")
    assert await telegram.await_button_answer(press) == texts.QUEUED_NOTE
    stronger = await telegram.await_message(
        ALICE, after=press, kind="photo", contains="Strong style", timeout=RESULT_TIMEOUT
    )
    second = await telegram.await_message(ALICE, after=stronger.seq, kind="document")
    assert second.file_name == "stylized-strong.png"
    assert [label for label, _ in second.buttons] == ["− Lighter", "New pair"]

    press = telegram.user_presses_button(ALICE, second.message_id, label="New pair")
    assert (await telegram.await_message(ALICE, after=press)).body == texts.NEW_PAIR
    press = telegram.user_presses_button(ALICE, first.message_id, label="Lighter")
    assert await telegram.await_button_answer(press) == texts.STALE_BUTTON


async def test_cancel_while_running_and_while_queued(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    async with start_bot(**LONG_JOB) as application:
        alice_pair = await send_pair(ALICE)
        bob_pair = await send_pair(BOB)
        alice_progress = await press_strength(telegram, ALICE, alice_pair, "Strong")
        await painting(telegram, ALICE, alice_progress)
        bob_progress = await press_strength(telegram, BOB, bob_pair, "Light")
        assert telegram.message(BOB, bob_progress).body == "Queued — 1 ahead of you."

        sent = telegram.user_sends_command(BOB, "/status")
        assert (await telegram.await_message(BOB, after=sent)).body == texts.status_queued(1)
        sent = telegram.user_sends_command(BOB, "/cancel")
        assert (await telegram.await_message(BOB, after=sent)).body == texts.CANCELLED_QUEUED
        await telegram.await_edit(BOB, bob_progress, contains=texts.CANCELLED)

        sent = telegram.user_sends_command(ALICE, "/status")
        status = await telegram.await_message(ALICE, after=sent)
        assert status.body.startswith("Painting your picture: ")
        sent = telegram.user_sends_command(ALICE, "/cancel")
        assert (await telegram.await_message(ALICE, after=sent)).body == texts.CANCELLING_RUNNING
        await telegram.await_edit(ALICE, alice_progress, after=sent, contains=texts.CANCELLED)

        sent = telegram.user_sends_command(ALICE, "/status")
        assert (await telegram.await_message(ALICE, after=sent)).body.startswith(texts.STATUS_IDLE)
        await telegram.await_no_message(ALICE, kind="document", after=0)
        assert job_folders(application) == []


async def test_the_progress_cancel_button_stops_the_job(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    async with start_bot(**LONG_JOB):
        pair = await send_pair(ALICE)
        progress_id = await press_strength(telegram, ALICE, pair, "Medium")
        await painting(telegram, ALICE, progress_id)
        press = telegram.user_presses_button(ALICE, progress_id, label="Cancel")
        assert await telegram.await_button_answer(press) == texts.STOPPING_NOTE
        stopped = await telegram.await_edit(ALICE, progress_id, contains=texts.CANCELLED)
        assert stopped.buttons == []

        press = telegram.user_presses_button(ALICE, pair.message_id, label="Medium")
        assert await telegram.await_button_answer(press) == texts.QUEUED_NOTE  # the pair was kept
        sent = telegram.user_sends_command(ALICE, "/cancel")
        await telegram.await_message(ALICE, after=sent)


async def test_a_second_user_is_answered_while_the_first_job_runs(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    async with start_bot(**LONG_JOB) as application:
        pair = await send_pair(ALICE)
        progress_id = await press_strength(telegram, ALICE, pair, "Medium")
        await painting(telegram, ALICE, progress_id)

        sent = telegram.user_sends_command(BOB, "/start")
        assert (await telegram.await_message(BOB, after=sent, timeout=5)).body == texts.INTRO
        sent = telegram.user_sends_photo(BOB, encode(noise()))
        reply = await telegram.await_message(BOB, after=sent, timeout=5)
        assert reply.body == texts.GOT_CONTENT
        assert application.bot_data.queue.job_of(ALICE).state == "running"  # still painting

        telegram.user_sends_command(ALICE, "/cancel")
        await telegram.await_edit(ALICE, progress_id, contains=texts.CANCELLED)


async def test_double_press_queues_once_and_one_job_per_user(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    async with start_bot(**LONG_JOB) as application:
        pair = await send_pair(ALICE)
        first = telegram.user_presses_button(ALICE, pair.message_id, label="Medium")
        second = telegram.user_presses_button(ALICE, pair.message_id, label="Medium")
        assert await telegram.await_button_answer(first) == texts.QUEUED_NOTE
        assert await telegram.await_button_answer(second) == texts.ALREADY_THIS_PAIR
        progress = await telegram.await_message(ALICE, after=first, kind="photo")
        await telegram.await_no_message(
            ALICE, after=progress.seq, kind="photo", within=1.0
        )  # one progress message, one job

        sent = telegram.user_sends_photo(ALICE, encode(checkerboard()))  # replaces the style
        new_pair = await telegram.await_message(ALICE, after=sent, kind="photo")
        press = telegram.user_presses_button(ALICE, new_pair.message_id, label="Light")
        assert await telegram.await_button_answer(press) == texts.ALREADY_ANOTHER
        alert = telegram.calls("answerCallbackQuery")[-1]
        assert alert.params.get("show_alert") is True

        application.bot_data.queue.cancel(application.bot_data.queue.job_of(ALICE))
        await telegram.await_edit(ALICE, progress.message_id, contains=texts.CANCELLED)


async def test_a_full_queue_says_busy(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    async with start_bot(queue_max=1, **LONG_JOB):
        pairs = {user: await send_pair(user) for user in (ALICE, BOB, CAROL)}
        alice_progress = await press_strength(telegram, ALICE, pairs[ALICE], "Medium")
        await painting(telegram, ALICE, alice_progress)
        await press_strength(telegram, BOB, pairs[BOB], "Medium")  # waits: the queue is full

        press = telegram.user_presses_button(CAROL, pairs[CAROL].message_id, label="Medium")
        assert await telegram.await_button_answer(press) == texts.BUSY
        await telegram.await_no_message(CAROL, after=press)


async def test_a_failing_job_says_so_in_plain_words_and_offers_a_retry(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    broken_engine = StyleQueue(
        StyleOptions(device="cpu", max_side=64, steps=6, weights="/nonexistent/vgg19.pth")
    )
    async with start_bot(queue=broken_engine):
        pair = await send_pair(ALICE)
        progress_id = await press_strength(telegram, ALICE, pair, "Medium")
        failed = await telegram.await_edit(ALICE, progress_id, contains="Sorry, this one didn't")
        assert [label for label, _ in failed.buttons] == ["Light", "Medium", "Strong"]

        sent = telegram.user_sends_command(ALICE, "/status")  # the bot carries on
        assert (await telegram.await_message(ALICE, after=sent)).body.startswith(texts.STATUS_IDLE)


# PTB's own RetryAfter constructor warns about a coming type change of ``retry_after``.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_progress_shows_previews_and_survives_flood_limits_and_refused_edits(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    async with start_bot(engine_steps=40, progress_interval=0.2, preview_interval=0.5):
        pair = await send_pair(ALICE)
        telegram.flood_limit("editMessageCaption", retry_after=1)
        telegram.inject_error(
            "editMessageMedia", description="Bad Request: message is not modified"
        )
        progress_id = await press_strength(telegram, ALICE, pair, "Medium")

        await telegram.await_message(ALICE, kind="document", timeout=RESULT_TIMEOUT)
        assert telegram.message(ALICE, progress_id).body.startswith("Done in ")
        previews = [call for call in telegram.calls("editMessageMedia") if call.ok]
        assert previews, "a preview of the work in progress replaces the picture now and then"


async def test_a_deleted_progress_message_does_not_stop_the_result(
    bot: Application, telegram: BotApiServer, send_pair: SendPair
):
    pair = await send_pair(ALICE)
    telegram.inject_error(
        "editMessageCaption", description="Bad Request: message to edit not found", times=50
    )
    await press_strength(telegram, ALICE, pair, "Light")
    document = await telegram.await_message(ALICE, kind="document", timeout=RESULT_TIMEOUT)
    assert document.file_name == "stylized-light.png"


async def test_stopping_the_bot_ends_jobs_politely_and_removes_every_file(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    async with start_bot(**LONG_JOB) as application:
        alice_pair = await send_pair(ALICE)
        bob_pair = await send_pair(BOB)
        alice_progress = await press_strength(telegram, ALICE, alice_pair, "Medium")
        await painting(telegram, ALICE, alice_progress)
        bob_progress = await press_strength(telegram, BOB, bob_pair, "Medium")
        root = application.bot_data.sessions.root
        assert any(root.rglob("*.jpg"))

    assert telegram.message(ALICE, alice_progress).body == texts.RESTARTING
    assert telegram.message(BOB, bob_progress).body == texts.RESTARTING
    assert not root.exists()
