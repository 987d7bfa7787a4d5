"""Delivery through trouble: Discord's 5xx answers, a 429 with its retry_after, a short
outage. Each result arrives exactly once, and a job card whose edits fail never stops its
job."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.service import ADOPT_EVERY_SECONDS
from tests.discord_chat import (
    bot_on,
    fake_discord,
    is_result_file,
    is_result_photo,
    press,
    progress_after,
    result_after,
    results_after,
    send_pair,
)
from tests.discordapi import DiscordApiServer, Sent
from tests.discordapi.records import Channel
from tests.discordapi.server import OutageMode
from tests.painters import SteppedPainter

OUTAGE = 0.8  # seconds: past the first retry of each layer


@pytest.fixture
def server() -> Iterator[DiscordApiServer]:
    with fake_discord() as fake:
        yield fake


def delivered_once(server: DiscordApiServer, dm: Channel, pressed: Sent) -> None:
    """One result photo, then one result file, since the press."""
    delivered = results_after(server, dm, pressed.marker)
    assert [(is_result_photo(m), is_result_file(m)) for m in delivered] == [
        (True, False),
        (False, True),
    ], [m.content for m in delivered]


async def test_the_result_goes_through_5xx_answers(server: DiscordApiServer, tmp_path: Path):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    painter = SteppedPainter(steps=2)
    async with bot_on(server, tmp_path, painter):
        pressed = press(server, alice, await send_pair(server, alice), "Light")
        card = await progress_after(server, dm, pressed)
        server.inject_error("edit_message", 500)  # an edit of the card
        # The result's photo: discord.py tries a 502 again by itself, a 503 is the bot's to.
        server.inject_error("create_message", 502)
        server.inject_error("create_message", 503)
        painter.allow(2)
        await result_after(server, dm, pressed)
        assert "Done in " in server.message(card.id).content

    failed = [(c.route, c.status) for c in server.calls() if c.status >= 500]
    assert failed == [("edit_message", 500), ("create_message", 502), ("create_message", 503)]
    delivered_once(server, dm, pressed)


async def test_a_result_whose_answer_was_lost_is_not_sent_twice(
    server: DiscordApiServer, tmp_path: Path
):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    painter = SteppedPainter(steps=1)
    async with bot_on(server, tmp_path, painter):
        pressed = press(server, alice, await send_pair(server, alice), "Light")
        await progress_after(server, dm, pressed)
        injected = server.marker
        # Sent, yet answered 503 (discord.py tries a 500 again with the same nonce itself).
        server.inject_error("create_message", 503, lost=True)
        painter.allow()
        await result_after(server, dm, pressed)  # a second photo would come before the file

    tries = [c for c in server.calls("create_message") if c.seq > injected]
    assert [c.status for c in tries][:2] == [503, 200], "tried again"
    delivered_once(server, dm, pressed)


async def test_the_result_waits_out_a_429_with_its_retry_after(
    server: DiscordApiServer, tmp_path: Path
):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    painter = SteppedPainter(steps=2)
    async with bot_on(server, tmp_path, painter):
        pressed = press(server, alice, await send_pair(server, alice), "Light")
        await progress_after(server, dm, pressed)
        server.rate_limit("POST /channels/{channel_id}/messages", retry_after=0.6)
        painter.allow(2)
        await result_after(server, dm, pressed)

    sends = [c for c in server.calls("create_message") if c.seq > pressed.marker]
    limited = [c for c in sends if c.status == 429]
    assert len(limited) == 1, "one 429, and no retry before its retry_after"
    after = sends[sends.index(limited[0]) + 1]
    assert after.ok and after.at - limited[0].at >= 0.6
    delivered_once(server, dm, pressed)


@pytest.mark.parametrize("mode", ["reset", "refused"])  # a 502 page: as in the test above
async def test_the_result_goes_through_a_short_outage(
    server: DiscordApiServer, tmp_path: Path, mode: OutageMode
):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    painter = SteppedPainter(steps=2)
    async with bot_on(server, tmp_path, painter):
        pressed = press(server, alice, await send_pair(server, alice), "Light")
        card = await progress_after(server, dm, pressed)
        began = time.monotonic()
        server.outage(OUTAGE, mode=mode)
        painter.allow(2)
        _, file = await result_after(server, dm, pressed, timeout=30)
        assert "Done in " in server.message(card.id).content

    sent = next(c for c in server.calls("create_message") if c.response["id"] == str(file.id))
    assert began + OUTAGE <= sent.at, "sent once Discord was back"
    # Tried again within seconds, not left for the next round of adopting jobs.
    assert sent.at < began + OUTAGE + ADOPT_EVERY_SECONDS / 3
    assert mode == "refused" or server.outage_hits > 0, "the outage was met"
    delivered_once(server, dm, pressed)


@pytest.mark.parametrize(
    ("status", "code"),
    [(404, 10008), (403, 50001), (400, 50035)],
    ids=["gone", "forbidden", "refused"],
)
async def test_failing_card_edits_never_stop_the_job(
    server: DiscordApiServer, tmp_path: Path, status: int, code: int
):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    painter = SteppedPainter(steps=3)
    async with bot_on(server, tmp_path, painter):
        pressed = press(server, alice, await send_pair(server, alice), "Light")
        card = await progress_after(server, dm, pressed)
        server.inject_error("edit_message", status, code=code, times=50)
        painter.allow(3)
        _, file = await result_after(server, dm, pressed)

    assert [c.status for c in server.calls("edit_message")][:1] == [status], "edits failed"
    assert server.message(card.id).edit_count == 0
    assert [a.filename for a in file.attachments] == ["stylized-light.png"]
    assert len(painter.painted) == 1
    delivered_once(server, dm, pressed)
