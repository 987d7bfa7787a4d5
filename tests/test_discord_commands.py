"""Slash commands, in a DM and in a server: each answers in place of Discord's "thinking…";
/status and /cancel follow the job; /settings, /language and /styles are panels of buttons
whose presses edit the same message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import i18n, texts
from bot.gallery import FOLDER
from jobqueue import Size
from tests.discord_chat import (
    PHOTO,
    RecordingPainter,
    answer_to,
    bot_on,
    command,
    fake_discord,
    labels,
    note_for,
    press,
    progress_after,
    result_after,
    send_pair,
)
from tests.discordapi import DiscordApiServer
from tests.discordapi.records import Channel, User
from tests.painters import SteppedPainter
from tests.queues import waited

PAINTINGS = 12
RU = i18n.translator("ru")


@pytest.fixture
def server() -> Iterator[DiscordApiServer]:
    with fake_discord() as fake:
        yield fake


def where(server: DiscordApiServer, user: User, place: str) -> Channel:
    """The user's DM, or the first channel of a new server."""
    return server.dm(user) if place == "dm" else server.add_guild().channel("general")


#: Each command, and what its answer says.
ANSWERS = {
    "start": texts.INTRO,
    "help": texts.INTRO,
    "status": texts.STATUS_IDLE,
    "cancel": texts.NOTHING_TO_CANCEL,
    "settings": "Your settings:",
    "language": texts.LANGUAGE_PROMPT,
    "styles": f"1 of {PAINTINGS}",
}


@pytest.mark.parametrize("place", ["dm", "server"])
async def test_every_command_answers_in_place_of_thinking(
    server: DiscordApiServer, tmp_path: Path, place: str
):
    alice = server.add_user("alice")
    channel = where(server, alice, place)
    async with bot_on(server, tmp_path):
        for name, answer in ANSWERS.items():
            sent = server.user_runs_command(alice, channel, name)
            shown = await answer_to(server, sent)
            record = server.interaction(sent)
            assert record.response_type == 5, f"/{name} is deferred (thinking…)"
            assert record.response_delay is not None and record.response_delay < 3
            assert answer in shown.content, f"/{name}: {shown.content!r}"
            assert not shown.ephemeral
            others = [m for m in server.messages(channel) if m.seq > sent.marker]
            assert [m.id for m in others] == [shown.id], f"/{name} answers in one message"

    assert sorted(c["name"] for c in server.commands()) == sorted([*ANSWERS, "paint"])


async def test_start_in_a_server_points_to_paint(server: DiscordApiServer, tmp_path: Path):
    alice = server.add_user("alice")
    channel = server.add_guild().channel("general")
    async with bot_on(server, tmp_path):
        shown = await command(server, alice, channel, "start")

    assert "/paint" in shown.content, "in a server the bot reads no pictures: /paint takes them"
    assert texts.GROUP_NOTE not in shown.content


async def test_status_tells_idle_queued_and_painting(server: DiscordApiServer, tmp_path: Path):
    alice, bob = server.add_user("alice"), server.add_user("bob")
    painter = SteppedPainter(steps=4)
    async with bot_on(server, tmp_path, painter):
        idle = await command(server, alice, server.dm(alice), "status")
        assert idle.content == f"{texts.STATUS_IDLE} {texts.NEED_CONTENT}"

        card = await progress_after(
            server, server.dm(alice), press(server, alice, await send_pair(server, alice), "Light")
        )
        await waited(painter.started)
        started = await command(server, alice, server.dm(alice), "status")
        assert started.content == texts.STATUS_STARTING
        painter.allow()
        await server.await_edit(server.dm(alice), card.id, contains="25%")
        painting = await command(server, alice, server.dm(alice), "status")
        assert painting.content.startswith("Painting your picture: 25% done")

        bob_pair = await send_pair(server, bob)
        await progress_after(server, server.dm(bob), press(server, bob, bob_pair, "Strong"))
        waiting = await command(server, bob, server.dm(bob), "status")
        assert waiting.content == "Your picture is queued — 1 ahead of you."


async def test_cancel_stops_a_running_job_a_queued_one_or_forgets_the_pictures(
    server: DiscordApiServer, tmp_path: Path
):
    alice, bob = server.add_user("alice"), server.add_user("bob")
    painter = SteppedPainter(steps=4)
    async with bot_on(server, tmp_path, painter):
        dm = server.dm(alice)
        card = await progress_after(
            server, dm, press(server, alice, await send_pair(server, alice), "Light")
        )
        painter.allow()
        await server.await_edit(dm, card.id, contains="25%")
        bob_card = await progress_after(
            server, server.dm(bob), press(server, bob, await send_pair(server, bob), "Light")
        )

        queued = await command(server, bob, server.dm(bob), "cancel")
        assert queued.content == texts.CANCELLED_QUEUED
        await server.await_edit(server.dm(bob), bob_card.id, contains=texts.CANCELLED)

        running = await command(server, alice, dm, "cancel")
        assert running.content == texts.CANCELLING_RUNNING
        await server.await_edit(dm, card.id, contains=texts.CANCELLED)
        assert painter.cancelled.is_set()

        pictures = await command(server, alice, dm, "cancel")
        assert pictures.content == texts.PICTURES_DROPPED
        nothing = await command(server, alice, dm, "cancel")
        assert nothing.content.startswith(texts.NOTHING_TO_CANCEL)

    assert painter.painted == []


async def test_a_settings_choice_redraws_the_panel_and_is_used_by_the_next_job(
    server: DiscordApiServer, tmp_path: Path
):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    painter = RecordingPainter()
    async with bot_on(server, tmp_path, painter):
        panel = await command(server, alice, dm, "settings")
        assert "• " + texts.COLOURS_STYLE_BUTTON in labels(panel)

        chosen = press(server, alice, panel, texts.COLOURS_KEPT_BUTTON)
        assert (await note_for(server, chosen)).content == texts.PREFERENCE_SAVED
        redrawn = await server.await_edit(dm, panel.id, contains="your photo's, kept")
        assert "• " + texts.COLOURS_KEPT_BUTTON in labels(redrawn)
        assert texts.COLOURS_STYLE_BUTTON in labels(redrawn)  # unmarked now

        small = press(server, alice, redrawn, "Small")
        await server.await_edit(dm, panel.id, after=small, contains="• Size: Small")
        strong = press(server, alice, server.message(panel.id), "Strong")
        shown = await server.await_edit(dm, panel.id, after=strong, contains="Strong")
        marked = [label for label in labels(shown) if label.startswith("• ")]
        assert marked[0].startswith("• Small · ")
        assert marked[1:] == ["• " + texts.COLOURS_KEPT_BUTTON, "• Strong"]

        pair = await send_pair(server, alice)
        assert labels(pair)[:3] == ["Light", "Medium", "• Strong"], "the default strength"
        photo, _ = await result_after(server, dm, press(server, alice, pair, "Light"))

    assert [(o.size, o.keep_colours) for o in painter.painted] == [(Size.SMALL, True)]
    assert texts.COLOURS_KEPT in photo.content


async def test_keep_faces_toggles_in_settings_for_the_next_job_and_outlives_a_restart(
    server: DiscordApiServer, tmp_path: Path
):
    """The painter "finds" two faces in every photo and keeps them when the order asks."""
    alice = server.add_user("alice")
    dm = server.dm(alice)
    painter = RecordingPainter(faces=2)
    async with bot_on(server, tmp_path, painter):
        panel = await command(server, alice, dm, "settings")
        assert "• Faces: the person's features kept" in panel.content, "on unless turned off"
        assert texts.FACES_KEPT_BUTTON in labels(panel)
        pair = await send_pair(server, alice)
        photo, _ = await result_after(server, dm, press(server, alice, pair, "Light"))
        assert photo.content.endswith(" · 2 faces kept")

        chosen = press(server, alice, panel, texts.FACES_KEPT_BUTTON)
        assert (await note_for(server, chosen)).content == texts.PREFERENCE_SAVED
        redrawn = await server.await_edit(dm, panel.id, after=chosen, contains="like the rest")
        assert texts.FACES_PAINTED_BUTTON in labels(redrawn)
        assert texts.FACES_KEPT_BUTTON not in labels(redrawn)
        photo, _ = await result_after(server, dm, press(server, alice, pair, "Medium"))
        assert "face" not in photo.content, "no face kept: the caption says nothing of faces"
    assert [o.keep_faces for o in painter.painted] == [True, False]

    after = RecordingPainter(faces=2)
    async with bot_on(server, tmp_path, after):  # the same DATA_DIR
        panel = await command(server, alice, dm, "settings")
        assert "• Faces: painted like the rest" in panel.content
        assert texts.FACES_PAINTED_BUTTON in labels(panel)
        photo, _ = await result_after(server, dm, press(server, alice, pair, "Strong"))
        assert "face" not in photo.content
    assert [o.keep_faces for o in after.painted] == [False]


async def test_language_panel_switches_to_russian(server: DiscordApiServer, tmp_path: Path):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    async with bot_on(server, tmp_path):
        panel = await command(server, alice, dm, "language")
        assert labels(panel) == ["• English", "Русский"]
        chosen = press(server, alice, panel, "Русский")
        shown = await server.await_edit(dm, panel.id, after=chosen, contains="по-русски")
        assert labels(shown) == ["English", "• Русский"]

        status = await command(server, alice, dm, "status")
        assert status.content.startswith(RU(texts.STATUS_IDLE))
        sent = server.user_sends_message(alice, dm, attachments=[PHOTO])
        got = await server.await_message(dm, after=sent)
        assert (got.content, labels(got)) == (RU(texts.GOT_CONTENT), [RU(texts.GALLERY_BUTTON)])


@pytest.mark.parametrize("place", ["dm", "server"])
async def test_styles_browses_on_one_message(server: DiscordApiServer, tmp_path: Path, place: str):
    alice = server.add_user("alice")
    channel = where(server, alice, place)
    async with bot_on(server, tmp_path):
        gallery = await command(server, alice, channel, "styles")
        assert labels(gallery) == ["◀", "▶", texts.USE_PAINTING_BUTTON]
        first = gallery.attachments[0].data

        forward = press(server, alice, gallery, "▶")
        second = await server.await_edit(channel, gallery.id, after=forward, contains="2 of 12")
        assert second.attachments[0].data != first, "the next painting's picture"
        back = press(server, alice, second, "◀")
        await server.await_edit(channel, gallery.id, after=back, contains="1 of 12")
        around = press(server, alice, server.message(gallery.id), "◀")
        last = await server.await_edit(channel, gallery.id, after=around, contains="12 of 12")
        assert last.attachments[0].data == (FOLDER / "portrait_of_metzinger.jpg").read_bytes()

    shown = [m for m in server.messages(channel) if m.seq > gallery.seq and not m.ephemeral]
    assert shown == [], "browsing sends nothing new"


async def test_use_this_one_takes_the_painting_as_the_style(
    server: DiscordApiServer, tmp_path: Path
):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    painter = RecordingPainter()
    async with bot_on(server, tmp_path, painter):
        gallery = await command(server, alice, dm, "styles")
        forward = press(server, alice, gallery, "▶")
        await server.await_edit(dm, gallery.id, after=forward, contains="2 of 12")
        used = press(server, alice, server.message(gallery.id), texts.USE_PAINTING_BUTTON)
        assert (await note_for(server, used)).content == texts.PAINTING_CHOSEN_NOTE
        await server.await_message(dm, after=used, contains=texts.PAINTING_KEPT)

        sent = server.user_sends_message(alice, dm, attachments=[PHOTO])
        pair = await server.await_message(dm, after=sent, contains=texts.PAIR_READY)
        await result_after(server, dm, press(server, alice, pair, "Medium"))

    assert painter.seen == [(PHOTO.data, (FOLDER / "the_kiss.jpg").read_bytes())]
