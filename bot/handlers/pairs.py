"""The buttons of a pair and of its job: paint at a strength, swap, drop, stop the job, start
a new pair from a result, and the making-of film of a result's run.

A pair's buttons carry its pair id, so a press on a button of an earlier pair is answered as
stale instead of acting on the current one (:func:`on_current_pair`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from jobqueue import AlreadyQueued, QueueFull, QueueUnavailable, Strength

from .. import jobs, texts
from ..context import BotData
from ..messenger import Place
from ..sessions import Session
from ..turns import Press, PressHandler, Turn
from .common import inform, pair_picture, replace_pair, session_of, translator_of

logger = logging.getLogger(__name__)

PairPressHandler = Callable[[Press, BotData, Session], Coroutine[Any, Any, None]]


def on_current_pair(handler: PairPressHandler) -> PressHandler:
    """Run ``handler`` only for a button of the user's current pair; answer others as stale."""

    @functools.wraps(handler)
    async def checked(press: Press, data: BotData) -> None:
        session = session_of(press, data)
        if not session.owns(press.button.pair_id):
            await press.answer(translator_of(press, data)(texts.STALE_BUTTON))
            return
        await handler(press, data, session)

    return checked


@on_current_pair
async def paint(press: Press, data: BotData, session: Session) -> None:
    """Queue the pair at the pressed strength, answering the button at once."""
    assert press.button.strength is not None, "PAINT buttons always carry a strength"
    note, alert = await queue_pair(press, data, session, press.button.strength)
    await press.answer(note, alert=alert)


async def queue_pair(
    turn: Turn, data: BotData, session: Session, strength: Strength
) -> tuple[str, bool]:
    """Queue the session's pair at ``strength`` and follow the job; returns what to tell
    the user, and whether it is a refusal worth an alert (the daily quota, a full queue)."""
    t, user_id = translator_of(turn, data), turn.person.user_id
    exempt = data.settings.admin(data.who(user_id))
    wait = None if exempt else data.limits.job_refusal(user_id)
    if wait is not None:
        return texts.daily_quota(t, data.settings.jobs_per_user_per_day, wait), True
    chosen = data.sessions.preferences(user_id)
    try:
        job = await jobs.submit(
            data, session, strength, turn.place, language=t.language, chosen=chosen
        )
    except AlreadyQueued as queued:
        if queued.record.meta.get("pair_id") == session.pair_id:
            return t(texts.ALREADY_THIS_PAIR), False  # e.g. a double press
        return t(texts.ALREADY_ANOTHER), True
    except QueueFull:
        return t(texts.BUSY), True
    except QueueUnavailable as unavailable:  # Redis down, or the embedded painter broken
        logger.warning("Job not queued: %s", unavailable)
        return t(texts.PAINTING_UNAVAILABLE), True
    # Followed from the moment it is queued: nothing below may stand between the job and the
    # task that delivers it (the note to the user only informs, and may fail).
    picture = session.pair_preview or await pair_picture(session)
    jobs.start_following(data, job, picture)
    data.limits.count_job(user_id)
    logger.info("Job %s queued at %s strength, %d ahead", job.id, strength, job.ahead)
    return t(texts.QUEUED_NOTE), False


@on_current_pair
async def swap(press: Press, data: BotData, session: Session) -> None:
    """Swap content and style, showing the new pair in place of the old one."""
    session.swap()
    await press.answer(translator_of(press, data)(texts.SWAPPED_NOTE))
    await replace_pair(press, data, session)


@on_current_pair
async def drop(press: Press, data: BotData, session: Session) -> None:
    """Forget the pair on this message, stopping its job if it has one."""
    job = await data.queue.job_of(session.owner)
    if job is not None and job.meta.get("pair_id") == press.button.pair_id:
        await data.queue.cancel(job.id)
    session.clear()
    await press.answer()
    if press.message_id is not None:  # the message may be gone or already bare
        bare = press.messenger.edit_keyboard(press.chat_id, press.message_id, None)
        await inform(bare, "bare the pair")
    await press.messenger.send_text(press.place, translator_of(press, data)(texts.PAIR_DROPPED))


async def stop(press: Press, data: BotData) -> None:
    """Cancel the job this progress message shows (its pair may no longer be the current one)."""
    t = translator_of(press, data)
    job = await data.queue.job_of(session_of(press, data).owner)
    if job is None or job.meta.get("pair_id") != press.button.pair_id:
        await press.answer(t(texts.NOTHING_TO_STOP))
        return
    await data.queue.cancel(job.id)
    await press.answer(t(texts.STOPPING_NOTE))


@on_current_pair
async def new_pair(press: Press, data: BotData, session: Session) -> None:
    """Start over from a result: forget the pair and ask for a new photo."""
    session.clear()
    await press.answer()
    await press.messenger.send_text(press.place, translator_of(press, data)(texts.NEW_PAIR))


async def making_of(press: Press, data: BotData) -> None:
    """Send the film of a result's run, as an animation, under the result."""
    t, queue = translator_of(press, data), data.queue
    job = await queue.get(press.button.job_id)
    # The seal already binds the button to its owner; the queue's record must agree too.
    if job is None or job.owner != session_of(press, data).owner:
        await press.answer(t(texts.MAKING_OF_GONE), alert=True)
        return
    film = await queue.making_of(job.id)
    if film is None:
        await press.answer(t(texts.MAKING_OF_GONE), alert=True)
        return
    await press.answer()
    under_result = Place(press.chat_id, press.message_id)
    await press.messenger.send_film(under_result, film, "making-of.gif", t(texts.MAKING_OF_CAPTION))
    logger.info("Sent the making-of of job %s", job.id)
