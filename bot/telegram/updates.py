"""Telegram's updates as the conversation's turns: who wrote, in which chat, what they sent
or pressed; and the PTB callbacks that hand each turn to its handler in ``bot.handlers``."""

from __future__ import annotations

import contextlib
import logging

from telegram import Bot, CallbackQuery, Message, Update, User
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, filters

from .. import texts
from ..buttons import ButtonData
from ..handlers import PRESSES, chat, guards, pictures
from ..handlers.common import translator_of
from ..media import IMAGE_MIME_TYPES
from ..retry import REPLY_GIVE_UP_SECONDS, brief, persist
from ..turns import (
    AnswerPress,
    CommandHandler,
    IncomingImage,
    Person,
    Press,
    Turn,
    answer_quietly,
)
from .context import Context, Handler
from .trouble import is_passing, translated

logger = logging.getLogger(__name__)


def person_of(user: User) -> Person:
    return Person(user.id, user.username, user.language_code)


def turn_of(update: Update, context: Context) -> Turn:
    """The turn an update is; its user and chat are there (the routing's filters see to it)."""
    user, chat_ = update.effective_user, update.effective_chat
    assert user is not None and chat_ is not None, "the handlers' filters guarantee both"
    message = update.effective_message
    return Turn(
        person_of(user),
        chat_.id,
        chat_.type != ChatType.PRIVATE,
        message.message_id if message is not None else None,
        context.bot_data.messenger,
    )


def press_of(update: Update, context: Context) -> Press | None:
    """The press an update is, or None for callback data this bot never made."""
    query = update.callback_query
    assert query is not None
    button = ButtonData.decode(query.data)
    if button is None:
        return None
    turn = turn_of(update, context)
    message = query.message
    shows_photo = isinstance(message, Message) and bool(message.photo)
    return Press(
        turn.person,
        turn.chat_id,
        turn.in_group,
        turn.message_id,
        turn.messenger,
        button,
        str(query.data),
        shows_photo,
        answering(query),
    )


def answering(query: CallbackQuery) -> AnswerPress:
    """How to answer this press (a note, or an alert)."""

    async def answer(text: str | None, alert: bool) -> None:
        with translated():
            await query.answer(text, show_alert=alert)

    return answer


def incoming_image(message: Message, bot: Bot) -> IncomingImage | None:
    """The message's image (a photo's largest size, or an image file), or None if it carries
    none that we take."""
    if message.photo:
        largest = max(message.photo, key=lambda size: size.width * size.height)
        file_id, size, suffix = largest.file_id, largest.file_size, ".jpg"
    elif message.document is not None and message.document.mime_type in IMAGE_MIME_TYPES:
        document = message.document
        file_id, size = document.file_id, document.file_size
        suffix = IMAGE_MIME_TYPES[str(document.mime_type)]
    else:
        return None

    async def download() -> bytes:
        """Both steps wait out passing trouble (``getFile`` by the rate limiter); Telegram
        refuses files over 20 MB at ``getFile``."""
        with translated():
            telegram_file = await bot.get_file(file_id)

        async def fetch() -> bytearray:
            with translated():
                return await telegram_file.download_as_bytearray()

        return bytes(await persist(fetch, REPLY_GIVE_UP_SECONDS, "download of a picture"))

    return IncomingImage(size, suffix, download)


# ---- PTB's callbacks --------------------------------------------------------------------------


def command(handler: CommandHandler) -> Handler:
    """A PTB callback running a command's handler."""

    async def run(update: Update, context: Context) -> None:
        await handler(turn_of(update, context), context.bot_data)

    run.__doc__ = handler.__doc__
    return run


async def receive_image(update: Update, context: Context) -> None:
    """A photo or image file."""
    assert update.effective_message is not None
    image = incoming_image(update.effective_message, context.bot)
    assert image is not None, "routed here by the photo / image document filters"
    await pictures.receive_image(turn_of(update, context), context.bot_data, image)


def explain(reason: str) -> Handler:
    """A PTB callback answering ``reason`` plus what the bot still needs, keeping the state."""

    async def refuse(update: Update, context: Context) -> None:
        await pictures.explain(turn_of(update, context), context.bot_data, reason)

    return refuse


async def press(update: Update, context: Context) -> None:
    """A button press, to the handler of its action."""
    pressed = press_of(update, context)
    if pressed is None:
        await _answer_unknown(update, context)
        return
    await PRESSES[pressed.button.action](pressed, context.bot_data)


async def _answer_unknown(update: Update, context: Context) -> None:
    assert update.callback_query is not None
    text = chat.unknown_button(turn_of(update, context), context.bot_data)
    await answer_quietly(answering(update.callback_query), text)


# ---- before all others, and after a failure --------------------------------------------------


def gate(addressed: filters.BaseFilter) -> Handler:
    """A callback to run before all others: a stranger (see ALLOWED_USERS) gets one polite
    sentence when they address the bot, and nothing of theirs is downloaded or kept."""

    async def turn_away(update: Update, context: Context) -> None:
        context.bot_data.metrics.updates.labels("telegram").inc()
        user = update.effective_user
        sorry = None if user is None else guards.stranger(person_of(user), context.bot_data)
        if sorry is None:
            return
        if update.callback_query is not None:
            await answer_quietly(answering(update.callback_query), sorry, alert=True)
        elif update.message is not None and addressed.check_update(update):
            await update.message.reply_text(sorry)
        raise ApplicationHandlerStop

    return turn_away


async def check_seal(update: Update, context: Context) -> None:
    """Before any button's callback: a press on a button made for someone else stops here."""
    pressed = press_of(update, context)
    if pressed is not None and await guards.refuse_foreign(pressed, context.bot_data):
        raise ApplicationHandlerStop


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
    sorry = texts.SOMETHING_WENT_WRONG
    # The error may be the store's own: then the apology is in English.
    with contextlib.suppress(Exception):
        if update.effective_user is not None:
            sorry = translator_of(turn_of(update, context), context.bot_data)(sorry)
    with contextlib.suppress(TelegramError):
        await context.bot.send_message(update.effective_chat.id, sorry)
    if update.callback_query is not None:  # stop the button's spinner, if still unanswered
        await answer_quietly(answering(update.callback_query), None)
