"""Painting, as a user sees it: queue, live progress, result, cancel, two users, bad luck.

These run the real engine at 64 px and a few steps. A job that must still be running when
the test acts gets many steps and is cancelled as soon as it has shown progress.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from http import HTTPStatus

import pytest
from PIL import Image
from telegram import Bot

from bot import texts
from bot.i18n import ENGLISH
from bot.messenger import Place
from bot.progress import ChatThrottle, ProgressMessage
from bot.telegram.app import FLOOD_RETRIES
from bot.telegram.context import BotApplication
from bot.telegram.messenger import TelegramMessenger
from engine import Progress
from jobqueue import FAILURE_MESSAGE, Cancelled, JobEvent, JobState, Queued
from tests.botapi import BotApiServer, BotMessage
from tests.chat import (
    ALICE,
    BOB,
    CAROL,
    GROUP,
    SendPair,
    StartBot,
    assert_no_reply,
    labels,
    painting,
    pending_jobs,
    press_strength,
    progress_noted,
    sealed,
    watch_engine,
)
from tests.pictures import checkerboard, encode, gradient, noise, waves

pytestmark = pytest.mark.slow

LONG_JOB = {"engine_steps": 400}  # minutes of work: it is always cancelled long before
RESULT_TIMEOUT = 120
STRENGTH_BUTTONS = ["Light", "• Medium", "Strong"]  # the default marked


def named(file_name: str) -> Callable[[BotMessage], bool]:
    return lambda message: message.file_name == file_name


@dataclass(frozen=True)
class TwoJobs:
    """Alice's job painting and Bob's waiting behind it, each with its pair and progress."""

    alice_pair: BotMessage
    alice_progress: BotMessage
    bob_pair: BotMessage
    bob_progress: BotMessage


async def alice_paints_bob_waits(
    telegram: BotApiServer, send_pair: SendPair, group: int | None = None
) -> TwoJobs:
    """Both users send a pair; Alice's job starts painting, then Bob presses and waits."""
    alice_pair = await send_pair(ALICE, group=group)
    bob_pair = await send_pair(BOB, encode(noise()), encode(waves()), group=group)
    alice_progress = await press_strength(telegram, ALICE, alice_pair, "Strong", group=group)
    await painting(telegram, group or ALICE, alice_progress.message_id)
    bob_progress = await press_strength(telegram, BOB, bob_pair, "Light", group=group)
    return TwoJobs(alice_pair, alice_progress, bob_pair, bob_progress)


async def test_happy_path_photo_photo_medium_progress_then_result(
    bot: BotApplication,
    telegram: BotApiServer,
    send_pair: SendPair,
    monkeypatch: pytest.MonkeyPatch,
):
    percent_shown = threading.Event()  # a tiny job could end before its first edit
    watch_engine(monkeypatch, after_report=lambda p: p.step < p.total or percent_shown.wait(60))
    pair = await send_pair(ALICE, encode(gradient(72, 40)), encode(waves()))
    progress = await press_strength(telegram, ALICE, pair, "Medium")
    await painting(telegram, ALICE, progress.message_id)
    percent_shown.set()

    photo = await telegram.await_message(ALICE, kind="photo", contains="Medium style", timeout=120)
    assert photo.body.startswith("Medium style · 64×36 px · ")
    document = await telegram.await_message(ALICE, after=photo.seq, kind="document")
    assert document.file_name == "stylized-medium.png"
    result = document.image()
    assert result.format == "PNG" and result.size == (64, 36)  # the content's 16:9 shape
    assert labels(document) == ["− Lighter", "+ Stronger", "New pair", texts.MAKING_OF_BUTTON]

    progress = telegram.message(ALICE, progress.message_id)
    shown = [body for _, body in progress.versions]
    assert any(b.startswith("Painting… ") and "% · stage 1 of 1 · about" in b for b in shown)
    assert progress.body.startswith("Done in ")
    assert progress.buttons == []
    assert await pending_jobs(bot) == []  # delivered: the queue has let go of it


async def test_result_buttons_paint_the_same_pair_again_or_start_over(
    bot: BotApplication, telegram: BotApiServer, send_pair: SendPair
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
    assert labels(second) == ["− Lighter", "New pair", texts.MAKING_OF_BUTTON]

    press = telegram.user_presses_button(ALICE, second.message_id, label="New pair")
    assert (await telegram.await_message(ALICE, after=press)).body == texts.NEW_PAIR
    press = telegram.user_presses_button(ALICE, first.message_id, label="Lighter")
    assert await telegram.await_button_answer(press) == texts.STALE_BUTTON


async def test_cancel_while_running_and_while_queued(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    async with start_bot(**LONG_JOB) as application:
        jobs = await alice_paints_bob_waits(telegram, send_pair)
        assert jobs.bob_progress.body == "Queued — 1 ahead of you."

        sent = telegram.user_sends_command(BOB, "/status")
        assert (await telegram.await_message(BOB, after=sent)).body == texts.status_queued(
            ENGLISH, 1
        )
        sent = telegram.user_sends_command(BOB, "/cancel")
        assert (await telegram.await_message(BOB, after=sent)).body == texts.CANCELLED_QUEUED
        await telegram.await_edit(BOB, jobs.bob_progress.message_id, contains=texts.CANCELLED)

        sent = telegram.user_sends_command(ALICE, "/status")
        status = await telegram.await_message(ALICE, after=sent)
        assert status.body.startswith("Painting your picture: ")
        sent = telegram.user_sends_command(ALICE, "/cancel")
        assert (await telegram.await_message(ALICE, after=sent)).body == texts.CANCELLING_RUNNING
        alice_progress = jobs.alice_progress.message_id
        await telegram.await_edit(ALICE, alice_progress, after=sent, contains=texts.CANCELLED)

        sent = telegram.user_sends_command(ALICE, "/status")
        assert (await telegram.await_message(ALICE, after=sent)).body.startswith(texts.STATUS_IDLE)
        await telegram.await_no_message(ALICE, kind="document", after=0)
        assert await pending_jobs(application) == []


async def test_the_progress_cancel_button_stops_the_job(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    async with start_bot(**LONG_JOB):
        pair = await send_pair(ALICE)
        progress = await press_strength(telegram, ALICE, pair, "Medium")
        await painting(telegram, ALICE, progress.message_id)
        press = telegram.user_presses_button(ALICE, progress.message_id, label="Cancel")
        assert await telegram.await_button_answer(press) == texts.STOPPING_NOTE
        stopped = await telegram.await_edit(ALICE, progress.message_id, contains=texts.CANCELLED)
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
        progress = await press_strength(telegram, ALICE, pair, "Medium")
        await painting(telegram, ALICE, progress.message_id)

        sent = telegram.user_sends_command(BOB, "/start")
        assert (await telegram.await_message(BOB, after=sent, timeout=5)).body == texts.INTRO
        sent = telegram.user_sends_photo(BOB, encode(noise()))
        reply = await telegram.await_message(BOB, after=sent, timeout=5)
        assert reply.body == texts.GOT_CONTENT
        job = await application.bot_data.queue.job_of(str(ALICE))
        assert job is not None and job.state is JobState.RUNNING  # still painting

        telegram.user_sends_command(ALICE, "/cancel")
        await telegram.await_edit(ALICE, progress.message_id, contains=texts.CANCELLED)


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

        job = await application.bot_data.queue.job_of(str(ALICE))
        assert job is not None
        await application.bot_data.queue.cancel(job.id)
        await telegram.await_edit(ALICE, progress.message_id, contains=texts.CANCELLED)


async def test_a_full_queue_says_busy(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    async with start_bot(queue_max=1, **LONG_JOB):
        await alice_paints_bob_waits(telegram, send_pair)  # Bob's job fills the queue
        carol_pair = await send_pair(CAROL)
        press = telegram.user_presses_button(CAROL, carol_pair.message_id, label="Medium")
        assert await telegram.await_button_answer(press) == texts.BUSY
        await assert_no_reply(telegram, CAROL, after=press)


class EngineCrash(RuntimeError):
    """Stands for a bug or a device error deep in the engine."""


async def test_an_engine_failure_after_progress_turns_the_message_into_a_retry(
    start_bot: StartBot,
    telegram: BotApiServer,
    send_pair: SendPair,
    monkeypatch: pytest.MonkeyPatch,
):
    progress_shown = threading.Event()

    def crash_once_progress_is_shown(progress: Progress) -> None:
        if progress.step >= 10:
            assert progress_shown.wait(timeout=60)
            raise EngineCrash("simulated failure in the middle of a run")

    watch_engine(monkeypatch, after_report=crash_once_progress_is_shown)
    async with start_bot(engine_steps=40) as application:
        pair = await send_pair(ALICE)
        progress = await press_strength(telegram, ALICE, pair, "Medium")
        await painting(telegram, ALICE, progress.message_id)
        progress_shown.set()
        failed = await telegram.await_edit(ALICE, progress.message_id, contains="Sorry")
        assert failed.body == texts.FAILED.format(reason=FAILURE_MESSAGE)
        assert labels(failed) == STRENGTH_BUTTONS
        assert await pending_jobs(application) == []
        await telegram.await_no_message(ALICE, kind="document", after=0)

        monkeypatch.undo()  # the engine recovers: a retry paints the same pair
        press = telegram.user_presses_button(ALICE, progress.message_id, label="Light")
        assert await telegram.await_button_answer(press) == texts.QUEUED_NOTE
        result = await telegram.await_message(ALICE, kind="document", timeout=RESULT_TIMEOUT)
        assert result.file_name == "stylized-light.png"


async def test_two_users_paint_at_once_in_one_group(
    start_bot: StartBot,
    telegram: BotApiServer,
    send_pair: SendPair,
    monkeypatch: pytest.MonkeyPatch,
):
    bob_waits = threading.Event()  # however fast the CPU, Alice's job ends after Bob queued
    watch_engine(monkeypatch, after_report=lambda p: p.step < p.total or bob_waits.wait(60))
    async with start_bot(engine_steps=30):
        jobs = await alice_paints_bob_waits(telegram, send_pair, group=GROUP)
        bob_waits.set()
        # Every message about a job answers the pair preview its button was on.
        assert jobs.alice_progress.reply_to_message_id == jobs.alice_pair.message_id
        assert jobs.bob_progress.reply_to_message_id == jobs.bob_pair.message_id
        assert jobs.bob_progress.body == "Queued — 1 ahead of you."

        results: dict[int, BotMessage] = {}
        for user, pair, strength in (
            (ALICE, jobs.alice_pair, "strong"),
            (BOB, jobs.bob_pair, "light"),
        ):
            document = await telegram.await_message(
                GROUP,
                kind="document",
                where=named(f"stylized-{strength}.png"),
                after=0,
                timeout=RESULT_TIMEOUT,
            )
            photo = await telegram.await_message(
                GROUP, after=0, contains=f"{strength.title()} style"
            )
            assert photo.reply_to_message_id == document.reply_to_message_id == pair.message_id
            results[user] = document
        for progress in (jobs.alice_progress, jobs.bob_progress):
            assert telegram.message(GROUP, progress.message_id).body.startswith("Done in ")

        # Each user's result buttons are theirs alone.
        press = telegram.user_presses_button(
            BOB, results[ALICE].message_id, label="Lighter", chat_id=GROUP
        )
        assert await telegram.await_button_answer(press) == texts.NOT_YOUR_BUTTON


# PTB's own RetryAfter constructor warns about a coming type change of ``retry_after``.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_progress_shows_previews_and_survives_refused_edits(
    start_bot: StartBot,
    telegram: BotApiServer,
    send_pair: SendPair,
    monkeypatch: pytest.MonkeyPatch,
):
    flood_over, preview_seen = threading.Event(), threading.Event()

    def hold(progress: Progress) -> None:
        """The job runs on until the test has seen what it waits for."""
        assert (preview_seen if progress.step == progress.total else flood_over).wait(60)

    watch_engine(monkeypatch, after_report=hold)
    async with start_bot(engine_steps=20, preview_interval=0.05):  # every edit is a preview
        pair = await send_pair(ALICE)
        # More 429s than AIORateLimiter retries: the last one reaches the bot's own back-off.
        telegram.flood_limit("editMessageCaption", retry_after=1, times=FLOOD_RETRIES + 1)
        telegram.inject_error(
            "editMessageMedia", description="Bad Request: message is not modified"
        )
        progress = await press_strength(telegram, ALICE, pair, "Medium")
        refused = await telegram.await_call("editMessageMedia", after=0)  # after the flood
        flood_over.set()
        preview = await telegram.await_call("editMessageMedia", after=refused.seq)
        preview_seen.set()

        await telegram.await_message(ALICE, kind="document", timeout=RESULT_TIMEOUT)
        assert telegram.message(ALICE, progress.message_id).body.startswith("Done in ")
        edits = [c for c in telegram.calls() if c.method.startswith("editMessage")]
        floods = [c for c in edits if c.status == HTTPStatus.TOO_MANY_REQUESTS]
        assert len(floods) == FLOOD_RETRIES + 1
        assert not refused.ok and preview.ok  # a refused preview does not stop the next
        after_flood = next(c for c in edits if c.seq > floods[-1].seq)
        assert after_flood.at - floods[-1].at >= 0.9, "the bot honours retry_after itself"


# PTB's own RetryAfter constructor warns about a coming type change of ``retry_after``.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_progress_edit_told_to_retry_after_n_seconds_waits_them(telegram: BotApiServer):
    """The progress message alone, on a Bot without AIORateLimiter (which would retry the
    429 itself): the message's own back-off is what keeps the next edit away."""
    events: asyncio.Queue[JobEvent] = asyncio.Queue()

    async def job_events() -> AsyncIterator[JobEvent]:
        while not isinstance(event := await events.get(), Cancelled):
            yield event
        yield event

    telegram.user_sends_command(ALICE, "/start")  # a chat the bot may write to
    async with Bot(telegram.token, base_url=telegram.base_url) as bot:
        progress = ProgressMessage(
            TelegramMessenger(bot),
            Place(ALICE),
            ChatThrottle(interval=0.01),
            t=ENGLISH,
            keyboard=[],
            preview_interval=0,
        )
        await events.put(Queued(2))
        following = asyncio.create_task(progress.follow(job_events(), encode(gradient())))
        telegram.flood_limit("editMessageCaption", retry_after=1)
        await events.put(Queued(1))
        flooded = await telegram.await_call("editMessageCaption", after=0)
        assert flooded.status == HTTPStatus.TOO_MANY_REQUESTS
        await events.put(Queued(0))  # ready to be shown at once, but Telegram said wait
        shown = await telegram.await_call("editMessageCaption", after=flooded.seq)
        await events.put(Cancelled())
        assert await following == Cancelled()

    assert shown.ok and shown.params["caption"] == texts.queued(ENGLISH, 0)
    assert shown.at - flooded.at >= 0.95, "the next edit waits out retry_after"


async def test_a_deleted_progress_message_does_not_stop_the_result(
    bot: BotApplication, telegram: BotApiServer, send_pair: SendPair
):
    pair = await send_pair(ALICE)
    telegram.inject_error(
        "editMessageCaption", description="Bad Request: message to edit not found", times=50
    )
    await press_strength(telegram, ALICE, pair, "Light")
    document = await telegram.await_message(ALICE, kind="document", timeout=RESULT_TIMEOUT)
    assert document.file_name == "stylized-light.png"


async def test_a_stop_pauses_the_jobs_and_the_next_start_delivers_each_once(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    async with start_bot(**LONG_JOB) as application:
        jobs = await alice_paints_bob_waits(telegram, send_pair)
        for user in (ALICE, BOB):  # the bot notes each progress message on its job
            await progress_noted(application, user)

    assert telegram.message(ALICE, jobs.alice_progress.message_id).body == texts.RESTARTING
    assert telegram.message(BOB, jobs.bob_progress.message_id).body == texts.RESTARTING

    async with start_bot() as application:  # the same DATA_DIR, a quicker engine
        for user, progress in ((ALICE, jobs.alice_progress), (BOB, jobs.bob_progress)):
            await telegram.await_message(user, kind="document", timeout=RESULT_TIMEOUT)
            done = await telegram.await_edit(user, progress.message_id, contains="Done in ")
            assert done.buttons == []
        assert await pending_jobs(application) == []
    for user, progress in ((ALICE, jobs.alice_progress), (BOB, jobs.bob_progress)):
        results = [m for m in telegram.messages(user) if m.seq > progress.seq]
        assert [m.kind for m in results] == ["photo", "document"]  # one result, sent once


async def test_the_making_of_film_is_a_short_small_animation_sent_on_request(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    async with start_bot(engine_steps=30):
        await film_of_a_result(telegram, send_pair)


async def film_of_a_result(telegram: BotApiServer, send_pair: SendPair) -> None:
    pair = await send_pair(ALICE)
    await press_strength(telegram, ALICE, pair, "Medium")
    result = await telegram.await_message(ALICE, kind="document", timeout=RESULT_TIMEOUT)
    assert labels(result) == ["− Lighter", "+ Stronger", "New pair", texts.MAKING_OF_BUTTON]

    press = telegram.user_presses_button(ALICE, result.message_id, label="Making-of")
    film = await telegram.await_message(ALICE, after=press, kind="animation")
    assert film.body == texts.MAKING_OF_CAPTION and film.reply_to_message_id == result.message_id
    assert film.data is not None and len(film.data) <= 3 * 1024 * 1024
    with Image.open(io.BytesIO(film.data)) as gif:
        frames = getattr(gif, "n_frames", 1)
        assert gif.format == "GIF" and frames >= 3  # the picture appearing, then done
        durations = []
        for index in range(frames):
            gif.seek(index)
            durations.append(gif.info["duration"])
        assert sum(durations) <= 5000 and gif.size[0] <= 320

    # A film no longer kept (after a day) is explained, not an error.
    press = telegram.user_presses_button(
        ALICE, result.message_id, sealed(ALICE, "film:99999"), check=False
    )
    assert await telegram.await_button_answer(press) == texts.MAKING_OF_GONE
