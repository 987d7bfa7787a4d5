"""Small parts of the bot on their own: callback data, sentences, the edit throttle."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bot import buttons, texts
from bot.buttons import Action, ButtonData
from bot.context import BotData
from bot.i18n import ENGLISH
from bot.limits import Limits
from bot.preferences import Faces, Preferences, with_choice
from bot.progress import ChatThrottle
from bot.service import forget_idle
from bot.sessions import Picture, Session, SessionStore, Stage
from bot.telegram.app import build_application
from config.settings import Secret, Settings
from jobqueue import JobSpec, Size, Strength
from jobqueue.embedded import EmbeddedQueue
from tests.painters import FakePainter
from tests.pictures import encode, gradient

PAIR = "0123456789ab"
ALICE_KEYS = buttons.Owner(1001, buttons.button_key("123456:TEST-token"))


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
    encoded = data.encode(ALICE_KEYS)
    assert ButtonData.decode(encoded) == data
    assert len(encoded.encode()) <= 64
    longest = ButtonData(Action.PAINT, "f" * 32, Strength.MEDIUM).encode(ALICE_KEYS)
    assert len(longest.encode()) <= 64, "a 32-digit job or pair id with a strength fits"


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "paint",
        f"paint:{PAIR}",
        f"swap:{PAIR}:light",
        "paint:XYZ:light",
        "x:y",
        f"swap:{PAIR}",  # unsealed, as before buttons were sealed
        f"paint:{PAIR}:light:short",
    ],
)
def test_button_data_this_bot_never_made_is_refused(data: object):
    assert ButtonData.decode(data) is None


def test_a_button_is_sealed_for_its_owner_only():
    data = ButtonData(Action.MAKING_OF, "7").encode(ALICE_KEYS)
    bob = buttons.Owner(1002, ALICE_KEYS.key)
    assert ALICE_KEYS.owns(data)
    assert not bob.owns(data), "another user's press"
    assert not ALICE_KEYS.owns(ButtonData(Action.MAKING_OF, "7").encode(bob))
    retargeted = data.replace("film:7:", "film:8:")  # the tag of job 7 on job 8
    assert ButtonData.decode(retargeted) is not None and not ALICE_KEYS.owns(retargeted)
    other_bot = buttons.Owner(1001, buttons.button_key("654321:another-token"))
    assert not other_bot.owns(data), "the key comes from the bot's token"


def test_a_button_names_its_subject_by_what_it_is():
    assert ButtonData(Action.STOP, PAIR).pair_id == PAIR
    assert ButtonData(Action.MAKING_OF, "7f").job_id == "7f"
    assert ButtonData(Action.GALLERY, "b").index == 11
    choice = ButtonData(Action.PREFERENCE, "3")
    assert ButtonData.decode(choice.encode(ALICE_KEYS)) == choice
    assert buttons.preference_chosen(choice) is buttons.CHOICES[3]
    assert buttons.preference_chosen(ButtonData(Action.PREFERENCE, "ff")) is None


def test_result_buttons_offer_only_a_step_that_exists():
    def labels(strength: Strength) -> list[str]:
        keyboard = buttons.result_keyboard(ENGLISH, ALICE_KEYS, PAIR, strength)
        return [button.label for row in keyboard for button in row]

    assert labels(Strength.LIGHT) == [texts.STRONGER_BUTTON, texts.NEW_PAIR_BUTTON]
    assert labels(Strength.MEDIUM) == [
        texts.LIGHTER_BUTTON,
        texts.STRONGER_BUTTON,
        texts.NEW_PAIR_BUTTON,
    ]
    assert labels(Strength.STRONG) == [texts.LIGHTER_BUTTON, texts.NEW_PAIR_BUTTON]


def test_result_buttons_name_the_pair_the_strengths_and_the_film_sealed_for_their_owner():
    keyboard = buttons.result_keyboard(ENGLISH, ALICE_KEYS, PAIR, Strength.MEDIUM, "2a")
    data = [button.data for row in keyboard for button in row]
    assert all(ALICE_KEYS.owns(item) for item in data)
    assert [ButtonData.decode(item) for item in data] == [
        ButtonData(Action.PAINT, PAIR, Strength.LIGHT),
        ButtonData(Action.PAINT, PAIR, Strength.STRONG),
        ButtonData(Action.NEW_PAIR, PAIR),
        ButtonData(Action.MAKING_OF, "2a"),
    ]
    assert keyboard[-1][0].label == texts.MAKING_OF_BUTTON


def test_a_preference_or_language_button_past_the_known_ones_chooses_nothing():
    past = len(buttons.CHOICES)
    assert buttons.preference_chosen(ButtonData(Action.PREFERENCE, format(past, "x"))) is None
    last = ButtonData(Action.PREFERENCE, format(past - 1, "x"))
    assert buttons.preference_chosen(last) is buttons.CHOICES[-1]
    assert buttons.language_chosen(ButtonData(Action.LANGUAGE, "2")) is None
    assert buttons.language_chosen(ButtonData(Action.LANGUAGE, "1")) == "ru"


def test_the_faces_button_offers_the_other_way_and_older_settings_buttons_keep_their_meaning():
    before_faces = [*Size, False, True, *Strength]  # what /settings buttons already in chats name
    assert all(old is now for old, now in zip(before_faces, buttons.CHOICES, strict=False))
    sides = {Size.SMALL: 43, Size.MEDIUM: 64, Size.LARGE: 256}

    def faces_button(chosen: Preferences) -> tuple[str, object]:
        [row] = [
            row
            for row in buttons.preferences_keyboard(ENGLISH, ALICE_KEYS, chosen, sides)
            if "faces" in row[0].label
        ]
        [button] = row
        data = ButtonData.decode(button.data)
        assert data is not None and ALICE_KEYS.owns(button.data)
        return button.label, buttons.preference_chosen(data)

    kept = Preferences()
    assert faces_button(kept) == (texts.FACES_KEPT_BUTTON, Faces.PAINT)  # on: a press turns it off
    painted = with_choice(kept, Faces.PAINT)
    assert painted == Preferences(keep_faces=False)
    assert faces_button(painted) == (texts.FACES_PAINTED_BUTTON, Faces.KEEP)
    assert with_choice(painted, Faces.KEEP) == kept
    assert with_choice(painted, Faces.PAINT) == painted, "a press on an old panel: no flip back"


def test_sentences_with_numbers():
    assert texts.queued(ENGLISH, 2) == "Queued — 2 ahead of you."
    assert texts.queued(ENGLISH, 0) == "Queued — you're next."
    assert (
        texts.painting(ENGLISH, 0.4, 2, 3, 25.2) == "Painting… 40% · stage 2 of 3 · about 25 s left"
    )
    assert [texts.duration(ENGLISH, s) for s in (0.4, 59.6, 65, 120, 725, 3600, 18720)] == [
        "0 s",
        "1 min",
        "1 min 5 s",
        "2 min",
        "12 min",
        "1 h",
        "5 h 12 min",
    ]
    assert (
        texts.result_caption(ENGLISH, Strength.LIGHT, (512, 384), 14.2)
        == "Light style · 512×384 px · 14 s"
    )
    assert (
        texts.result_caption(ENGLISH, Strength.MEDIUM, (384, 288), 77, colours_kept=True)
        == "Medium style · 384×288 px · colours kept · 1 min 17 s"
    )


async def test_the_throttle_caps_edits_over_all_chats():
    throttle = ChatThrottle(interval=5.0, overall_per_second=20)
    started = time.monotonic()
    await asyncio.gather(*(throttle.turn(chat_id=chat) for chat in range(11)))
    assert time.monotonic() - started >= 0.5  # eleven chats, twenty a second: ten gaps


async def test_the_throttle_spaces_edits_per_chat():
    throttle = ChatThrottle(interval=0.2, overall_per_second=1000)  # only the per-chat spacing
    started = time.monotonic()
    await asyncio.gather(*(throttle.turn(chat_id=1) for _ in range(3)))
    assert time.monotonic() - started >= 0.4  # three edits in one chat: two intervals

    started = time.monotonic()
    await throttle.turn(chat_id=2)  # another chat does not wait for the first one
    assert time.monotonic() - started < 0.1


def stored_picture(session: Session) -> Picture:
    picture = Picture(session.new_file(".png"))
    picture.path.write_bytes(b"picture")
    picture.thumbnail_path.write_bytes(b"thumbnail")
    return picture


def test_a_session_outlives_the_process_with_its_pictures_and_pair(tmp_path):
    store = SessionStore(tmp_path)
    store.open()
    session = store.get(chat_id=1, user_id=2)
    session.add(stored_picture(session))
    session.add(stored_picture(session))
    session.remember_preview("preview-file-id")
    kept = (session.content, session.style, session.pair_id)
    store.close()

    again = SessionStore(tmp_path)
    again.open()
    restored = again.get(chat_id=1, user_id=2)
    assert (restored.content, restored.style, restored.pair_id) == kept
    assert restored.stage is Stage.READY and restored.owns(session.pair_id or "")
    assert restored.pair_preview == "preview-file-id"
    again.close()


def test_a_pair_and_its_buttons_exist_only_while_both_pictures_do(tmp_path):
    store = SessionStore(tmp_path, owners="discord:")
    store.open()
    session = store.get(chat_id=1, user_id=2)
    assert session.owner == "discord:2"
    session.add(stored_picture(session))
    alone = session.pair_id
    session.add(stored_picture(session))
    session.remember_preview("preview-file-id")
    old_pair = session.pair_id or ""
    assert alone is None and old_pair, "a photo alone is no pair; with a style it is"
    session.choose_style(stored_picture(session))
    assert session.pair_id not in (None, old_pair) and session.pair_preview is None
    pair = session.pair_id or ""
    assert session.style is not None
    session.style.delete()  # e.g. DATA_DIR cleaned by hand while the bot was down
    session.style.delete()  # gone already: no harm
    store.close()

    store.open()
    restored = store.peek(chat_id=1, user_id=2)
    assert restored.content == session.content and restored.style is None
    assert restored.pair_id is None and not restored.owns(pair), "its buttons went stale"
    assert restored.last_seen == session.last_seen and restored.owner == "discord:2"
    store.close()
    plain = SessionStore(tmp_path)  # the default: Telegram's, whose ids are the owners
    plain.open()
    assert plain.peek(chat_id=1, user_id=2).owner == "2"
    plain.close()


def test_clearing_deletes_the_pictures_and_forgetting_the_whole_session(tmp_path):
    store = SessionStore(tmp_path)
    store.open()
    empty = store.get(chat_id=1, user_id=1)
    empty.clear()  # no folder yet: nothing to delete, no error
    store.close()
    store.open()
    store.forget(store.peek(chat_id=1, user_id=1))  # as the idle sweep does: not in memory

    session = store.get(chat_id=1, user_id=2)
    session.add(stored_picture(session))
    session.add(stored_picture(session))
    session.remember_preview("preview-file-id")
    session.clear()
    assert not session.folder.exists()
    assert (session.content, session.style, session.pair_id, session.pair_preview) == (None,) * 4

    session.add(stored_picture(session))
    store.forget(session)
    assert not session.folder.exists()
    again = store.get(chat_id=1, user_id=2)
    assert again is not session and again.content is None, "forgotten in memory too"
    store.close()


async def test_the_idle_sweep_forgets_old_sessions_but_not_one_whose_job_runs(tmp_path):
    now = [0.0]
    data = BotData()
    data.sessions = SessionStore(tmp_path, max_idle=3600, clock=lambda: now[0])
    data.sessions.open()
    gate = threading.Event()
    data.queue = EmbeddedQueue(tmp_path, FakePainter(gate=gate))
    await data.queue.start()
    try:
        idle, busy = data.sessions.get(1, 1), data.sessions.get(2, 2)
        idle_picture, busy_picture = stored_picture(idle), stored_picture(busy)
        await data.queue.submit(JobSpec(busy.owner, encode(gradient()), encode(gradient())))
        now[0] = 1800.0
        recent = data.sessions.get(3, 3)
        recent_picture = stored_picture(recent)

        now[0] = 4000.0  # users 1 and 2 have been away for over an hour; 2 has a job
        assert await forget_idle(data) == 1
        assert not idle_picture.path.exists()
        assert busy_picture.path.exists() and recent_picture.path.exists()

        gate.set()  # the job ends: the next sweep may forget user 2 too
        for _ in range(100):
            if await data.queue.job_of(busy.owner) is None:
                break
            await asyncio.sleep(0.05)
        assert await forget_idle(data) == 1 and not busy_picture.path.exists()
    finally:
        gate.set()
        await data.queue.close()
        data.sessions.close()


def test_the_picture_rate_forgets_pictures_older_than_a_minute(tmp_path):
    now = [1000.0]
    limits = Limits(
        tmp_path, pictures_per_minute=2, jobs_per_day=0, data_max_mb=0, clock=lambda: now[0]
    )
    limits.open()
    try:
        assert limits.take_picture(1) is None
        now[0] += 10
        assert limits.take_picture(1) is None
        now[0] += 20  # two pictures in the last 30 s: the third waits for the first to age
        assert limits.take_picture(1) == pytest.approx(30.0)
        assert limits.take_picture(2) is None, "another user has an allowance of their own"
        now[0] += 31  # the first picture is 61 s old, the second 51 s
        assert limits.take_picture(1) is None
        assert limits.take_picture(1) == pytest.approx(9.0), "the second still counts"
        now[0] += 61  # a quiet minute: the full allowance again
        assert limits.take_picture(1) is None and limits.take_picture(1) is None
    finally:
        limits.close()


async def test_the_bot_caps_progress_edits_at_ten_a_second_over_all_chats(tmp_path):
    settings = Settings(bot_token=Secret("123456:TEST-token"), data_dir=tmp_path / "data")
    application = build_application(settings, EmbeddedQueue(tmp_path, FakePainter()))
    throttle = application.bot_data.throttle
    assert throttle.interval == settings.progress_interval
    assert throttle.spacing == pytest.approx(1 / 10), "README: at most ten edits a second"
    started = time.monotonic()
    await asyncio.gather(*(throttle.turn(chat_id=chat) for chat in range(6)))
    assert time.monotonic() - started >= 0.5  # six chats at once, ten a second: five gaps


def test_the_disk_cap_weighs_all_of_data_dir_from_a_front_ends_own_folder(tmp_path):
    """Discord's counters live in DATA_DIR/discord, but DATA_MAX_MB caps the whole DATA_DIR,
    Telegram's pictures included."""
    (tmp_path / "sessions").mkdir()
    (tmp_path / "sessions" / "big.jpg").write_bytes(b"x" * (2 * 1024 * 1024))
    own = tmp_path / "discord"
    limits = Limits(own, pictures_per_minute=9, jobs_per_day=0, data_max_mb=1, measured=tmp_path)
    assert limits.disk_full()
    alone = Limits(own, pictures_per_minute=9, jobs_per_day=0, data_max_mb=1)
    assert not alone.disk_full()
