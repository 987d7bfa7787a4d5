"""The bot's Discord front-end against the fake Discord (``tests.discordapi``): fixtures'
helpers and the users' moves, as ``tests.chat`` is for Telegram.

Steps read like what a user does: ``send_pair`` (a photo, then a style), ``press`` a button
by its label, ``note_for`` (the note only the presser sees), ``answer_to`` (what took the
place of a slash command's "thinking…"), ``progress_after`` and ``result_after``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import buttons, service, texts
from bot.buttons import Action
from bot.discord.app import StyleBotClient
from bot.discord.run import connected
from config.settings import NO_TOKEN, Secret, Settings
from jobqueue import JobOrder, JobQueue, Painted, Report
from jobqueue.embedded import EmbeddedQueue
from tests.discordapi import DiscordApiServer, Upload, discord_py_pointed_at
from tests.discordapi.records import BotMessage, Button, Channel, Sent, User
from tests.painters import FakePainter, SteppedPainter
from tests.pictures import encode, gradient, stripes

#: The engine at its smallest, as for Telegram's tests.
TINY_ENGINE: dict[str, Any] = {
    "engine_device": "cpu",
    "engine_max_side": 64,
    "engine_steps": 6,
    "progress_interval": 0.3,
    "preview_interval": 0.0,
}

#: What a user attaches when the picture itself is not the point.
PHOTO = Upload("photo.png", encode(gradient(72, 40)), "image/png")
STYLE = Upload("style.png", encode(stripes()), "image/png")


# ---- the fake Discord and the bot on it ---------------------------------------------------------


@contextlib.contextmanager
def fake_discord(**options: Any) -> Iterator[DiscordApiServer]:
    """The fake Discord with discord.py pointed at it; a bug of the fake fails the test."""
    with DiscordApiServer(**options) as server, discord_py_pointed_at(server):
        yield server
    assert not server.internal_errors, "\n".join(server.internal_errors)


def discord_settings(server: DiscordApiServer, data_dir: Path, **overrides: Any) -> Settings:
    """Settings of a bot on Discord only, pointed at ``server``."""
    values: dict[str, Any] = {
        "bot_token": Secret(NO_TOKEN),
        "discord_token": Secret(server.token),
        "discord_api_base": server.api_base,
        "discord_gateway_url": server.gateway_url,
        "data_dir": data_dir,
        **TINY_ENGINE,
        **overrides,
    }
    return Settings(**values)


@contextlib.asynccontextmanager
async def discord_bot(
    server: DiscordApiServer, data_dir: Path, queue: JobQueue | None = None, **overrides: Any
) -> AsyncIterator[StyleBotClient]:
    """The bot on ``server``, alone in its process (it opens and closes the shared parts),
    ready: its commands listed, its gateway session READY. Without ``queue``, the real (tiny)
    engine paints.

    Ready as Discord sees it: discord.py calls itself ready only after 2 s without a
    GUILD_CREATE, but it handles events from READY on, as the bot does with real users."""
    settings = discord_settings(server, data_dir, **overrides)
    shared = service.shared(settings, queue)
    await service.open_shared(shared)
    client = StyleBotClient(shared)
    marker = server.marker
    try:
        async with connected(client, server.token):
            await server.await_ready(after=marker, timeout=10)
            yield client
    finally:
        await service.close_shared(shared)


def bot_on(
    server: DiscordApiServer,
    tmp_path: Path,
    painter: FakePainter | SteppedPainter | None = None,
    /,
    **overrides: Any,
) -> contextlib.AbstractAsyncContextManager[StyleBotClient]:
    """:func:`discord_bot` on ``tmp_path / "data"`` (every start of one test shares it, as a
    restarted bot would), painted by ``painter`` (a :class:`RecordingPainter` unless given)."""
    data = tmp_path / "data"
    queue = painted_by(data, painter if painter is not None else RecordingPainter())
    return discord_bot(server, data, queue, **overrides)


def painted_by(data_dir: Path, painter: FakePainter | SteppedPainter) -> EmbeddedQueue:
    """The embedded queue on ``data_dir`` (where the bot keeps it), painted by a test painter."""
    return EmbeddedQueue(data_dir, painter)


@dataclass
class RecordingPainter(FakePainter):
    """A :class:`FakePainter` (the result: the photo inverted) that notes the pictures of
    each job it paints, as (content, style)."""

    seen: list[tuple[bytes, bytes]] = field(default_factory=list)

    def __call__(
        self, content: bytes, style: bytes, order: JobOrder, report: Report, cancel: threading.Event
    ) -> Painted:
        self.seen.append((content, style))
        return super().__call__(content, style, order, report, cancel)


async def progress_noted(client: StyleBotClient, user: User) -> None:
    """Until the bot has noted the user's job card on their job (a restart resumes it)."""
    for _ in range(200):
        job = await client.data.queue.job_of(f"discord:{user.id}")
        if job is not None and job.meta.get("progress_message_id"):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"user {user.id}'s job card was never noted on the job")


async def pending_jobs(client: StyleBotClient, timeout: float = 10) -> list[str]:
    """Jobs the bot has not finished with, once the queue has settled: the bot acknowledges
    a job just after its last message."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        pending = [record.id for record in await client.data.queue.unfinished()]
        if not pending or asyncio.get_running_loop().time() > deadline:
            return pending
        await asyncio.sleep(0.05)


# ---- what users send and press ------------------------------------------------------------------


def png(name: str = "photo.png", image: Any = None) -> Upload:
    """A PNG attachment (a gradient unless ``image`` is given)."""
    return Upload(name, encode(image if image is not None else gradient(72, 40)), "image/png")


async def send_pair(
    server: DiscordApiServer, user: User, content: Upload = PHOTO, style: Upload = STYLE
) -> BotMessage:
    """In the user's DM: the photo, then the style; the pair the bot shows."""
    dm = server.dm(user)
    sent = server.user_sends_message(user, dm, attachments=[content])
    await server.await_message(dm, after=sent, contains=texts.GOT_CONTENT)
    sent = server.user_sends_message(user, dm, attachments=[style])
    return await server.await_message(dm, after=sent, contains=texts.PAIR_READY)


def button(message: BotMessage, label: str) -> Button:
    """The button labelled ``label`` (marks such as • aside) on ``message``."""
    found = [b for b in message.buttons if b.label is not None and label in b.label]
    assert found, f"no button {label!r} on {labels(message)}"
    return found[0]


def labels(message: BotMessage) -> list[str]:
    """The labels of a message's buttons, in reading order."""
    return [b.label or "" for b in message.buttons]


def press(
    server: DiscordApiServer, user: User, message: BotMessage, label: str, **options: Any
) -> Sent:
    """``user`` presses the button labelled ``label`` on ``message`` (as it shows now)."""
    current = server.message(message.id)
    return server.user_presses(user, current, button(current, label).custom_id or "", **options)


def sealed(server: DiscordApiServer, user: User, data: str) -> str:
    """Button data ``action:subject[:strength]`` sealed for ``user`` as the bot seals it: what
    only the bot can make (the tests know its token, an attacker does not)."""
    owner = buttons.Owner(user.id, buttons.button_key(server.token))
    return f"{data}:{owner.tag(data)}"


def answers_of(sent: Sent) -> Callable[[BotMessage], bool]:
    """Whether a message answers the interaction ``sent`` (its response or a follow-up)."""
    return lambda message: message.interaction_id == sent.interaction_id


async def note_for(server: DiscordApiServer, sent: Sent, timeout: float = 15) -> BotMessage:
    """The note answering a press: a message only the presser sees."""
    note = await server.await_message(
        sent.channel_id,
        after=sent,
        where=lambda m: answers_of(sent)(m) and m.via == "followup",
        timeout=timeout,
    )
    assert note.ephemeral, f"the note {note.content!r} is shown to everyone"
    return note


async def answer_to(server: DiscordApiServer, sent: Sent, timeout: float = 15) -> BotMessage:
    """What took the place of a slash command's "thinking…" (its edited original response)."""
    record = await server.await_interaction_response(sent, timeout=timeout)
    assert record.original_message_id is not None
    return await server.await_edit(
        sent.channel_id,
        record.original_message_id,
        where=lambda m: not m.loading,
        timeout=timeout,
    )


async def command(
    server: DiscordApiServer,
    user: User,
    channel: Channel,
    name: str,
    options: dict[str, Any] | None = None,
    **more: Any,
) -> BotMessage:
    """``user`` runs /``name``; the bot's answer in place of "thinking…"."""
    sent = server.user_runs_command(user, channel, name, options, **more)
    return await answer_to(server, sent)


# ---- what the bot shows -------------------------------------------------------------------------


async def progress_after(server: DiscordApiServer, channel: Channel, sent: Sent) -> BotMessage:
    """The job card (the progress message) that a press or /paint opened."""
    return await server.await_message(channel, after=sent, where=is_progress)


def is_progress(message: BotMessage) -> bool:
    """A job card: sent with one button, to stop the job."""
    first = message.versions[0]
    return [(b.custom_id or "").split(":")[0] for b in first.buttons] == [Action.STOP.value]


def is_result_file(message: BotMessage) -> bool:
    return any(a.filename.startswith("stylized-") for a in message.attachments)


def is_result_photo(message: BotMessage) -> bool:
    """A picture that never had buttons (the job card loses its Stop button at the end)."""
    pictures = any(a.filename == "picture.jpg" for a in message.attachments)
    return pictures and not any(version.buttons for version in message.versions)


async def result_after(
    server: DiscordApiServer, channel: Channel, after: Sent | int, timeout: float = 30
) -> tuple[BotMessage, BotMessage]:
    """The result: its photo, then its lossless file with the buttons."""
    file = await server.await_message(channel, after=after, where=is_result_file, timeout=timeout)
    photo = await server.await_message(channel, after=after, where=is_result_photo, timeout=1)
    assert photo.seq < file.seq, "the photo comes first, then the file"
    return photo, file


def results_after(server: DiscordApiServer, channel: Channel, after: int) -> list[BotMessage]:
    """Every result photo and file the bot has sent in ``channel`` since the marker."""
    return [
        m
        for m in server.messages(channel)
        if m.seq > after and (is_result_file(m) or is_result_photo(m))
    ]
