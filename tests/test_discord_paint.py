"""/paint in a server, where the bot reads no ordinary messages: the photo, the style (a
picture or a painting of the gallery) and the strength in one command; the pair in place of
"thinking…", then the job card and the result in the channel, as in a DM."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import texts
from bot.gallery import FOLDER
from jobqueue import Strength
from pictures import ImageProblem
from tests.discord_chat import (
    PHOTO,
    STYLE,
    RecordingPainter,
    answer_to,
    bot_on,
    fake_discord,
    is_progress,
    labels,
    png,
    press,
    progress_after,
    result_after,
    results_after,
)
from tests.discordapi import DiscordApiServer, Upload
from tests.painters import SteppedPainter
from tests.pictures import gradient


@pytest.fixture
def server() -> Iterator[DiscordApiServer]:
    with fake_discord() as fake:
        yield fake


async def test_paint_shows_the_pair_then_the_job_card_then_the_result(
    server: DiscordApiServer, tmp_path: Path
):
    alice = server.add_user("alice")
    channel = server.add_guild().channel("general")
    painter = SteppedPainter(steps=2)
    async with bot_on(server, tmp_path, painter):
        sent = server.user_runs_command(
            alice, channel, "paint", {"content": PHOTO, "style": STYLE, "strength": "Strong"}
        )
        pair = await answer_to(server, sent)
        assert pair.content == texts.PAIR_READY and pair.attachments
        assert labels(pair) == ["Light", "• Medium", "Strong", texts.SWAP_BUTTON, "✕ Cancel"]
        # A long job outlives the interaction's token: the rest goes with the bot's own.
        server.expire_interaction(sent)

        card = await progress_after(server, channel, sent)
        assert card.seq > pair.seq and card.guild_id == channel.guild_id
        painter.allow()
        await server.await_edit(channel, card.id, contains="Painting… 50%")
        painter.allow()
        await server.await_edit(channel, card.id, contains="Done in ")
        photo, file = await result_after(server, channel, sent)

    assert photo.content.startswith("Strong style")
    assert [a.filename for a in file.attachments] == ["stylized-strong.png"]
    assert labels(file) == [texts.LIGHTER_BUTTON, texts.NEW_PAIR_BUTTON]
    assert [order.strength for order in painter.painted] == [Strength.STRONG]
    edits = [c for c in server.calls("edit_message") if c.path.endswith(f"/{card.id}")]
    assert len(edits) >= 2 and all(c.ok for c in edits), "the card is edited in place"


async def test_paint_with_a_gallery_painting_as_the_style(server: DiscordApiServer, tmp_path: Path):
    alice = server.add_user("alice")
    channel = server.add_guild().channel("general")
    painter = RecordingPainter()
    async with bot_on(server, tmp_path, painter):
        painting = "The Kiss (Gustav Klimt)"
        options = {"content": PHOTO, "painting": painting, "strength": "light"}
        sent = server.user_runs_command(alice, channel, "paint", options)
        pair = await answer_to(server, sent)
        assert pair.content == texts.PAIR_READY
        await result_after(server, channel, sent)

    assert painter.seen == [(PHOTO.data, (FOLDER / "the_kiss.jpg").read_bytes())]
    choices = [c["name"] for c in server.command("paint")["options"][3]["choices"]]
    assert len(choices) == 12 and painting in choices


async def test_paint_without_a_style_says_what_is_missing(server: DiscordApiServer, tmp_path: Path):
    alice = server.add_user("alice")
    channel = server.add_guild().channel("general")
    painter = RecordingPainter()
    async with bot_on(server, tmp_path, painter):
        sent = server.user_runs_command(
            alice, channel, "paint", {"content": PHOTO, "strength": "medium"}
        )
        answer = await answer_to(server, sent)
        await server.await_no_message(channel, after=answer.seq, within=0.3)

    assert answer.content == texts.PAINT_NEEDS_STYLE
    assert answer.buttons == [] and answer.attachments == ()
    assert server.downloads() == [], "nothing downloaded for a command that cannot run"
    assert painter.seen == []


async def test_paint_with_a_content_that_is_not_a_picture(server: DiscordApiServer, tmp_path: Path):
    alice = server.add_user("alice")
    channel = server.add_guild().channel("general")
    painter = RecordingPainter()
    notes = Upload("notes.pdf", b"%PDF-1.4 not a picture", "application/pdf")
    async with bot_on(server, tmp_path, painter):
        options = {"content": notes, "style": STYLE, "strength": "medium"}
        sent = server.user_runs_command(alice, channel, "paint", options)
        answer = await answer_to(server, sent)
        await server.await_no_message(channel, after=answer.seq, within=0.3)

    assert answer.content == texts.NOT_AN_IMAGE_FILE
    assert server.downloads() == []
    assert painter.seen == []


async def test_paint_with_a_broken_style_keeps_the_earlier_pair(
    server: DiscordApiServer, tmp_path: Path
):
    alice = server.add_user("alice")
    channel = server.add_guild().channel("general")
    painter = RecordingPainter()
    broken = Upload("style.png", b"\x89PNG\r\n\x1a\n but no picture", "image/png")
    async with bot_on(server, tmp_path, painter):
        options = {"content": PHOTO, "style": STYLE, "strength": "medium"}
        first = server.user_runs_command(alice, channel, "paint", options)
        _, result = await result_after(server, channel, first)

        other = png("other.png", gradient(50, 50))
        options = {"content": other, "style": broken, "strength": "light"}
        sent = server.user_runs_command(alice, channel, "paint", options)
        answer = await answer_to(server, sent)
        assert answer.content == texts.IMAGE_PROBLEMS[ImageProblem.UNREADABLE]

        again = press(server, alice, result, texts.LIGHTER_BUTTON)
        await result_after(server, channel, again)

    assert painter.seen == [(PHOTO.data, STYLE.data)] * 2, "the earlier pair, painted again"


async def test_paint_while_a_job_runs_is_refused_and_the_job_goes_on(
    server: DiscordApiServer, tmp_path: Path
):
    alice = server.add_user("alice")
    channel = server.add_guild().channel("general")
    painter = SteppedPainter(steps=2)
    async with bot_on(server, tmp_path, painter):
        options = {"content": PHOTO, "style": STYLE, "strength": "medium"}
        first = server.user_runs_command(alice, channel, "paint", options)
        card = await progress_after(server, channel, first)

        second = server.user_runs_command(alice, channel, "paint", options)
        pair = await answer_to(server, second)
        assert pair.content == texts.PAIR_READY
        refusal = await server.await_message(channel, after=second, contains=texts.ALREADY_ANOTHER)
        assert not any(is_progress(m) for m in server.messages(channel) if m.seq > second.marker)

        painter.allow(2)
        await server.await_edit(channel, card.id, contains="Done in ")
        await result_after(server, channel, first)

    assert refusal.seq > pair.seq
    assert len(results_after(server, channel, first.marker)) == 2
