"""What every handler needs: the sender's session, language and keyboards' owner; answering a
press, replying, sending; and showing a pair of pictures with its buttons."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from telegram import CallbackQuery, InputMediaPhoto, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, NetworkError, TelegramError

from .. import buttons, i18n, media, texts
from ..buttons import ButtonData, Owner
from ..context import Context
from ..i18n import Translator
from ..preferences import Preferences
from ..progress import Target
from ..retry import brief
from ..sessions import Session, Stage

logger = logging.getLogger(__name__)

#: What to send next, by stage (a msgid of texts), added to answers that refuse something.
HINTS = {
    Stage.NEED_CONTENT: texts.NEED_CONTENT,
    Stage.NEED_STYLE: texts.NEED_STYLE,
    Stage.READY: texts.READY,
}


# ---- who is writing ---------------------------------------------------------------------------


def session_of(update: Update, context: Context) -> Session:
    """The sender's session in this chat."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None, "the handlers' filters guarantee both"
    return context.bot_data.sessions.get(chat.id, user.id)


def translator_of(update: Update, context: Context) -> Translator:
    """The sender's language: chosen with /language, else their Telegram app's, else English."""
    user = update.effective_user
    if user is None:
        return i18n.ENGLISH
    chosen = context.bot_data.sessions.preferences(user.id).language
    return i18n.pick(chosen, user.language_code)


def preferences_of(update: Update, context: Context) -> Preferences:
    """What the sender chose with /settings and /language."""
    user = update.effective_user
    assert user is not None, "the handlers' filters guarantee a user"
    return context.bot_data.sessions.preferences(user.id)


def owner_of(update: Update, context: Context) -> Owner:
    """The sender or presser, as the owner of the keyboards made for them."""
    user = update.effective_user
    assert user is not None, "the handlers' filters guarantee a user"
    return Owner(user.id, context.bot_data.button_key)


def message_of(update: Update) -> Message:
    assert update.effective_message is not None
    return update.effective_message


def button_of(update: Update) -> tuple[CallbackQuery, ButtonData]:
    """The press and what its button means."""
    query = update.callback_query
    assert query is not None
    button = ButtonData.decode(query.data)
    assert button is not None, "the handler's pattern only lets well-formed data through"
    return query, button


def in_group(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type != ChatType.PRIVATE


def target_of(update: Update, session: Session) -> Target:
    """Where a job's messages go; in a group they answer the message the button was on."""
    message = update.effective_message
    reply_to = message.message_id if message is not None and in_group(update) else None
    return Target(session.chat_id, reply_to)


def picture_refusal(update: Update, context: Context, t: Translator) -> str | None:
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


# ---- answering --------------------------------------------------------------------------------


async def answer(query: CallbackQuery, text: str | None = None, *, alert: bool = False) -> None:
    """Answer a press. It only informs (and Telegram forgets a press after a few seconds),
    so a failure is one log line and never stops the work the press asked for."""
    try:
        await query.answer(text, show_alert=alert)
    except TelegramError as error:
        logger.warning("Could not answer a button press: %s", brief(error))


async def inform(call: Awaitable[object], what: str) -> None:
    """An edit that only shows what was already done (a panel's new marks, a pair's buttons
    taken away): a refusal ("not modified", a message gone) or passing trouble is a log
    line, not an error for the user."""
    try:
        await call
    except BadRequest as error:
        logger.info("Could not %s: %s", what, brief(error))
    except TelegramError as error:
        logger.warning("Could not %s: %s", what, brief(error))


async def reply(update: Update, text: str) -> None:
    """Answer the user's message (quoting it in groups, so it is clear who is meant)."""
    await message_of(update).reply_text(text)


async def send(context: Context, update: Update, session: Session, text: str) -> None:
    """A new message after a button press (the button's message may be too old to reply to)."""
    target = target_of(update, session)
    await context.bot.send_message(target.chat_id, text, reply_parameters=target.reply_parameters)


# ---- the pair ---------------------------------------------------------------------------------


async def pair_picture(session: Session) -> bytes:
    """The pair preview: content and style side by side."""
    assert session.content is not None and session.style is not None
    return await media.pair_preview(session.content, session.style)


async def show_pair(context: Context, update: Update, session: Session, caption: str) -> None:
    """Send the pair preview with its buttons (``caption``: a msgid of texts); remember the
    photo to reuse it for progress."""
    assert session.pair_id is not None
    target, t = target_of(update, session), translator_of(update, context)
    default = preferences_of(update, context).strength
    sent = await context.bot.send_photo(
        target.chat_id,
        await pair_picture(session),
        caption=t(caption),
        reply_markup=buttons.pair_keyboard(t, owner_of(update, context), session.pair_id, default),
        reply_parameters=target.reply_parameters,
    )
    session.remember_preview(sent.photo[-1].file_id if sent.photo else None)


async def replace_pair(context: Context, update: Update, session: Session) -> None:
    """Edit the pair message into the new pair; if that fails, send the pair anew."""
    assert session.pair_id is not None and update.callback_query is not None
    t, default = translator_of(update, context), preferences_of(update, context).strength
    photo = InputMediaPhoto(await pair_picture(session), caption=t(texts.PAIR_SWAPPED))
    try:
        edited = await update.callback_query.edit_message_media(
            photo,
            reply_markup=buttons.pair_keyboard(
                t, owner_of(update, context), session.pair_id, default
            ),
        )
    except (BadRequest, NetworkError) as error:
        logger.info("Could not edit the pair in place (%s); sending it again", brief(error))
        await show_pair(context, update, session, texts.PAIR_SWAPPED)
        return
    if isinstance(edited, Message) and edited.photo:
        session.remember_preview(edited.photo[-1].file_id)
