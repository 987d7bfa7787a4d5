"""Load: fifty users, two pictures each, at once, through the tests' Bot API server.

The engine paints at its smallest so that the bot's side (sessions, queue, progress edits,
deliveries) is what is loaded. Every result must arrive exactly once, no one's place in the
queue may ever go up, and /status must stay quick throughout.
"""

from __future__ import annotations

import asyncio
import re
import resource
import time

import pytest

from bot import texts
from tests.botapi import BotApiServer
from tests.chat import SendPair, StartBot, pending_jobs

pytestmark = pytest.mark.slow

USERS = tuple(range(3001, 3051))
PROBE = 3999  # a user who only asks /status, all along
RESULT_TIMEOUT = 600
PLACE = re.compile(r"Queued — (\d+) ahead")
#: Fifty people who turn up within about seventeen seconds. Each costs the bot about ten
#: messages (answers, pair, progress, result photo and file, twice over), and Telegram takes
#: 30 a second from a bot: this is about two thirds of what the bot may send. (Sooner, and
#: everything, /status answers included, waits its turn at Telegram's rate limit.)
ARRIVALS_PER_SECOND = 3


async def paint_twice(
    telegram: BotApiServer, send_pair: SendPair, user: int, arrives: float
) -> None:
    await asyncio.sleep(arrives)
    pair = await send_pair(user)
    press = telegram.user_presses_button(user, pair.message_id, label="Medium")
    assert await telegram.await_button_answer(press) == texts.QUEUED_NOTE
    first = await telegram.await_message(user, kind="document", timeout=RESULT_TIMEOUT)
    press = telegram.user_presses_button(user, first.message_id, label="Stronger")
    assert await telegram.await_button_answer(press) == texts.QUEUED_NOTE
    await telegram.await_message(user, after=first.seq, kind="document", timeout=RESULT_TIMEOUT)


async def probe_status(telegram: BotApiServer, stop: asyncio.Event) -> list[float]:
    """/status every half second until ``stop``; how long each answer took."""
    latencies = []
    while not stop.is_set():
        started = time.monotonic()
        sent = telegram.user_sends_command(PROBE, "/status")
        await telegram.await_message(PROBE, after=sent, timeout=30)
        latencies.append(time.monotonic() - started)
        await asyncio.sleep(0.5)
    return latencies


async def test_fifty_users_two_pictures_each(
    start_bot: StartBot, telegram: BotApiServer, send_pair: SendPair
):
    settings = {"engine_max_side": 32, "engine_steps": 2, "queue_max": 100, "progress_interval": 1}
    async with start_bot(**settings) as application:
        stop = asyncio.Event()
        prober = asyncio.create_task(probe_status(telegram, stop))
        started = time.monotonic()
        await asyncio.gather(
            *(
                paint_twice(telegram, send_pair, user, index / ARRIVALS_PER_SECOND)
                for index, user in enumerate(USERS)
            )
        )
        elapsed = time.monotonic() - started
        stop.set()
        latencies = await prober
        assert await pending_jobs(application) == []  # each delivered and let go

    assert max(latencies) < 1.0, f"/status took up to {max(latencies):.2f} s"
    for user in USERS:
        messages = telegram.messages(user)
        assert sum(m.kind == "document" for m in messages) == 2, telegram.dump(user)
        for message in messages:
            places = [int(m[1]) for _, body in message.versions if (m := PLACE.search(body))]
            assert places == sorted(places, reverse=True), (user, places)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\n100 jobs for 50 users in {elapsed:.1f} s; /status at most {max(latencies):.2f} s "
        f"(median {sorted(latencies)[len(latencies) // 2]:.2f} s); peak memory of the test "
        f"process (bot, engine and fake server) {peak_mb:.0f} MB"
    )
