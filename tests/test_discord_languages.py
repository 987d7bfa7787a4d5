"""Languages on Discord: the interaction's locale says which (English or Russian), kept per
user like a chosen one; the slash commands' names and descriptions are localised."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import i18n, texts
from bot.discord.commands import NAMES
from jobqueue import Strength
from tests.discord_chat import (
    PHOTO,
    STYLE,
    answer_to,
    bot_on,
    command,
    fake_discord,
    labels,
    note_for,
    press,
    progress_after,
    result_after,
)
from tests.discordapi import DiscordApiServer
from tests.painters import FakePainter

RU = i18n.translator("ru")


@pytest.fixture
def server() -> Iterator[DiscordApiServer]:
    with fake_discord() as fake:
        yield fake


async def test_a_russian_discord_gets_russian_answers_and_presses(
    server: DiscordApiServer, tmp_path: Path
):
    olga = server.add_user("olga", locale="ru")
    dm = server.dm(olga)
    async with bot_on(server, tmp_path):
        start = await command(server, olga, dm, "start")
        assert start.content == RU(texts.INTRO)
        panel = await command(server, olga, dm, "settings")
        assert panel.content.startswith(RU.gettext("Your settings:"))
        chosen = press(server, olga, panel, RU(texts.COLOURS_KEPT_BUTTON))
        assert (await note_for(server, chosen)).content == RU(texts.PREFERENCE_SAVED)

        # Her DMs carry no locale: the one her last interaction said is kept for her.
        sent = server.user_sends_message(olga, dm, attachments=[PHOTO])
        got = await server.await_message(dm, after=sent)
        assert got.content == RU(texts.GOT_CONTENT)
        assert labels(got) == [RU(texts.GALLERY_BUTTON)]
        sent = server.user_sends_message(olga, dm, attachments=[STYLE])
        pair = await server.await_message(dm, after=sent)
        assert pair.content == RU(texts.PAIR_READY)

        pressed = press(server, olga, pair, RU(texts.STRENGTH_LABELS[Strength.LIGHT]))
        card = await progress_after(server, dm, pressed)
        assert labels(card) == [RU(texts.STOP_BUTTON)]
        photo, file = await result_after(server, dm, pressed)
        assert photo.content.startswith(RU(texts.STYLE_NAMES[Strength.LIGHT]))
        assert file.content == RU(texts.RESULT_FILE)


async def test_a_dm_after_a_restart_speaks_the_language_of_the_last_interaction(
    server: DiscordApiServer, tmp_path: Path
):
    olga = server.add_user("olga", locale="ru")
    dm = server.dm(olga)
    async with bot_on(server, tmp_path):
        await command(server, olga, dm, "start")
    async with bot_on(server, tmp_path):  # a new process: only DATA_DIR remembers her
        sent = server.user_sends_message(olga, dm, attachments=[PHOTO])
        got = await server.await_message(dm, after=sent)
        assert got.content == RU(texts.GOT_CONTENT)
        # Her app speaks English now: her next interaction says so, and her DMs follow it.
        await command(server, olga, dm, "status", locale="en-GB")
    async with bot_on(server, tmp_path):
        sent = server.user_sends_message(olga, dm, attachments=[STYLE])
        got = await server.await_message(dm, after=sent)
        assert got.content == texts.PAIR_READY


async def test_keeping_faces_speaks_russian_in_settings_and_in_the_caption(
    server: DiscordApiServer, tmp_path: Path
):
    olga = server.add_user("olga", locale="ru")
    dm = server.dm(olga)
    async with bot_on(server, tmp_path, FakePainter(faces=3)):  # three faces, kept
        panel = await command(server, olga, dm, "settings")
        assert "• Лица: черты человека сохраняются" in panel.content
        assert "🙂 Сохранять лица: вкл" in labels(panel)
        sent = server.user_sends_message(olga, dm, attachments=[PHOTO])
        await server.await_message(dm, after=sent, contains=RU(texts.GOT_CONTENT))
        sent = server.user_sends_message(olga, dm, attachments=[STYLE])
        pair = await server.await_message(dm, after=sent, contains=RU(texts.PAIR_READY))
        pressed = press(server, olga, pair, RU(texts.STRENGTH_LABELS[Strength.LIGHT]))
        photo, _ = await result_after(server, dm, pressed)
        assert photo.content.endswith(" · 3 лица сохранены")

        chosen = press(server, olga, panel, "Сохранять лица")
        assert (await note_for(server, chosen)).content == RU(texts.PREFERENCE_SAVED)
        shown = await server.await_edit(dm, panel.id, after=chosen, contains="всё остальное")
        assert "• Лица: рисуются, как всё остальное" in shown.content
        assert "🙂 Сохранять лица: выкл" in labels(shown)


async def test_paint_in_a_russian_server_answers_in_russian(
    server: DiscordApiServer, tmp_path: Path
):
    olga = server.add_user("olga")
    channel = server.add_guild(locale="ru").channel("general")
    async with bot_on(server, tmp_path):
        options = {"content": PHOTO, "strength": "medium"}
        missing = server.user_runs_command(olga, channel, "paint", options, locale="ru")
        assert (await answer_to(server, missing)).content == RU(texts.PAINT_NEEDS_STYLE)

        options["style"] = STYLE
        sent = server.user_runs_command(olga, channel, "paint", options, locale="ru")
        pair = await answer_to(server, sent)
        assert pair.content == RU(texts.PAIR_READY)
        photo, _ = await result_after(server, channel, sent)
        assert photo.content.startswith(RU(texts.STYLE_NAMES[Strength.MEDIUM]))

        english = await command(server, olga, channel, "status", locale="en-GB")
        assert english.content.startswith(texts.STATUS_IDLE), "each interaction says its own"


async def test_a_chosen_language_outweighs_the_discord_locale(
    server: DiscordApiServer, tmp_path: Path
):
    olga = server.add_user("olga", locale="ru")
    dm = server.dm(olga)
    async with bot_on(server, tmp_path):
        panel = await command(server, olga, dm, "language")
        assert panel.content == RU(texts.LANGUAGE_PROMPT)
        chosen = press(server, olga, panel, "English")
        await server.await_edit(dm, panel.id, after=chosen, contains=texts.LANGUAGE_CHOSEN)
        status = await command(server, olga, dm, "status")

    assert status.content.startswith(texts.STATUS_IDLE)


async def test_registered_commands_carry_russian_names_and_descriptions(
    server: DiscordApiServer, tmp_path: Path
):
    async with bot_on(server, tmp_path):
        registered = {c["name"]: c for c in server.commands()}

    russian = NAMES["ru"]
    for name, description in texts.COMMAND_DESCRIPTIONS.items():
        assert registered[name]["description"] == description
        assert registered[name]["name_localizations"] == {"ru": russian[name]}
        assert registered[name]["description_localizations"] == {"ru": RU(description)}
    paint = registered["paint"]
    assert paint["name_localizations"] == {"ru": russian["paint"]}
    assert paint["description_localizations"] == {"ru": RU(texts.PAINT_DESCRIPTION)}
    options = {o["name"]: o for o in paint["options"]}
    assert [o["name"] for o in paint["options"]] == ["content", "strength", "style", "painting"]
    for name, option in options.items():
        assert option["name_localizations"] == {"ru": russian[name]}
        assert option["description_localizations"]["ru"] != option["description"]
    strengths = options["strength"]["choices"]
    assert [c["name_localizations"]["ru"] for c in strengths] == [
        RU(texts.STRENGTH_LABELS[s]) for s in Strength
    ]
