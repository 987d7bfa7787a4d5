"""The conversation: commands, pictures in, buttons, and a short answer for everything else.

Each handler does one small thing and returns; painting happens on the queue, followed by a
task (``Application.create_task``) that edits the progress message and sends the result.
Routing (which update reaches which handler) lives in ``bot.app``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dtm
import functools
import logging
import math
import statistics
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import ApplicationHandlerStop, filters

from jobqueue import AlreadyQueued, JobState, QueueFull, QueueUnavailable

from . import buttons, i18n, jobs, media, texts
from .buttons import ButtonData, Owner
from .context import Context, Handler
from .i18n import Translator
from .preferences import Preferences, output_sides, with_choice
from .progress import Target
from .retry import brief, is_passing
from .sessions import Session, Stage

logger = logging.getLogger(__name__)

HINTS = {
    Stage.NEED_CONTENT: texts.NEED_CONTENT,
    Stage.NEED_STYLE: texts.NEED_STYLE,
    Stage.READY: texts.READY,
}

# ---- commands -------------------------------------------------------------------------------


async def start(update: Update, context: Context) -> None:
    """Say what the bot does and exactly what to send (also /help)."""
    session, t = _session(update, context), _t(update, context)
    parts = [t(texts.INTRO)]
    if _in_group(update):
        parts.append(t(texts.GROUP_NOTE))
    if session.stage is not Stage.NEED_CONTENT:
        parts.append(t(HINTS[session.stage]))
    await _reply(update, "\n\n".join(parts))


async def status(update: Update, context: Context) -> None:
    """Tell the user where their picture is: queued, painting, or nothing in the works."""
    session, t = _session(update, context), _t(update, context)
    job = await context.bot_data.queue.job_of(session.owner)
    if job is None:
        text = texts.with_hint(t(texts.STATUS_IDLE), t(HINTS[session.stage]))
    elif job.state is JobState.QUEUED:
        text = texts.status_queued(t, job.ahead)
    elif job.progress is None:
        text = t(texts.STATUS_STARTING)
    else:
        text = texts.status_painting(t, job.progress.fraction, job.progress.eta)
    await _reply(update, text)


async def cancel(update: Update, context: Context) -> None:
    """Stop the user's queued or running job; with none, forget the collected pictures."""
    session, t = _session(update, context), _t(update, context)
    queue = context.bot_data.queue
    job = await queue.job_of(session.owner)
    if job is not None:
        was_waiting = job.state is JobState.QUEUED
        await queue.cancel(job.id)
        await _reply(update, t(texts.CANCELLED_QUEUED if was_waiting else texts.CANCELLING_RUNNING))
    elif session.stage is not Stage.NEED_CONTENT:
        session.clear()
        await _reply(update, t(texts.PICTURES_DROPPED))
    else:
        hint = t(HINTS[session.stage])
        await _reply(update, texts.with_hint(t(texts.NOTHING_TO_CANCEL), hint))


async def stats(update: Update, context: Context) -> None:
    """For admins: the queue, today's jobs and the disk. Others never learn it exists."""
    user = update.effective_user
    settings = context.bot_data.settings
    if user is None or not settings.admin(user.id):
        await _reply(update, _t(update, context)(texts.UNKNOWN_COMMAND))
        return
    data = context.bot_data
    midnight = dtm.datetime.now(dtm.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    numbers = await data.queue.stats(since=midnight.timestamp())
    times = sorted(numbers.durations)
    median = statistics.median(times) if times else None
    p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)] if times else None
    disk_mb = await asyncio.to_thread(data.limits.data_bytes) / 1024 / 1024
    await _reply(
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


def gate(addressed: filters.BaseFilter) -> Handler:
    """A handler to run before all others: a stranger (see ALLOWED_USERS) gets one polite
    sentence when they address the bot, and nothing of theirs is downloaded or kept."""

    async def turn_away(update: Update, context: Context) -> None:
        user = update.effective_user
        if user is None or context.bot_data.settings.allowed(user.id, user.username):
            return
        sorry = i18n.pick(None, user.language_code)(texts.NOT_ALLOWED)  # keeps nothing of theirs
        if update.callback_query is not None:
            await _answer(update.callback_query, sorry, alert=True)
        elif update.message is not None and addressed.check_update(update):
            await update.message.reply_text(sorry)
        raise ApplicationHandlerStop

    return turn_away


async def check_seal(update: Update, context: Context) -> None:
    """Before any button handler: a press on a button made for someone else (another
    member's panel in a group, or data a modified client made up) is refused here."""
    query = update.callback_query
    assert query is not None
    if ButtonData.decode(query.data) is None:
        return  # not a button of ours at all: ``unknown_button`` answers it
    if _owner(update, context).owns(str(query.data)):
        return
    user = update.effective_user
    logger.info("Refused a press by user %s on a button sealed for someone else", user and user.id)
    await _answer(query, _t(update, context)(texts.NOT_YOUR_BUTTON), alert=True)
    raise ApplicationHandlerStop


# ---- pictures -------------------------------------------------------------------------------


async def receive_image(update: Update, context: Context) -> None:
    """Take a photo or image file: the first is the content, the next the style."""
    session, t = _session(update, context), _t(update, context)
    incoming = media.incoming_image(_message(update))
    assert incoming is not None, "routed here by the photo / image document filters"
    refusal = _picture_refusal(update, context, t)
    if refusal is not None:  # before downloading anything
        await _reply(update, texts.with_hint(refusal, t(HINTS[session.stage])))
        return
    limit_mb = context.bot_data.settings.max_download_mb
    try:
        path = session.new_file(incoming.suffix)
        picture = await media.fetch_picture(context.bot, incoming, path, limit_mb, t)
    except media.PictureRefused as refusal:
        await _reply(update, texts.with_hint(str(refusal), t(HINTS[session.stage])))
        return
    had_style = session.stage is Stage.READY
    if session.add(picture) is Stage.NEED_STYLE:
        await _message(update).reply_text(
            t(texts.GOT_CONTENT), reply_markup=buttons.content_keyboard(t, _owner(update, context))
        )
    else:
        caption = texts.STYLE_REPLACED if had_style else texts.PAIR_READY
        await _show_pair(context, update, session, caption)


def _picture_refusal(update: Update, context: Context, t: Translator) -> str | None:
    """Why this picture is not taken: the sender's rate, or a full disk (admins are exempt)."""
    data, user = context.bot_data, update.effective_user
    assert user is not None
    if data.settings.admin(user.id):
        return None
    wait = data.limits.take_picture(user.id)
    if wait is not None:
        return texts.too_many_pictures(t, wait)
    if data.limits.disk_full():
        logger.warning("DATA_DIR is full (DATA_MAX_MB); refusing new pictures")
        return t(texts.DISK_FULL)
    return None


def explain(reason: str) -> Handler:
    """A handler that answers ``reason`` plus what the bot still needs, keeping the state."""

    async def answer(update: Update, context: Context) -> None:
        """Refuse this kind of message politely and say what to send instead."""
        t, stage = _t(update, context), _session(update, context).stage
        await _reply(update, texts.with_hint(t(reason), t(HINTS[stage])))

    return answer


# ---- buttons --------------------------------------------------------------------------------


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
        query, button = _button(update)
        session = _session(update, context)
        if not session.owns(button.pair_id):
            await _answer(query, _t(update, context)(texts.STALE_BUTTON))
            return
        await handler(Press(update, query, button, session), context)

    return checked


@on_current_pair
async def paint(press: Press, context: Context) -> None:
    """Queue the pair at the pressed strength, answering the button at once."""
    query, button, session = press.query, press.button, press.session
    assert button.strength is not None, "PAINT buttons always carry a strength"
    data, t = context.bot_data, _t(press.update, context)
    user = press.update.effective_user
    assert user is not None
    exempt = data.settings.admin(user.id)
    wait = None if exempt else data.limits.job_refusal(user.id)
    if wait is not None:
        limit = data.settings.jobs_per_user_per_day
        await _answer(query, texts.daily_quota(t, limit, wait), alert=True)
        return
    target = _target(press.update, session)
    chosen = data.sessions.preferences(user.id)
    try:
        job = await jobs.submit(
            data, session, button.strength, target, language=t.language, chosen=chosen
        )
    except AlreadyQueued as queued:
        same_pair = queued.record.meta.get("pair_id") == button.pair_id
        if same_pair:
            await _answer(query, t(texts.ALREADY_THIS_PAIR))  # e.g. a double press
        else:
            await _answer(query, t(texts.ALREADY_ANOTHER), alert=True)
        return
    except QueueFull:
        await _answer(query, t(texts.BUSY), alert=True)
        return
    except QueueUnavailable as unavailable:  # Redis down, or the embedded painter broken
        logger.warning("Job not queued: %s", unavailable)
        await _answer(query, t(texts.PAINTING_UNAVAILABLE), alert=True)
        return
    # Followed from the moment it is queued: nothing below may stand between the job and the
    # task that delivers it (the note on the button only informs, and may fail).
    picture = session.pair_preview_file_id or await _pair_picture(session)
    data.following.add(job.id)  # before any await: the adoption chore must not take it too
    follower = jobs.follow(context.bot, data, job, picture)
    task = context.application.create_task(follower, update=press.update, name=f"job {job.id}")
    jobs.track(data.followers, task)
    data.limits.count_job(user.id)
    logger.info("Job %s queued at %s strength, %d ahead", job.id, button.strength, job.ahead)
    await _answer(query, t(texts.QUEUED_NOTE))


@on_current_pair
async def swap(press: Press, context: Context) -> None:
    """Swap content and style, showing the new pair in place of the old one."""
    press.session.swap()
    await _answer(press.query, _t(press.update, context)(texts.SWAPPED_NOTE))
    await _replace_pair(context, press.update, press.session)


@on_current_pair
async def drop(press: Press, context: Context) -> None:
    """Forget the pair on this message, stopping its job if it has one."""
    session = press.session
    job = await context.bot_data.queue.job_of(session.owner)
    if job is not None and job.meta.get("pair_id") == press.button.pair_id:
        await context.bot_data.queue.cancel(job.id)
    session.clear()
    await _answer(press.query)
    # The message may be gone or already bare.
    await _inform(press.query.edit_message_reply_markup(reply_markup=None), "bare the pair")
    await _send(context, press.update, session, _t(press.update, context)(texts.PAIR_DROPPED))


async def stop(update: Update, context: Context) -> None:
    """Cancel the job this progress message shows (its pair may no longer be the current one)."""
    query, button = _button(update)
    t = _t(update, context)
    job = await context.bot_data.queue.job_of(_session(update, context).owner)
    if job is None or job.meta.get("pair_id") != button.pair_id:
        await _answer(query, t(texts.NOTHING_TO_STOP))
        return
    await context.bot_data.queue.cancel(job.id)
    await _answer(query, t(texts.STOPPING_NOTE))


@on_current_pair
async def new_pair(press: Press, context: Context) -> None:
    """Start over from a result: forget the pair and ask for a new photo."""
    press.session.clear()
    await _answer(press.query)
    await _send(context, press.update, press.session, _t(press.update, context)(texts.NEW_PAIR))


async def making_of(update: Update, context: Context) -> None:
    """Send the film of a result's run, as an animation, under the result."""
    query, button = _button(update)
    t, queue = _t(update, context), context.bot_data.queue
    job = await queue.get(button.pair_id)
    # The seal already binds the button to its owner; the queue's record must agree too.
    if job is None or job.owner != _session(update, context).owner:
        await _answer(query, t(texts.MAKING_OF_GONE), alert=True)
        return
    film = await queue.making_of(job.id)
    if film is None:
        await _answer(query, t(texts.MAKING_OF_GONE), alert=True)
        return
    await _answer(query)
    message = query.message
    reply = (
        ReplyParameters(message.message_id, allow_sending_without_reply=True)
        if message is not None
        else None
    )
    chat = _session(update, context).chat_id
    await context.bot.send_animation(
        chat,
        film,
        caption=t(texts.MAKING_OF_CAPTION),
        filename="making-of.gif",
        reply_parameters=reply,
    )
    logger.info("Sent the making-of of job %s", job.id)


# ---- the gallery ------------------------------------------------------------------------------


async def styles(update: Update, context: Context) -> None:
    """/styles: the gallery of famous paintings, at the first one."""
    await _send_painting(context, update, 0)


async def browse(update: Update, context: Context) -> None:
    """◀ ▶ in the gallery: the same message shows another painting."""
    query, button = _button(update)
    gallery = context.bot_data.gallery
    index = int(button.pair_id, 16) % len(gallery)
    await _answer(query)
    message = query.message
    if not isinstance(message, Message) or not message.photo:  # the "Got your photo" text
        await _send_painting(context, update, index)
        return
    painting, t = gallery[index], _t(update, context)
    photo = InputMediaPhoto(gallery.photo(painting), caption=_painting_caption(t, context, index))
    try:
        edited = await message.edit_media(
            photo,
            reply_markup=buttons.gallery_keyboard(t, _owner(update, context), index, len(gallery)),
        )
    except (BadRequest, NetworkError) as error:
        logger.info("Could not show the next painting in place (%s)", brief(error))
        await _send_painting(context, update, index)
        return
    if isinstance(edited, Message) and edited.photo:
        gallery.sent(painting, edited.photo[-1].file_id)


async def use_painting(update: Update, context: Context) -> None:
    """ "Use this one": the painting becomes the style, exactly as a sent style image would."""
    query, button = _button(update)
    session, t = _session(update, context), _t(update, context)
    refusal = _picture_refusal(update, context, t)  # a chosen painting counts as a sent one
    if refusal is not None:
        await _answer(query, refusal, alert=True)
        return
    gallery = context.bot_data.gallery
    painting = gallery[int(button.pair_id, 16)]
    data = await asyncio.to_thread(painting.path.read_bytes)
    picture = await media.store_picture(data, session.new_file(painting.path.suffix))
    had_style = session.style is not None
    await _answer(query, t(texts.PAINTING_CHOSEN_NOTE))
    if session.choose_style(picture) is Stage.NEED_CONTENT:
        await _send(context, update, session, t(texts.PAINTING_KEPT))
        return
    caption = texts.STYLE_REPLACED if had_style else texts.PAIR_READY
    await _show_pair(context, update, session, caption)


async def _send_painting(context: Context, update: Update, index: int) -> None:
    gallery = context.bot_data.gallery
    painting = gallery[index]
    session, t = _session(update, context), _t(update, context)
    target = _target(update, session)
    sent = await context.bot.send_photo(
        target.chat_id,
        gallery.photo(painting),
        caption=_painting_caption(t, context, index),
        reply_markup=buttons.gallery_keyboard(t, _owner(update, context), index, len(gallery)),
        reply_parameters=target.reply_parameters,
    )
    if sent.photo:
        gallery.sent(painting, sent.photo[-1].file_id)


def _painting_caption(t: Translator, context: Context, index: int) -> str:
    gallery = context.bot_data.gallery
    painting = gallery[index]
    number = index % len(gallery) + 1
    return texts.painting_caption(
        t, painting.title, painting.artist, painting.year, number, len(gallery)
    )


# ---- /language and /settings ----------------------------------------------------------------


async def language(update: Update, context: Context) -> None:
    """/language: the languages as buttons, the one spoken now marked."""
    t = _t(update, context)
    await _message(update).reply_text(
        t(texts.LANGUAGE_PROMPT),
        reply_markup=buttons.language_keyboard(_owner(update, context), t.language),
    )


async def choose_language(update: Update, context: Context) -> None:
    """A language button: speak it from now on (kept in DATA_DIR), and say so in it."""
    query, button = _button(update)
    code = buttons.language_chosen(button)
    user = update.effective_user
    assert user is not None
    if code is None:
        await _answer(query, _t(update, context)(texts.UNKNOWN_BUTTON))
        return
    store = context.bot_data.sessions
    store.choose(user.id, dataclasses.replace(store.preferences(user.id), language=code))
    await _answer(query)
    t = i18n.translator(code)
    keyboard = buttons.language_keyboard(_owner(update, context), code)
    chosen = query.edit_message_text(t(texts.LANGUAGE_CHOSEN), reply_markup=keyboard)
    await _inform(chosen, "mark the language chosen")


async def settings(update: Update, context: Context) -> None:
    """/settings: size, colours and default strength, with buttons that change them."""
    text, keyboard = _settings_view(update, context)
    await _message(update).reply_text(text, reply_markup=keyboard)


async def change_setting(update: Update, context: Context) -> None:
    """A /settings button: keep the change, and show the settings as they are now."""
    query, button = _button(update)
    change = buttons.setting_chosen(button)
    user = update.effective_user
    assert user is not None
    t = _t(update, context)
    if change is None:
        await _answer(query, t(texts.UNKNOWN_BUTTON))
        return
    store = context.bot_data.sessions
    store.choose(user.id, with_choice(store.preferences(user.id), change))
    await _answer(query, t(texts.SETTING_SAVED))
    text, keyboard = _settings_view(update, context)
    await _inform(query.edit_message_text(text, reply_markup=keyboard), "show the settings")


def _settings_view(update: Update, context: Context) -> tuple[str, InlineKeyboardMarkup]:
    t, chosen = _t(update, context), _chosen(update, context)
    sides = output_sides(context.bot_data.settings)
    text = texts.settings(t, chosen.size, sides[chosen.size], chosen.keep_colours, chosen.strength)
    return text, buttons.settings_keyboard(t, _owner(update, context), chosen, sides)


async def unknown_button(update: Update, context: Context) -> None:
    """Answer a button whose data this bot did not make (or no longer understands)."""
    assert update.callback_query is not None
    await _answer(update.callback_query, _t(update, context)(texts.UNKNOWN_BUTTON))


# ---- errors ---------------------------------------------------------------------------------


async def on_error(update: object, context: Context) -> None:
    """Log the error first; then, if a user was involved, tell them in plain words.

    Trouble that passes by itself (Telegram unreachable, a flood limit: polling meets it
    on every try during an outage, and a reply meets it once its retries are spent) is one
    WARNING line; anything else is a bug worth its traceback."""
    error = context.error
    if error is not None and is_passing(error):
        logger.warning("Telegram could not be reached: %s", brief(error))
    else:
        logger.error("Exception while handling an update", exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        sorry = _t(update, context)(texts.SOMETHING_WENT_WRONG)
    except Exception:  # the error may be the store's own: apologise in English then
        sorry = texts.SOMETHING_WENT_WRONG
    with contextlib.suppress(TelegramError):
        await context.bot.send_message(update.effective_chat.id, sorry)
    if update.callback_query is not None:  # stop the button's spinner, if still unanswered
        await _answer(update.callback_query)


# ---- helpers --------------------------------------------------------------------------------


def _session(update: Update, context: Context) -> Session:
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None, "the handlers' filters guarantee both"
    return context.bot_data.sessions.get(chat.id, user.id)


def _t(update: Update, context: Context) -> Translator:
    """The sender's language: chosen with /language, else their Telegram app's, else English."""
    user = update.effective_user
    if user is None:
        return i18n.ENGLISH
    chosen = context.bot_data.sessions.preferences(user.id).language
    return i18n.pick(chosen, user.language_code)


def _chosen(update: Update, context: Context) -> Preferences:
    user = update.effective_user
    assert user is not None, "the handlers' filters guarantee a user"
    return context.bot_data.sessions.preferences(user.id)


def _message(update: Update) -> Message:
    assert update.effective_message is not None
    return update.effective_message


def _owner(update: Update, context: Context) -> Owner:
    """The sender or presser, as the owner of the keyboards made for them."""
    user = update.effective_user
    assert user is not None, "the handlers' filters guarantee a user"
    return Owner(user.id, context.bot_data.button_key)


async def _answer(query: CallbackQuery, text: str | None = None, *, alert: bool = False) -> None:
    """Answer a press. It only informs (and Telegram forgets a press after a few seconds),
    so a failure is one log line and never stops the work the press asked for."""
    try:
        await query.answer(text, show_alert=alert)
    except TelegramError as error:
        logger.warning("Could not answer a button press: %s", brief(error))


async def _inform(call: Awaitable[object], what: str) -> None:
    """An edit that only shows what was already done (a panel's new marks, a pair's buttons
    taken away): a refusal ("not modified", a message gone) or passing trouble is a log
    line, not an error for the user."""
    try:
        await call
    except BadRequest as error:
        logger.info("Could not %s: %s", what, brief(error))
    except TelegramError as error:
        logger.warning("Could not %s: %s", what, brief(error))


def _button(update: Update) -> tuple[CallbackQuery, ButtonData]:
    query = update.callback_query
    assert query is not None
    button = ButtonData.decode(query.data)
    assert button is not None, "the handler's pattern only lets well-formed data through"
    return query, button


def _in_group(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type != ChatType.PRIVATE


def _target(update: Update, session: Session) -> Target:
    """Where a job's messages go; in a group they answer the message the button was on."""
    message = update.effective_message
    reply_to = message.message_id if message is not None and _in_group(update) else None
    return Target(session.chat_id, reply_to)


async def _reply(update: Update, text: str) -> None:
    """Answer the user's message (quoting it in groups, so it is clear who is meant)."""
    await _message(update).reply_text(text)


async def _send(context: Context, update: Update, session: Session, text: str) -> None:
    """A new message after a button press (the button's message may be too old to reply to)."""
    target = _target(update, session)
    await context.bot.send_message(target.chat_id, text, reply_parameters=target.reply_parameters)


async def _pair_picture(session: Session) -> bytes:
    assert session.content is not None and session.style is not None
    return await media.pair_preview(session.content, session.style)


async def _show_pair(context: Context, update: Update, session: Session, caption: str) -> None:
    """Send the pair preview with its buttons (``caption``: a msgid of texts); remember the
    photo to reuse it for progress."""
    assert session.pair_id is not None
    target, t = _target(update, session), _t(update, context)
    default = _chosen(update, context).strength
    sent = await context.bot.send_photo(
        target.chat_id,
        await _pair_picture(session),
        caption=t(caption),
        reply_markup=buttons.pair_keyboard(t, _owner(update, context), session.pair_id, default),
        reply_parameters=target.reply_parameters,
    )
    session.remember_preview(sent.photo[-1].file_id if sent.photo else None)


async def _replace_pair(context: Context, update: Update, session: Session) -> None:
    """Edit the pair message into the new pair; if that fails, send the pair anew."""
    assert session.pair_id is not None and update.callback_query is not None
    t, default = _t(update, context), _chosen(update, context).strength
    photo = InputMediaPhoto(await _pair_picture(session), caption=t(texts.PAIR_SWAPPED))
    try:
        edited = await update.callback_query.edit_message_media(
            photo,
            reply_markup=buttons.pair_keyboard(
                t, _owner(update, context), session.pair_id, default
            ),
        )
    except (BadRequest, NetworkError) as error:
        logger.info("Could not edit the pair in place (%s); sending it again", brief(error))
        await _show_pair(context, update, session, texts.PAIR_SWAPPED)
        return
    if isinstance(edited, Message) and edited.photo:
        session.remember_preview(edited.photo[-1].file_id)
