"""Trust on Discord: in a server everyone sees everyone's buttons, and a modified client can
send any data, so buttons act for their owner only; ALLOWED_USERS and ADMIN_USERS name
Discord users as ``discord:<id>``, never to be mistaken for a Telegram user's number."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import texts
from tests.discord_chat import (
    PHOTO,
    STYLE,
    RecordingPainter,
    answer_to,
    bot_on,
    button,
    command,
    fake_discord,
    labels,
    note_for,
    press,
    progress_after,
    result_after,
    sealed,
    send_pair,
)
from tests.discordapi import DiscordApiServer
from tests.discordapi.records import BotMessage, Sent, User
from tests.painters import SteppedPainter

FILM = b"GIF89a a film"


@pytest.fixture
def server() -> Iterator[DiscordApiServer]:
    with fake_discord() as fake:
        yield fake


async def refused(server: DiscordApiServer, sent: Sent, note: str = texts.NOT_YOUR_BUTTON) -> None:
    """The press got a note only its presser sees, and nothing else happened."""
    answer = await note_for(server, sent)
    assert answer.content == note
    await asyncio.sleep(0.2)
    since = [m for m in server.messages(sent.channel_id) if m.seq > sent.marker]
    assert [m.id for m in since] == [answer.id], [m.content for m in since]
    pressed = server.message(sent.message_id)
    assert pressed.versions[-1].marker < sent.marker, f"{pressed.content!r} was edited"


async def test_nobody_else_can_press_alices_buttons(server: DiscordApiServer, tmp_path: Path):
    alice, bob = server.add_user("alice"), server.add_user("bob")
    channel = server.add_guild().channel("general")
    painter = SteppedPainter(steps=2, film=FILM)
    async with bot_on(server, tmp_path, painter):
        settings = await command(server, alice, channel, "settings")
        gallery = await command(server, alice, channel, "styles")
        options = {"content": PHOTO, "style": STYLE, "strength": "medium"}
        sent = server.user_runs_command(alice, channel, "paint", options)
        pair = await answer_to(server, sent)
        card = await progress_after(server, channel, sent)

        for message, label in [
            (pair, "Strong"),
            (pair, texts.SWAP_BUTTON),
            (pair, "✕ Cancel"),
            (card, texts.STOP_BUTTON),
            (settings, "Small"),
            (gallery, "▶"),
            (gallery, texts.USE_PAINTING_BUTTON),
        ]:
            await refused(server, press(server, bob, message, label))

        painter.allow(2)
        _, result = await result_after(server, channel, sent)
        for label in labels(result):
            await refused(server, press(server, bob, result, label))

        bobs_status = await command(server, bob, channel, "status")
        assert bobs_status.content == f"{texts.STATUS_IDLE} {texts.NEED_CONTENT}"
        alices_settings = await command(server, alice, channel, "settings")
        assert alices_settings.content == settings.content, "her settings unchanged"

    assert len(painter.painted) == 1 and not painter.cancelled.is_set()


def forged_press(server: DiscordApiServer, user: User, message: BotMessage, data: str) -> Sent:
    """``user``'s modified client sends ``data`` as if pressed on ``message``."""
    return server.user_presses(user, message, data, forged=True)


async def test_forged_button_data_is_refused(server: DiscordApiServer, tmp_path: Path):
    alice, bob = server.add_user("alice"), server.add_user("bob")
    dm = server.dm(alice)
    painter = SteppedPainter(steps=1, film=FILM)
    painter.allow(5)
    async with bot_on(server, tmp_path, painter):
        pair = await send_pair(server, alice)
        payload = (button(pair, "Strong").custom_id or "").rpartition(":")[0]
        bobs_pair = await send_pair(server, bob)
        bobs_tag = (button(bobs_pair, "Strong").custom_id or "").rpartition(":")[2]

        for user in (bob, alice):  # Alice's data with a made-up tag
            await refused(server, forged_press(server, user, pair, f"{payload}:{'A' * 12}"))
        # Alice's pair, sealed with the tag of Bob's own button.
        await refused(server, forged_press(server, bob, pair, f"{payload}:{bobs_tag}"))
        # Alice's pair sealed for Bob (the tests know the bot's key; an attacker does not):
        # the seal is Bob's, but the pair is not.
        bobs_seal = forged_press(server, bob, pair, sealed(server, bob, payload))
        await refused(server, bobs_seal, texts.STALE_BUTTON)

        _, result = await result_after(server, dm, press(server, alice, pair, "Light"))
        film = (button(result, "Making-of").custom_id or "").rsplit(":", 1)[0]
        # Even with a seal for Bob, Alice's film stays hers (the queue says whose job it is).
        bobs_film = forged_press(server, bob, result, sealed(server, bob, film))
        await refused(server, bobs_film, texts.MAKING_OF_GONE)

    assert len(painter.painted) == 1


@pytest.mark.parametrize(
    ("custom_id", "note"),
    [
        ("not-ours", texts.UNKNOWN_BUTTON),
        ("paint:0a:AAAAAAAAAAAA", texts.UNKNOWN_BUTTON),  # our shape, but no strength
        ("gal:ff:AAAAAAAAAAAA", texts.NOT_YOUR_BUTTON),  # our shape, a made-up seal
    ],
    ids=["foreign", "shaped-like-ours", "made-up-seal"],
)
async def test_a_button_this_bot_never_made_is_answered(
    server: DiscordApiServer, tmp_path: Path, custom_id: str, note: str
):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    async with bot_on(server, tmp_path):
        pair = await send_pair(server, alice)
        sent = forged_press(server, alice, pair, custom_id)
        await refused(server, sent, note)
        record = server.interaction(sent)
        assert record.response_type == 6, "acknowledged without a visible change"
        # The bot goes on as before.
        _, result = await result_after(server, dm, press(server, alice, pair, "Light"))
        assert result.attachments


def allowed_only(user: User) -> dict[str, frozenset[str]]:
    return {"allowed_users": frozenset({f"discord:{user.id}"})}


async def test_allowed_users_lets_only_that_discord_user_in(
    server: DiscordApiServer, tmp_path: Path
):
    alice, stranger = server.add_user("alice"), server.add_user("stranger")
    channel = server.add_guild().channel("general")
    async with bot_on(server, tmp_path, **allowed_only(alice)):
        pair = await send_pair(server, alice)

        dm = server.dm(stranger)
        sent = server.user_sends_message(stranger, dm, attachments=[PHOTO])
        turned_away = await server.await_message(dm, after=sent)
        await server.await_no_message(dm, after=turned_away.seq, within=0.2)
        answer = await command(server, stranger, dm, "start")
        in_server = await command(
            server,
            stranger,
            channel,
            "paint",
            {"content": PHOTO, "style": STYLE, "strength": "light"},
        )
        pressed = press(server, stranger, pair, "Strong")
        note = await note_for(server, pressed)

    for said in (turned_away, answer, in_server, note):
        assert said.content == texts.NOT_ALLOWED
    assert not note.buttons
    uploaded = {int(a["id"]) for a in sent.payload["attachments"]}
    assert not uploaded & set(server.downloads()), "nothing of a stranger's is downloaded"
    kept = tmp_path / "data" / "discord"
    only_alice = [f"{server.dm(alice).id}_{alice.id}"]
    assert [p.name for p in (kept / "sessions").iterdir()] == only_alice
    with contextlib.closing(sqlite3.connect(kept / "sessions.sqlite3")) as database:
        users = {row[0] for row in database.execute("SELECT user_id FROM sessions")}
        users |= {row[0] for row in database.execute("SELECT user_id FROM preferences")}
    assert stranger.id not in users, "nothing of a stranger's is kept"


async def test_a_telegram_id_does_not_admit_the_discord_user_of_that_number(
    server: DiscordApiServer, tmp_path: Path
):
    bob = server.add_user("bob")
    dm = server.dm(bob)
    telegram_bob = {"allowed_users": frozenset({str(bob.id)})}
    async with bot_on(server, tmp_path, **telegram_bob):
        answer = await command(server, bob, dm, "status")

    assert answer.content == texts.NOT_ALLOWED


async def test_admins_are_exempt_from_the_daily_quota(server: DiscordApiServer, tmp_path: Path):
    alice, bob = server.add_user("alice"), server.add_user("bob")
    limits = {
        "jobs_per_user_per_day": 1,
        "admin_users": frozenset({f"discord:{alice.id}", str(bob.id)}),  # Bob's is a Telegram id
    }
    painter = RecordingPainter()
    async with bot_on(server, tmp_path, painter, **limits):
        for user in (alice, bob):
            dm = server.dm(user)
            pair = await send_pair(server, user)
            _, result = await result_after(server, dm, press(server, user, pair, "Light"))
            again = press(server, user, result, texts.STRONGER_BUTTON)
            if user is alice:
                await result_after(server, dm, again)
            else:
                note = await note_for(server, again)
                assert note.content.startswith("That's your 1 picture for today.")

    assert len(painter.painted) == 3
