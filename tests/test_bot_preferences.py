"""/settings: output size, the photo's colours and the default strength, per user, kept in
DATA_DIR; what the painter is asked for, what it allows, and what the result's caption says."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import engine.options
from bot import texts
from bot.i18n import ENGLISH
from bot.preferences import Preferences, output_sides
from bot.sessions import SessionStore
from config.settings import Secret, Settings
from engine import StyleOptions
from jobqueue import JobOrder, Size, Strength
from jobqueue.orders import MEDIUM_SIDE
from tests.botapi import BotApiServer, BotMessage
from tests.chat import ALICE, BOB, SendPair, StartBot, labels, press_strength, watch_engine
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
    assert painter.options(JobOrder(size=Size.SMALL)).max_side == 43
    default = EnginePainter(StyleOptions(device="cpu"))  # ENGINE_MAX_SIDE unset: the CPU's 384
    assert default.options(JobOrder(size=Size.LARGE)).max_side == 768
    assert default.options(JobOrder()).max_side == 384


def test_the_sizes_medium_is_the_engines_own_default():
    assert MEDIUM_SIDE == engine.options.DEFAULT_MAX_SIDE
    assert [strength.value for strength in Strength] == [
        strength.value for strength in engine.options.Strength
    ]


def test_preferences_are_kept_per_user_across_a_restart(tmp_path: Path):
    store = SessionStore(tmp_path)
    store.open()
    assert store.preferences(ALICE) == Preferences()
    chosen = Preferences("ru", Size.LARGE, keep_colours=True, strength=Strength.STRONG)
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
