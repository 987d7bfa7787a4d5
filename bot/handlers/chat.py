"""The commands that talk about the conversation itself: /start and /help, /status, /cancel,
/stats for admins; and the answer to a button this bot no longer understands."""

from __future__ import annotations

import asyncio
import datetime as dtm
import math
import statistics

from jobqueue import JobState

from .. import texts
from ..context import BotData
from ..sessions import Stage
from ..turns import Turn
from .common import HINTS, session_of, translator_of


async def start(turn: Turn, data: BotData) -> None:
    """Say what the bot does and exactly what to send (also /help)."""
    session, t = session_of(turn, data), translator_of(turn, data)
    parts = [t(texts.INTRO)]
    if turn.in_group:  # on Discord a server, where the bot reads only slash commands
        parts.append(t(texts.SERVER_NOTE if data.platform == "discord" else texts.GROUP_NOTE))
    if session.stage is not Stage.NEED_CONTENT:
        parts.append(t(HINTS[session.stage]))
    await turn.reply("\n\n".join(parts))


async def status(turn: Turn, data: BotData) -> None:
    """Tell the user where their picture is: queued, painting, or nothing in the works."""
    session, t = session_of(turn, data), translator_of(turn, data)
    job = await data.queue.job_of(session.owner)
    if job is None:
        text = texts.with_hint(t(texts.STATUS_IDLE), t(HINTS[session.stage]))
    elif job.state is JobState.QUEUED:
        text = texts.status_queued(t, job.ahead)
    elif job.progress is None:
        text = t(texts.STATUS_STARTING)
    else:
        text = texts.status_painting(t, job.progress.fraction, job.progress.eta)
    await turn.reply(text)


async def cancel(turn: Turn, data: BotData) -> None:
    """Stop the user's queued or running job; with none, forget the collected pictures."""
    session, t = session_of(turn, data), translator_of(turn, data)
    queue = data.queue
    job = await queue.job_of(session.owner)
    if job is not None:
        was_waiting = job.state is JobState.QUEUED
        await queue.cancel(job.id)
        await turn.reply(t(texts.CANCELLED_QUEUED if was_waiting else texts.CANCELLING_RUNNING))
    elif session.stage is not Stage.NEED_CONTENT:
        session.clear()
        await turn.reply(t(texts.PICTURES_DROPPED))
    else:
        hint = t(HINTS[session.stage])
        await turn.reply(texts.with_hint(t(texts.NOTHING_TO_CANCEL), hint))


async def stats(turn: Turn, data: BotData) -> None:
    """For admins: the queue, today's jobs and the disk. Others never learn it exists."""
    if not data.settings.admin(data.who(turn.person.user_id)):
        await turn.reply(translator_of(turn, data)(texts.UNKNOWN_COMMAND))
        return
    midnight = dtm.datetime.now(dtm.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    numbers = await data.queue.stats(since=midnight.timestamp())
    times = sorted(numbers.durations)
    median = statistics.median(times) if times else None
    p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)] if times else None
    disk_mb = await asyncio.to_thread(data.limits.data_bytes) / 1024 / 1024
    await turn.reply(
        texts.stats(
            numbers.waiting,
            numbers.running,
            numbers.outcomes,
            median,
            p95,
            numbers.workers,
            disk_mb,
        ),
    )


def unknown_button(turn: Turn, data: BotData) -> str:
    """The answer to a press on a button whose data this bot did not make (or no longer
    understands): no :class:`Press` can be made of it, so the front-end answers it."""
    return translator_of(turn, data)(texts.UNKNOWN_BUTTON)
