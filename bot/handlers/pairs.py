"""The buttons of a pair and of its job: paint at a strength, swap, drop, stop the job, start
a new pair from a result, and the making-of film of a result's run.

A pair's buttons carry its pair id, so a press on a button of an earlier pair is answered as
stale instead of acting on the current one (:func:`on_current_pair`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, ReplyParameters, Update

from jobqueue import AlreadyQueued, QueueFull, QueueUnavailable

from .. import jobs, texts
from ..buttons import ButtonData
from ..context import Context, Handler
from ..sessions import Session
from .common import (
    answer,
    button_of,
    inform,
    pair_picture,
    replace_pair,
    send,
    session_of,
    target_of,
    translator_of,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Press:
    """A press on a button of the user's current pair."""

    update: Update
    query: CallbackQuery
    button: ButtonData
    session: Session


PressHandler = Callable[[Press, Context], Coroutine[Any, Any, None]]


def on_current_pair(handler: PressHandler) -> Handler:
    """Run ``handler`` only for a button of the user's current pair; answer others as stale."""

    @functools.wraps(handler)
    async def checked(update: Update, context: Context) -> None:
        query, button = button_of(update)
        session = session_of(update, context)
        if not session.owns(button.pair_id):
            await answer(query, translator_of(update, context)(texts.STALE_BUTTON))
            return
        await handler(Press(update, query, button, session), context)

    return checked


@on_current_pair
async def paint(press: Press, context: Context) -> None:
    """Queue the pair at the pressed strength, answering the button at once."""
    query, button, session = press.query, press.button, press.session
    assert button.strength is not None, "PAINT buttons always carry a strength"
    data, t = context.bot_data, translator_of(press.update, context)
    user = press.update.effective_user
    assert user is not None
    exempt = data.settings.admin(user.id)
    wait = None if exempt else data.limits.job_refusal(user.id)
    if wait is not None:
        limit = data.settings.jobs_per_user_per_day
        await answer(query, texts.daily_quota(t, limit, wait), alert=True)
        return
    target = target_of(press.update, session)
    chosen = data.sessions.preferences(user.id)
    try:
        job = await jobs.submit(
            data, session, button.strength, target, language=t.language, chosen=chosen
        )
    except AlreadyQueued as queued:
        same_pair = queued.record.meta.get("pair_id") == button.pair_id
        if same_pair:
            await answer(query, t(texts.ALREADY_THIS_PAIR))  # e.g. a double press
        else:
            await answer(query, t(texts.ALREADY_ANOTHER), alert=True)
        return
    except QueueFull:
        await answer(query, t(texts.BUSY), alert=True)
        return
    except QueueUnavailable as unavailable:  # Redis down, or the embedded painter broken
        logger.warning("Job not queued: %s", unavailable)
        await answer(query, t(texts.PAINTING_UNAVAILABLE), alert=True)
        return
    # Followed from the moment it is queued: nothing below may stand between the job and the
    # task that delivers it (the note on the button only informs, and may fail).
    picture = session.pair_preview_file_id or await pair_picture(session)
    data.following.add(job.id)  # before any await: the adoption chore must not take it too
    follower = jobs.follow(context.bot, data, job, picture)
    task = context.application.create_task(follower, update=press.update, name=f"job {job.id}")
    jobs.track(data.followers, task)
    data.limits.count_job(user.id)
    logger.info("Job %s queued at %s strength, %d ahead", job.id, button.strength, job.ahead)
    await answer(query, t(texts.QUEUED_NOTE))


@on_current_pair
async def swap(press: Press, context: Context) -> None:
    """Swap content and style, showing the new pair in place of the old one."""
    press.session.swap()
    await answer(press.query, translator_of(press.update, context)(texts.SWAPPED_NOTE))
    await replace_pair(context, press.update, press.session)


@on_current_pair
async def drop(press: Press, context: Context) -> None:
    """Forget the pair on this message, stopping its job if it has one."""
    session = press.session
    job = await context.bot_data.queue.job_of(session.owner)
    if job is not None and job.meta.get("pair_id") == press.button.pair_id:
        await context.bot_data.queue.cancel(job.id)
    session.clear()
    await answer(press.query)
    # The message may be gone or already bare.
    await inform(press.query.edit_message_reply_markup(reply_markup=None), "bare the pair")
    t = translator_of(press.update, context)
    await send(context, press.update, session, t(texts.PAIR_DROPPED))


async def stop(update: Update, context: Context) -> None:
    """Cancel the job this progress message shows (its pair may no longer be the current one)."""
    query, button = button_of(update)
    t = translator_of(update, context)
    job = await context.bot_data.queue.job_of(session_of(update, context).owner)
    if job is None or job.meta.get("pair_id") != button.pair_id:
        await answer(query, t(texts.NOTHING_TO_STOP))
        return
    await context.bot_data.queue.cancel(job.id)
    await answer(query, t(texts.STOPPING_NOTE))


@on_current_pair
async def new_pair(press: Press, context: Context) -> None:
    """Start over from a result: forget the pair and ask for a new photo."""
    press.session.clear()
    await answer(press.query)
    t = translator_of(press.update, context)
    await send(context, press.update, press.session, t(texts.NEW_PAIR))


async def making_of(update: Update, context: Context) -> None:
    """Send the film of a result's run, as an animation, under the result."""
    query, button = button_of(update)
    t, queue = translator_of(update, context), context.bot_data.queue
    job = await queue.get(button.job_id)
    # The seal already binds the button to its owner; the queue's record must agree too.
    if job is None or job.owner != session_of(update, context).owner:
        await answer(query, t(texts.MAKING_OF_GONE), alert=True)
        return
    film = await queue.making_of(job.id)
    if film is None:
        await answer(query, t(texts.MAKING_OF_GONE), alert=True)
        return
    await answer(query)
    message = query.message
    under_result = (
        ReplyParameters(message.message_id, allow_sending_without_reply=True)
        if message is not None
        else None
    )
    chat = session_of(update, context).chat_id
    await context.bot.send_animation(
        chat,
        film,
        caption=t(texts.MAKING_OF_CAPTION),
        filename="making-of.gif",
        reply_parameters=under_result,
    )
    logger.info("Sent the making-of of job %s", job.id)
