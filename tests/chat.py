"""The bot tests' shared vocabulary: who is chatting, fixture types, and steps of the chat.

Steps here read like what a user does ("press a strength", "wait until it paints"); the
Bot API server in ``tests.botapi`` knows nothing of this bot, these helpers do.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import pytest
from PIL import Image

import worker.painter
from bot import buttons, texts
from bot.telegram.context import BotApplication
from engine import Progress, Result, StyleOptions, stylize
from tests.botapi import BotApiServer, BotMessage, Sent

ALICE, BOB, CAROL, DAVE = 1001, 1002, 1003, 1004
GROUP = -1002003
BOT_TOKEN = "123456:TEST-token-for-tests"

#: ``async with start_bot(queue=None, **settings) as app``: the bot on the test server.
StartBot = Callable[..., contextlib.AbstractAsyncContextManager[BotApplication]]


class SendPair(Protocol):
    """``pair = await send_pair(user)``: the user sends a photo and a style; the bot's pair."""

    def __call__(
        self,
        user_id: int,
        content: bytes | None = None,
        style: bytes | None = None,
        *,
        group: int | None = None,
    ) -> Awaitable[BotMessage]: ...


def sealed(user_id: int, data: str) -> str:
    """Callback data ``action:id[:strength]`` sealed for ``user_id`` as the bot seals it:
    what only the bot can make (the tests know its token, an attacker does not)."""
    owner = buttons.Owner(user_id, buttons.button_key(BOT_TOKEN))
    return f"{data}:{owner.tag(data)}"


def labels(message: BotMessage) -> list[str]:
    """The texts of a message's buttons, in order."""
    return [label for label, _ in message.buttons]


def in_group(group: int | None) -> dict[str, Any]:
    """Keyword arguments that put a user's message in ``group`` (none: the private chat)."""
    return {} if group is None else {"chat_id": group, "chat_type": "group"}


async def press_strength(
    telegram: BotApiServer, user: int, pair: BotMessage, label: str, *, group: int | None = None
) -> BotMessage:
    """Press a strength button; returns the progress message that appears."""
    press = telegram.user_presses_button(user, pair.message_id, label=label, chat_id=group)
    assert await telegram.await_button_answer(press) == texts.QUEUED_NOTE
    return await telegram.await_message(group or user, after=press, kind="photo")


async def painting(
    telegram: BotApiServer, chat_id: int, progress_id: int, timeout: float = 120
) -> BotMessage:
    """Wait until the progress message shows a percentage: the job is running."""
    return await telegram.await_edit(chat_id, progress_id, contains="%", timeout=timeout)


async def pending_jobs(application: BotApplication, timeout: float = 10) -> list[str]:
    """Jobs the bot has not finished with (told the user, delivered the picture), once
    the queue has settled: the bot acknowledges a job just after its last message."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        pending = [record.id for record in await application.bot_data.queue.unfinished()]
        if not pending or asyncio.get_running_loop().time() > deadline:
            return pending
        await asyncio.sleep(0.05)


async def assert_no_reply(
    telegram: BotApiServer, user: int, after: Sent | int, *, group: int | None = None
) -> None:
    """The bot sent nothing to the chat since ``after``.

    Proof, not a guess: the user then sends a command the bot does not know, and the bot
    handles one user's updates in order, one at a time, so once it is answered every earlier
    update *of this user* has been handled. Its answer, recognised by its words (a stray
    reply could come first), must be the only bot message since ``after``. (For another
    user's or a channel's update, wait until the bot has handled that update instead.)
    """
    chat_id = group or user
    barrier = telegram.user_sends_command(
        user, "/no_such_command", mention_bot=group is not None, **in_group(group)
    )
    answer = await telegram.await_message(chat_id, after=barrier, contains=texts.UNKNOWN_COMMAND)
    since = after.marker if isinstance(after, Sent) else after
    extra = [m for m in telegram.messages(chat_id) if since < m.seq and m.seq != answer.seq]
    assert not extra, f"unexpected replies: {[m.body for m in extra]}\n{telegram.dump(chat_id)}"


async def progress_noted(application: BotApplication, user: int) -> None:
    """Until the bot has noted the user's progress message on the job (it then resumes it)."""
    for _ in range(200):
        job = await application.bot_data.queue.job_of(str(user))
        if job is not None and job.meta.get("progress_message_id"):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"user {user}'s progress message was never noted on the job")


def watch_engine(
    monkeypatch: pytest.MonkeyPatch,
    *,
    on_run: Callable[[StyleOptions], object] | None = None,
    after_report: Callable[[Progress], object] | None = None,
) -> None:
    """The engine as the bot's painter calls it, with a test's hooks: ``on_run`` sees each
    run's options; ``after_report`` runs in the engine's thread after each progress report."""

    def stylize_watched(
        content: Image.Image,
        style: Image.Image,
        options: StyleOptions,
        on_progress: Callable[[Progress], None],
        cancel: threading.Event,
    ) -> Result:
        if on_run is not None:
            on_run(options)

        def report(progress: Progress) -> None:
            on_progress(progress)
            if after_report is not None:
                after_report(progress)

        return stylize(content, style, options, on_progress=report, cancel=cancel)

    monkeypatch.setattr(worker.painter, "stylize", stylize_watched)
