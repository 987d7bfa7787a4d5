"""Buttons act for their owner only: forged, replayed and other people's presses.

A modified client can send any callback data, and in a group everyone sees everyone's
buttons. Each test here is a user trying to act on what is not theirs; each checks that
nothing happened and that the presser was told so.
"""

from __future__ import annotations

import pytest

from bot import texts
from bot.telegram.context import BotApplication
from jobqueue import JobState
from tests.botapi import BotApiServer, BotMessage
from tests.chat import (
    ALICE,
    BOB,
    GROUP,
    SendPair,
    StartBot,
    assert_no_reply,
    in_group,
    press_strength,
    sealed,
)
from tests.pictures import encode, gradient

pytestmark = pytest.mark.slow
RESULT_TIMEOUT = 120


def button_data(message: BotMessage, label: str) -> str:
    data = next(data for text, data in message.buttons if label in text)
    assert data is not None
    return data


async def test_nobody_gets_another_users_making_of_film(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    async with start_bot(engine_steps=12):
        pair = await send_pair(ALICE)
        await press_strength(telegram, ALICE, pair, "Medium")
        result = await telegram.await_message(ALICE, kind="document", timeout=RESULT_TIMEOUT)
        film = button_data(result, texts.MAKING_OF_BUTTON)
        action, job_id, _tag = film.split(":")
        assert action == "film" and len(_tag) == 12

        sent = telegram.user_sends_command(BOB, "/start")
        bobs = await telegram.await_message(BOB, after=sent)
        refused = (texts.NOT_YOUR_BUTTON, texts.UNKNOWN_BUTTON)
        attempts = {
            "Alice's own button, replayed": (film, (texts.NOT_YOUR_BUTTON,)),
            "the job id alone": (f"film:{job_id}", (texts.UNKNOWN_BUTTON,)),
            "the next job id, Alice's tag": (f"film:{int(job_id, 16) + 1:x}:{_tag}", refused),
            # Were the seal ever broken, the queue's record still names the owner.
            "sealed for Bob, Alice's job": (
                sealed(BOB, f"film:{job_id}"),
                (texts.MAKING_OF_GONE,),
            ),
        }
        for what, (data, answers) in attempts.items():
            press = telegram.user_presses_button(BOB, bobs.message_id, data, check=False)
            assert await telegram.await_button_answer(press) in answers, what
        await assert_no_reply(telegram, BOB, bobs.seq)
        assert telegram.calls("sendAnimation") == [], "no film left the bot"

        press = telegram.user_presses_button(ALICE, result.message_id, film)  # the owner
        await telegram.await_message(ALICE, after=press, kind="animation")


async def test_in_a_group_nobody_presses_anothers_buttons(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    group = in_group(GROUP)
    async with start_bot(engine_steps=400) as application:
        pair = await send_pair(ALICE, group=GROUP)
        for label in ("Light", "Swap", "Cancel"):
            press = telegram.user_presses_button(BOB, pair.message_id, label=label, chat_id=GROUP)
            assert await telegram.await_button_answer(press) == texts.NOT_YOUR_BUTTON, label
        assert telegram.message(GROUP, pair.message_id).buttons == pair.buttons
        assert await application.bot_data.queue.job_of(str(ALICE)) is None

        progress = await press_strength(telegram, ALICE, pair, "Medium", group=GROUP)
        press = telegram.user_presses_button(
            BOB, progress.message_id, label="Cancel", chat_id=GROUP
        )
        assert await telegram.await_button_answer(press) == texts.NOT_YOUR_BUTTON
        job = await application.bot_data.queue.job_of(str(ALICE))
        assert job is not None and job.state in (JobState.QUEUED, JobState.RUNNING)

        # Alice's /settings, /language and gallery panels are hers alone.
        for command, label in (
            ("/settings", "Large"),
            ("/language", "Русский"),
            ("/styles", texts.USE_PAINTING_BUTTON),
            ("/styles", "▶"),
        ):
            sent = telegram.user_sends_command(ALICE, command, mention_bot=True, **group)
            panel = await telegram.await_message(GROUP, after=sent)
            press = telegram.user_presses_button(BOB, panel.message_id, label=label, chat_id=GROUP)
            assert await telegram.await_button_answer(press) == texts.NOT_YOUR_BUTTON, command
            assert telegram.message(GROUP, panel.message_id).body == panel.body, command
        sessions = application.bot_data.sessions
        assert sessions.preferences(ALICE) == sessions.preferences(BOB)  # both untouched
        assert sessions.preferences(ALICE).language is None
        bobs = sessions.peek(GROUP, BOB)
        assert bobs.style is None, "Bob's press chose no painting for anyone"
        await application.bot_data.queue.cancel(job.id)


async def test_a_gallery_painting_counts_as_a_sent_picture(
    start_bot: StartBot, telegram: BotApiServer
):
    async with start_bot(pictures_per_minute=2):
        sent = telegram.user_sends_photo(ALICE, encode(gradient()))
        got = await telegram.await_message(ALICE, after=sent)
        press = telegram.user_presses_button(ALICE, got.message_id, label=texts.GALLERY_BUTTON)
        shown = await telegram.await_message(ALICE, after=press, kind="photo")
        press = telegram.user_presses_button(ALICE, shown.message_id, label="Use this one")
        assert await telegram.await_button_answer(press) == texts.PAINTING_CHOSEN_NOTE
        pair = await telegram.await_message(ALICE, after=press, kind="photo")

        press = telegram.user_presses_button(ALICE, shown.message_id, label="Use this one")
        answer = await telegram.await_button_answer(press)
        assert answer is not None
        assert answer.startswith("You're sending pictures faster than I can look at them.")
        await assert_no_reply(telegram, ALICE, press)
        assert telegram.message(ALICE, pair.message_id).buttons == pair.buttons  # still current


async def test_a_full_data_dir_refuses_a_gallery_painting(
    start_bot: StartBot, telegram: BotApiServer, tmp_path
):
    async with start_bot(data_max_mb=1):
        sent = telegram.user_sends_command(ALICE, "/styles")
        shown = await telegram.await_message(ALICE, after=sent, kind="photo")
        (tmp_path / "data" / "ballast.bin").write_bytes(b"\0" * 1_100_000)
        press = telegram.user_presses_button(ALICE, shown.message_id, label="Use this one")
        assert await telegram.await_button_answer(press) == texts.DISK_FULL
        await assert_no_reply(telegram, ALICE, press)


async def test_a_strangers_press_is_not_a_crash(bot: BotApplication, telegram: BotApiServer):
    """Well-formed data sealed with a wrong tag, and data too short to hold a tag."""
    sent = telegram.user_sends_command(ALICE, "/start")
    intro = await telegram.await_message(ALICE, after=sent)
    for data in ("set:0:AAAAAAAAAAAA", "lang:1:____________", "gal:0:", "use:0"):
        press = telegram.user_presses_button(ALICE, intro.message_id, data, check=False)
        answer = await telegram.await_button_answer(press)
        assert answer in (texts.NOT_YOUR_BUTTON, texts.UNKNOWN_BUTTON), data
    await assert_no_reply(telegram, ALICE, intro.seq)
