"""The commands that talk about the conversation itself: /start and /help, /status, /cancel,
/stats for admins; and the answer to a button this bot no longer understands."""

from __future__ import annotations

import asyncio
import datetime as dtm
import math
import statistics

from telegram import Update

from jobqueue import JobState

from .. import texts
from ..context import Context
from ..sessions import Stage
from .common import HINTS, answer, in_group, reply, session_of, translator_of


async def start(update: Update, context: Context) -> None:
    """Say what the bot does and exactly what to send (also /help)."""
    session, t = session_of(update, context), translator_of(update, context)
    parts = [t(texts.INTRO)]
    if in_group(update):
        parts.append(t(texts.GROUP_NOTE))
    if session.stage is not Stage.NEED_CONTENT:
        parts.append(t(HINTS[session.stage]))
    await reply(update, "\n\n".join(parts))


async def status(update: Update, context: Context) -> None:
    """Tell the user where their picture is: queued, painting, or nothing in the works."""
    session, t = session_of(update, context), translator_of(update, context)
    job = await context.bot_data.queue.job_of(session.owner)
    if job is None:
        text = texts.with_hint(t(texts.STATUS_IDLE), t(HINTS[session.stage]))
    elif job.state is JobState.QUEUED:
        text = texts.status_queued(t, job.ahead)
    elif job.progress is None:
        text = t(texts.STATUS_STARTING)
    else:
        text = texts.status_painting(t, job.progress.fraction, job.progress.eta)
    await reply(update, text)


async def cancel(update: Update, context: Context) -> None:
    """Stop the user's queued or running job; with none, forget the collected pictures."""
    session, t = session_of(update, context), translator_of(update, context)
    queue = context.bot_data.queue
    job = await queue.job_of(session.owner)
    if job is not None:
        was_waiting = job.state is JobState.QUEUED
        await queue.cancel(job.id)
        await reply(update, t(texts.CANCELLED_QUEUED if was_waiting else texts.CANCELLING_RUNNING))
    elif session.stage is not Stage.NEED_CONTENT:
        session.clear()
        await reply(update, t(texts.PICTURES_DROPPED))
    else:
        hint = t(HINTS[session.stage])
        await reply(update, texts.with_hint(t(texts.NOTHING_TO_CANCEL), hint))


async def stats(update: Update, context: Context) -> None:
    """For admins: the queue, today's jobs and the disk. Others never learn it exists."""
    user = update.effective_user
    settings = context.bot_data.settings
    if user is None or not settings.admin(user.id):
        await reply(update, translator_of(update, context)(texts.UNKNOWN_COMMAND))
        return
    data = context.bot_data
    midnight = dtm.datetime.now(dtm.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    numbers = await data.queue.stats(since=midnight.timestamp())
    times = sorted(numbers.durations)
    median = statistics.median(times) if times else None
    p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)] if times else None
    disk_mb = await asyncio.to_thread(data.limits.data_bytes) / 1024 / 1024
    await reply(
        update,
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


async def unknown_button(update: Update, context: Context) -> None:
    """Answer a button whose data this bot did not make (or no longer understands)."""
    assert update.callback_query is not None
    await answer(update.callback_query, translator_of(update, context)(texts.UNKNOWN_BUTTON))
