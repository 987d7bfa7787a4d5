"""Small parts of the bot on their own: callback data, sentences, the edit throttle."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot import buttons, texts
from bot.buttons import Action, ButtonData
from bot.progress import ChatThrottle
from bot.sessions import ActiveJob, SessionStore
from engine import Strength, StyleOptions
from engine.queue import Job, JobRequest

PAIR = "0123456789ab"


@pytest.mark.parametrize(
    "data",
    [
        ButtonData(Action.PAINT, PAIR, Strength.STRONG),
        ButtonData(Action.SWAP, PAIR),
        ButtonData(Action.STOP, PAIR),
        ButtonData(Action.NEW_PAIR, PAIR),
    ],
)
def test_button_data_round_trips_and_fits_telegram(data: ButtonData):
    encoded = data.encode()
    assert ButtonData.decode(encoded) == data
    assert len(encoded.encode()) <= 64
    assert ButtonData.pattern(data.action).match(encoded)
    others = [action for action in Action if action is not data.action]
    assert not any(ButtonData.pattern(action).match(encoded) for action in others)


@pytest.mark.parametrize(
    "data", [None, "", "paint", f"paint:{PAIR}", f"swap:{PAIR}:light", "paint:XYZ:light", "x:y"]
)
def test_button_data_this_bot_never_made_is_refused(data: object):
    assert ButtonData.decode(data) is None


def test_result_buttons_offer_only_a_step_that_exists():
    def labels(strength: Strength) -> list[str]:
        keyboard = buttons.result_keyboard(PAIR, strength).inline_keyboard
        return [button.text for row in keyboard for button in row]

    assert labels(Strength.LIGHT) == [texts.STRONGER_BUTTON, texts.NEW_PAIR_BUTTON]
    assert labels(Strength.MEDIUM) == [
        texts.LIGHTER_BUTTON,
        texts.STRONGER_BUTTON,
        texts.NEW_PAIR_BUTTON,
    ]
    assert labels(Strength.STRONG) == [texts.LIGHTER_BUTTON, texts.NEW_PAIR_BUTTON]


def test_sentences_with_numbers():
    assert texts.queued(2) == "Queued — 2 ahead of you."
    assert texts.queued(0) == "Queued — you're next."
    assert texts.painting(0.4, 2, 3, 25.2) == "Painting… 40% · stage 2 of 3 · about 25 s left"
    assert [texts.duration(s) for s in (0.4, 59.6, 65, 120, 725)] == [
        "0 s",
        "1 min",
        "1 min 5 s",
        "2 min",
        "12 min",
    ]
    assert (
        texts.result_caption(Strength.LIGHT, (512, 384), 14.2) == "Light style · 512×384 px · 14 s"
    )


async def test_the_throttle_spaces_edits_per_chat():
    throttle = ChatThrottle(interval=0.2)
    started = time.monotonic()
    await asyncio.gather(*(throttle.turn(chat_id=1) for _ in range(3)))
    assert time.monotonic() - started >= 0.4  # three edits in one chat: two intervals

    started = time.monotonic()
    await throttle.turn(chat_id=2)  # another chat does not wait for the first one
    assert time.monotonic() - started < 0.1


def test_idle_sessions_are_forgotten_with_their_pictures(tmp_path):
    now = [0.0]
    store = SessionStore(tmp_path, max_idle=3600, clock=lambda: now[0])
    idle = store.get(chat_id=1, user_id=1)
    picture = idle.new_file(".png")
    picture.write_bytes(b"picture")
    now[0] = 1800.0
    busy = store.get(chat_id=2, user_id=2)

    now[0] = 4000.0  # the first user has been away for over an hour, the second not
    assert store.get(chat_id=2, user_id=2) is busy
    assert store.get(chat_id=1, user_id=1) is not idle
    assert not picture.exists()
    store.close()
    assert not any(tmp_path.iterdir())


def test_the_idle_sweep_keeps_a_session_whose_job_is_still_running(tmp_path):
    now = [0.0]
    store = SessionStore(tmp_path, max_idle=3600, clock=lambda: now[0])
    session = store.get(chat_id=1, user_id=1)
    picture = session.new_file(".png")
    picture.write_bytes(b"picture")
    request = JobRequest(owner=1, chat_id=1, content=picture, style=picture)
    job = Job(1, request, StyleOptions(), state="running")
    session.active = ActiveJob(job, pair_id=PAIR)

    now[0] = 4000.0  # silent for over an hour, but the picture is being painted
    store.get(chat_id=2, user_id=2)  # any update sweeps
    assert store.get(chat_id=1, user_id=1) is session and picture.exists()

    job.state = "done"
    now[0] = 8000.0
    store.get(chat_id=2, user_id=2)
    assert store.get(chat_id=1, user_id=1) is not session and not picture.exists()
    store.close()
