"""A restart in the middle of jobs: the bot stops while one job paints and another waits, and
starts again on the same DATA_DIR. Each job's card says it is paused, then carries on in
place; each result is delivered once; the buttons sent before the restart still work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import texts
from jobqueue import Strength
from tests.discord_chat import (
    RecordingPainter,
    bot_on,
    fake_discord,
    is_progress,
    is_result_file,
    is_result_photo,
    pending_jobs,
    press,
    progress_after,
    progress_noted,
    result_after,
    results_after,
    send_pair,
)
from tests.discordapi import DiscordApiServer, Upload
from tests.painters import SteppedPainter
from tests.pictures import encode, noise, waves


@pytest.fixture
def server() -> Iterator[DiscordApiServer]:
    with fake_discord() as fake:
        yield fake


async def test_a_restart_mid_job_delivers_each_job_once_and_old_buttons_work(
    server: DiscordApiServer, tmp_path: Path
):
    alice, bob = server.add_user("alice"), server.add_user("bob")
    painter = SteppedPainter(steps=4)
    async with bot_on(server, tmp_path, painter) as client:
        alice_pair = await send_pair(server, alice)
        bob_pair = await send_pair(
            server,
            bob,
            Upload("noise.png", encode(noise()), "image/png"),
            Upload("waves.png", encode(waves()), "image/png"),
        )
        alice_pressed = press(server, alice, alice_pair, "Medium")
        alice_card = await progress_after(server, server.dm(alice), alice_pressed)
        painter.allow()
        await server.await_edit(server.dm(alice), alice_card.id, contains="25%")
        bob_pressed = press(server, bob, bob_pair, "Light")
        bob_card = await progress_after(server, server.dm(bob), bob_pressed)
        await progress_noted(client, bob)
    assert painter.cancelled.is_set(), "the painting job stopped with the bot"

    for card in (alice_card, bob_card):
        assert server.message(card.id).content == texts.RESTARTING
    stopped = server.marker

    after = RecordingPainter()
    async with bot_on(server, tmp_path, after) as client:
        for user, card in ((alice, alice_card), (bob, bob_card)):
            done = await server.await_edit(
                server.dm(user), card.id, after=stopped, contains="Done in "
            )
            assert done.buttons == []
            await result_after(server, server.dm(user), stopped)
            cards = [m for m in server.messages(server.dm(user)) if is_progress(m)]
            assert [m.id for m in cards] == [card.id], "the same card carries on"
        assert await pending_jobs(client) == []
    assert [o.strength for o in after.painted] == [Strength.MEDIUM, Strength.LIGHT]

    for user, pressed in ((alice, alice_pressed), (bob, bob_pressed)):
        delivered = results_after(server, server.dm(user), pressed.marker)
        assert [is_result_photo(m) for m in delivered] == [True, False], "one result, once"
        assert is_result_file(delivered[1])
    _, alice_result = results_after(server, server.dm(alice), alice_pressed.marker)

    again = RecordingPainter()
    async with bot_on(server, tmp_path, again):
        stronger = press(server, alice, alice_result, texts.STRONGER_BUTTON)
        _, strong = await result_after(server, server.dm(alice), stronger)
        assert [a.filename for a in strong.attachments] == ["stylized-strong.png"]
        swapped = press(server, bob, bob_pair, texts.SWAP_BUTTON)  # the first start's pair
        await server.await_edit(
            server.dm(bob), bob_pair.id, after=swapped, contains=texts.PAIR_SWAPPED
        )

    assert [o.strength for o in again.painted] == [Strength.STRONG]
