"""/settings: output size, the photo's colours, keeping faces and the default strength, per
user, kept in DATA_DIR; what the painter is asked for, what it allows, and what the result's
caption says."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import engine.options
from bot import texts
from bot.i18n import ENGLISH, translator
from bot.preferences import Preferences, output_sides
from bot.sessions import DATABASE, SessionStore
from config.settings import Secret, Settings
from engine import Progress, Result, StyleOptions
from jobqueue import JobOrder, Size, Strength
from jobqueue.embedded import EmbeddedQueue
from jobqueue.orders import MEDIUM_SIDE
from tests.botapi import BotApiServer, BotMessage
from tests.chat import ALICE, BOB, SendPair, StartBot, labels, press_strength, watch_engine
from tests.painters import FakePainter
from tests.pictures import encode, gradient, stripes
from worker.painter import EnginePainter

RESULT_TIMEOUT = 120
#: The buttons of /settings with the test engine (ENGINE_MAX_SIDE=64: Medium), untouched.
DEFAULT_BUTTONS = [
    "Small · 43 px",
    "• Medium · 64 px",
    "Large · 256 px",
    "• 🎨 The style's colours",
    "📷 Keep my photo's colours",
    "🙂 Keep faces: on",
    "Light",
    "• Medium",
    "Strong",
]


def settings_for(engine_device: str = "auto", engine_max_side: int | None = None) -> Settings:
    return Settings(
        bot_token=Secret("1:x"), engine_device=engine_device, engine_max_side=engine_max_side
    )


# ---- sizes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "sides"),
    [
        ({}, (256, 384, 768)),  # auto: the bot cannot know, so CPU sizes
        ({"engine_device": "cpu"}, (256, 384, 768)),
        ({"engine_device": "cuda"}, (341, 512, 2048)),  # a GPU's Large: 2048 px
        ({"engine_device": "cuda:1"}, (341, 512, 2048)),
        ({"engine_device": "mps"}, (341, 512, 1024)),  # Apple's GPUs: slower, 1024 px
        ({"engine_max_side": 64}, (43, 64, 256)),  # four times Medium
        ({"engine_max_side": 600}, (400, 600, 768)),  # Large stops at the CPU's 768
        ({"engine_max_side": 1024}, (683, 1024, 1024)),  # never below Medium
        ({"engine_max_side": 32}, (32, 32, 128)),  # never below the engine's 32
    ],
)
def test_each_size_derives_from_the_operators_max_side(values: dict[str, Any], sides):
    assert tuple(output_sides(settings_for(**values)).values()) == sides


def test_the_painter_applies_the_jobs_order_within_the_operators_limit():
    painter = EnginePainter(StyleOptions(device="cpu", max_side=64, steps=6))
    assert painter.options(JobOrder(Strength.LIGHT)) == StyleOptions(
        device="cpu", max_side=64, steps=6, strength=engine.options.Strength.LIGHT
    )
    chosen = painter.options(JobOrder(Strength.STRONG, Size.LARGE, keep_colours=True))
    assert (chosen.strength, chosen.max_side, chosen.preserve_colors) == ("strong", 256, True)
    assert chosen.keep_faces is True
    assert painter.options(JobOrder(keep_faces=False)).keep_faces is False
    assert painter.options(JobOrder(size=Size.SMALL)).max_side == 43
    default = EnginePainter(StyleOptions(device="cpu"))  # ENGINE_MAX_SIDE unset: the CPU's 384
    assert default.options(JobOrder(size=Size.LARGE)).max_side == 768
    assert default.options(JobOrder()).max_side == 384


def test_the_painter_asks_to_keep_faces_and_passes_on_how_many_the_engine_kept(
    monkeypatch: pytest.MonkeyPatch,
):
    asked: list[StyleOptions] = []

    def stylize_finding_two_faces(
        content: Image.Image,
        style: Image.Image,
        options: StyleOptions,
        on_progress: Callable[[Progress], None],
        cancel: threading.Event,
    ) -> Result:
        """The engine, as far as faces go: two found, kept when asked."""
        asked.append(options)
        faces = 2 if options.keep_faces else 0
        return Result(content, options, 1, 0.5, {}, "cpu", faces=faces)

    monkeypatch.setattr("worker.painter.stylize", stylize_finding_two_faces)
    painter = EnginePainter(StyleOptions(device="cpu", max_side=64, steps=6))
    photo, style = encode(gradient(72, 40)), encode(stripes())
    kept = painter(photo, style, JobOrder(), lambda _: None, threading.Event())
    assert (asked[-1].keep_faces, kept.faces) == (True, 2)
    painted = painter(photo, style, JobOrder(keep_faces=False), lambda _: None, threading.Event())
    assert (asked[-1].keep_faces, painted.faces) == (False, 0)


def test_the_sizes_medium_is_the_engines_own_default():
    assert MEDIUM_SIDE == engine.options.DEFAULT_MAX_SIDE
    assert [strength.value for strength in Strength] == [
        strength.value for strength in engine.options.Strength
    ]


def test_preferences_are_kept_per_user_across_a_restart(tmp_path: Path):
    store = SessionStore(tmp_path)
    store.open()
    assert store.preferences(ALICE) == Preferences()
    chosen = Preferences(
        "ru", Size.LARGE, keep_colours=True, strength=Strength.STRONG, keep_faces=False
    )
    store.choose(ALICE, chosen)
    store.close()

    store = SessionStore(tmp_path)
    store.open()
    assert store.preferences(ALICE) == chosen
    assert store.preferences(BOB) == Preferences()
    store.database.execute("UPDATE preferences SET size = 'huge', strength = 'wild'")  # a downgrade
    store.close()
    store.open()
    assert store.preferences(ALICE) == dataclasses.replace(
        chosen, size=Size.MEDIUM, strength=Strength.MEDIUM
    )
    store.close()


def test_the_language_an_app_said_is_kept_per_user_and_is_no_choice(tmp_path: Path):
    store = SessionStore(tmp_path)
    store.open()
    assert store.app_language(ALICE) is None
    store.remember_app_language(ALICE, "ru")
    store.remember_app_language(BOB, "en-GB")
    store.close()

    store = SessionStore(tmp_path)
    store.open()
    assert (store.app_language(ALICE), store.app_language(BOB)) == ("ru", "en-GB")
    store.remember_app_language(ALICE, "uk")
    assert store.app_language(ALICE) == "uk"
    assert store.preferences(ALICE) == Preferences(), "/language was not chosen"
    written = store.database.execute("SELECT total_changes()").fetchone()[0]
    store.remember_app_language(ALICE, "uk")  # every interaction says it: written once
    assert store.database.execute("SELECT total_changes()").fetchone()[0] == written
    store.close()
    store.open()
    assert store.app_language(ALICE) == "uk"
    store.close()


#: The preferences table as it was before faces could be chosen: two users' choices in it.
PREFERENCES_BEFORE_FACES = """
CREATE TABLE preferences (
    user_id      INTEGER PRIMARY KEY,
    language     TEXT,
    size         TEXT    NOT NULL,
    keep_colours INTEGER NOT NULL,
    strength     TEXT    NOT NULL
);
INSERT INTO preferences VALUES (1001, 'ru', 'large', 1, 'strong');
INSERT INTO preferences VALUES (1002, NULL, 'small', 0, 'medium');
"""


def test_preferences_from_before_faces_are_kept_and_keep_faces_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    old = sqlite3.connect(tmp_path / DATABASE)
    old.executescript(PREFERENCES_BEFORE_FACES)
    old.close()

    store = SessionStore(tmp_path)
    with caplog.at_level(logging.INFO, logger="bot.sessions"):
        store.open()
        try:
            alice = Preferences("ru", Size.LARGE, keep_colours=True, strength=Strength.STRONG)
            assert store.preferences(ALICE) == alice
            assert store.preferences(ALICE).keep_faces is True  # as the bot did before
            assert store.preferences(BOB) == Preferences(size=Size.SMALL)
            store.choose(BOB, Preferences(size=Size.SMALL, keep_faces=False))  # the new column
        finally:
            store.close()
        store.open()  # brought up to date once: not at every start
        try:
            assert store.preferences(ALICE) == alice
            assert store.preferences(BOB).keep_faces is False
        finally:
            store.close()
    added = [r.getMessage() for r in caplog.records if r.name == "bot.sessions"]
    assert added == [f"Adding the preference keep_faces to {tmp_path / DATABASE}"]


def test_a_replica_that_finds_the_column_added_meanwhile_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    old = sqlite3.connect(tmp_path / DATABASE)
    old.executescript(PREFERENCES_BEFORE_FACES)
    old.close()
    looked = SessionStore._preference_columns
    looks: list[set[str]] = []

    def before_the_other_replica(store: SessionStore) -> set[str]:
        """The first look sees the old table: the other replica adds the column just after."""
        looks.append(looked(store) if looks else set())
        return looks[-1]

    other = SessionStore(tmp_path)
    other.open()  # the other replica, a moment ahead
    monkeypatch.setattr(SessionStore, "_preference_columns", before_the_other_replica)
    store = SessionStore(tmp_path)
    store.open()
    try:
        assert len(looks) == 2, "it looked again when adding the column failed"
        assert store.preferences(ALICE).keep_faces is True
    finally:
        store.close()
        other.close()


# ---- in the chat ----------------------------------------------------------------------------


def record_options(monkeypatch: pytest.MonkeyPatch) -> list[StyleOptions]:
    """The options of every run the engine makes from now on, as the painter passed them."""
    runs: list[StyleOptions] = []
    watch_engine(monkeypatch, on_run=runs.append)
    return runs


async def change(telegram: BotApiServer, user: int, shown: BotMessage, label: str) -> BotMessage:
    """Press a /settings button: the note, then the message edited to the new preferences."""
    press = telegram.user_presses_button(user, shown.message_id, label=label)
    assert await telegram.await_button_answer(press) == texts.PREFERENCE_SAVED
    return await telegram.await_edit(user, shown.message_id, after=press)


async def result_of(telegram: BotApiServer, user: int, after: int) -> tuple[str, Image.Image]:
    """The caption of the next result's photo and the picture in its PNG file."""
    photo = await telegram.await_message(
        user, after=after, kind="photo", contains=" style · ", timeout=RESULT_TIMEOUT
    )
    document = await telegram.await_message(user, after=photo.seq, kind="document")
    return photo.body, document.image()


@pytest.mark.slow
async def test_preferences_change_the_picture_and_survive_a_restart(
    start_bot: StartBot,
    telegram: BotApiServer,
    send_pair: SendPair,
    monkeypatch: pytest.MonkeyPatch,
):
    runs = record_options(monkeypatch)
    async with start_bot():
        sent = telegram.user_sends_command(ALICE, "/settings")
        shown = await telegram.await_message(ALICE, after=sent)
        assert shown.body == texts.preferences_panel(
            ENGLISH, Size.MEDIUM, 64, False, Strength.MEDIUM
        )
        assert labels(shown) == DEFAULT_BUTTONS

        await change(telegram, ALICE, shown, "Large")
        await change(telegram, ALICE, shown, "Keep my photo's colours")
        edited = await change(telegram, ALICE, shown, "Strong")
        assert edited.body == texts.preferences_panel(
            ENGLISH, Size.LARGE, 256, True, Strength.STRONG
        )
        assert "• Size: Large, 256 px on the longer side" in edited.body
        assert labels(edited) == [
            "Small · 43 px",
            "Medium · 64 px",
            "• Large · 256 px",
            "🎨 The style's colours",
            "• 📷 Keep my photo's colours",
            "🙂 Keep faces: on",
            "Light",
            "Medium",
            "• Strong",
        ]

        pair = await send_pair(ALICE, encode(gradient(240, 135)), encode(stripes()))
        assert labels(pair)[:3] == ["Light", "Medium", "• Strong"]  # the default, marked
        progress = await press_strength(telegram, ALICE, pair, "Medium")
        caption, picture = await result_of(telegram, ALICE, after=progress.seq)
        assert caption.startswith("Medium style · 240×135 px · colours kept · ")
        assert picture.size == (240, 135)
        assert (runs[-1].strength, runs[-1].max_side, runs[-1].preserve_colors) == (
            engine.options.Strength.MEDIUM,
            256,
            True,
        )

        # Bob has preferences of his own: the operator's size, the style's colours.
        bob_pair = await send_pair(BOB, encode(gradient(240, 135)), encode(stripes()))
        assert labels(bob_pair)[:3] == ["Light", "• Medium", "Strong"]
        progress = await press_strength(telegram, BOB, bob_pair, "Light")
        caption, picture = await result_of(telegram, BOB, after=progress.seq)
        assert caption.startswith("Light style · 64×36 px · ") and "colours" not in caption
        assert picture.size == (64, 36)
        assert (runs[-1].max_side, runs[-1].preserve_colors) == (64, False)

    async with start_bot():  # the same DATA_DIR: Alice's choices are still hers
        sent = telegram.user_sends_command(ALICE, "/settings")
        shown = await telegram.await_message(ALICE, after=sent)
        assert shown.body == texts.preferences_panel(
            ENGLISH, Size.LARGE, 256, True, Strength.STRONG
        )
        small = await change(telegram, ALICE, shown, "Small")
        assert labels(small)[:3] == ["• Small · 43 px", "Medium · 64 px", "Large · 256 px"]
        await change(telegram, ALICE, shown, "The style's colours")

        sent = telegram.user_sends_photo(ALICE, encode(gradient(240, 135)))  # a new style
        pair = await telegram.await_message(ALICE, after=sent, kind="photo")
        assert labels(pair)[:3] == ["Light", "Medium", "• Strong"]
        progress = await press_strength(telegram, ALICE, pair, "Strong")
        caption, picture = await result_of(telegram, ALICE, after=progress.seq)
        assert caption.startswith("Strong style · 43×24 px · ") and "colours" not in caption
        assert picture.size == (43, 24)
        assert (runs[-1].max_side, runs[-1].preserve_colors) == (43, False)


@pytest.mark.slow
async def test_preferences_speak_russian_too(
    bot: object, telegram: BotApiServer, send_pair: SendPair
):
    telegram.user_speaks(ALICE, "ru")
    sent = telegram.user_sends_command(ALICE, "/settings")
    shown = await telegram.await_message(ALICE, after=sent)
    assert shown.body.startswith("Ваши настройки:\n• Размер: Средний, 64 px по длинной стороне")
    assert labels(shown)[:3] == ["Маленький · 43 px", "• Средний · 64 px", "Большой · 256 px"]
    press = telegram.user_presses_button(ALICE, shown.message_id, label="Большой")
    assert await telegram.await_button_answer(press) == "Сохранено."
    edited = await telegram.await_edit(ALICE, shown.message_id, after=press)
    assert "• Размер: Большой, 256 px" in edited.body
    assert "• Лица: черты человека сохраняются" in edited.body
    assert "🙂 Сохранять лица: вкл" in labels(edited)

    press = telegram.user_presses_button(ALICE, shown.message_id, label="Сохранять лица")
    assert await telegram.await_button_answer(press) == "Сохранено."
    edited = await telegram.await_edit(ALICE, shown.message_id, after=press)
    assert "• Лица: рисуются, как всё остальное" in edited.body
    assert "🙂 Сохранять лица: выкл" in labels(edited)


async def settings_panel(telegram: BotApiServer, user: int) -> BotMessage:
    sent = telegram.user_sends_command(user, "/settings")
    return await telegram.await_message(user, after=sent)


async def test_keep_faces_is_a_toggle_the_next_job_follows_and_a_restart_keeps(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair, tmp_path: Path
):
    """The painter "finds" one face in every photo and keeps it when the order asks."""
    painter = FakePainter(faces=1)
    async with start_bot(queue=EmbeddedQueue(tmp_path / "data", painter)):
        shown = await settings_panel(telegram, ALICE)
        assert "• Faces: the person's features kept" in shown.body, "on unless turned off"
        assert labels(shown) == DEFAULT_BUTTONS

        pair = await send_pair(ALICE)
        progress = await press_strength(telegram, ALICE, pair, "Medium")
        caption, _ = await result_of(telegram, ALICE, after=progress.seq)
        assert caption.startswith("Medium style · 72×40 px · ")
        assert caption.endswith(" · 1 face kept")

        edited = await change(telegram, ALICE, shown, texts.FACES_KEPT_BUTTON)
        assert edited.body == texts.preferences_panel(
            ENGLISH, Size.MEDIUM, 64, False, Strength.MEDIUM, False
        )
        assert "• Faces: painted like the rest" in edited.body
        assert labels(edited)[5] == texts.FACES_PAINTED_BUTTON  # the same place, unmarked
        assert texts.FACES_KEPT_BUTTON not in labels(edited)

        progress = await press_strength(telegram, ALICE, pair, "Light")
        caption, _ = await result_of(telegram, ALICE, after=progress.seq)
        assert "face" not in caption, "no face kept: the caption says nothing of faces"
    assert [order.keep_faces for order in painter.painted] == [True, False]

    painter = FakePainter(faces=1)
    async with start_bot(queue=EmbeddedQueue(tmp_path / "data", painter)):  # the same DATA_DIR
        shown = await settings_panel(telegram, ALICE)
        assert "• Faces: painted like the rest" in shown.body
        assert texts.FACES_PAINTED_BUTTON in labels(shown)
        assert "• Faces: the person's features kept" in (await settings_panel(telegram, BOB)).body

        progress = await press_strength(telegram, ALICE, pair, "Strong")  # the pair from before
        caption, _ = await result_of(telegram, ALICE, after=progress.seq)
        assert "face" not in caption

        again = await change(telegram, ALICE, shown, texts.FACES_PAINTED_BUTTON)  # on again
        assert texts.FACES_KEPT_BUTTON in labels(again)
        progress = await press_strength(telegram, ALICE, pair, "Medium")
        caption, _ = await result_of(telegram, ALICE, after=progress.seq)
        assert caption.endswith(" · 1 face kept")
    assert [order.keep_faces for order in painter.painted] == [False, True]


def test_the_caption_counts_the_faces_kept_in_each_language():
    caption = texts.result_caption(ENGLISH, Strength.MEDIUM, (384, 288), 79, faces=1)
    assert caption == "Medium style · 384×288 px · 1 min 19 s · 1 face kept"
    two = texts.result_caption(ENGLISH, Strength.STRONG, (384, 288), 79, faces=2)
    assert two == "Strong style · 384×288 px · 1 min 19 s · 2 faces kept"
    none = texts.result_caption(ENGLISH, Strength.MEDIUM, (384, 288), 79, faces=0)
    assert none == "Medium style · 384×288 px · 1 min 19 s"
    russian = translator("ru")
    assert [texts.faces_kept(russian, n) for n in (1, 3, 5, 21)] == [
        "1 лицо сохранено",
        "3 лица сохранены",
        "5 лиц сохранено",
        "21 лицо сохранено",
    ]
    assert (
        texts.result_caption(russian, Strength.MEDIUM, (384, 288), 79, faces=2)
        == "Средний стиль · 384×288 px · 1 мин 19 с · 2 лица сохранены"
    )
