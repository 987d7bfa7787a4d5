"""The conversation's :class:`~bot.messenger.Messenger` on Telegram: the Bot API calls, its
inline keyboards, replies as ``ReplyParameters``, and its errors as ``Trouble``."""

from __future__ import annotations

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    ReplyParameters,
)

from ..messenger import Keyboard, Photo, Place, Posted
from .trouble import translated


def markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    """A keyboard as Telegram's inline keyboard (None: no buttons)."""
    if keyboard is None:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in keyboard]
    )


def posted(message: Message | bool) -> Posted:
    """What the conversation keeps of a sent message: its id, and its photo's file id (the
    largest size), to show the picture again without uploading it."""
    assert isinstance(message, Message), "only inline messages are edited into True"
    photo = message.photo[-1].file_id if message.photo else None
    return Posted(message.message_id, photo)


def _reply(place: Place) -> ReplyParameters | None:
    if place.reply_to is None:
        return None
    return ReplyParameters(place.reply_to, allow_sending_without_reply=True)


class TelegramMessenger:
    """Sends and edits through a PTB ``Bot`` (whose rate limiter retries the replies)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_text(self, place: Place, text: str, keyboard: Keyboard | None = None) -> Posted:
        with translated():
            return posted(
                await self.bot.send_message(
                    place.chat_id,
                    text,
                    reply_markup=markup(keyboard),
                    reply_parameters=_reply(place),
                )
            )

    async def send_photo(
        self, place: Place, photo: Photo, caption: str, keyboard: Keyboard | None = None
    ) -> Posted:
        with translated():
            return posted(
                await self.bot.send_photo(
                    place.chat_id,
                    photo,
                    caption=caption,
                    reply_markup=markup(keyboard),
                    reply_parameters=_reply(place),
                )
            )

    async def send_file(
        self,
        place: Place,
        data: bytes,
        filename: str,
        caption: str,
        keyboard: Keyboard | None = None,
    ) -> Posted:
        with translated():
            return posted(
                await self.bot.send_document(
                    place.chat_id,
                    data,
                    filename=filename,
                    caption=caption,
                    reply_markup=markup(keyboard),
                    reply_parameters=_reply(place),
                )
            )

    async def send_film(self, place: Place, data: bytes, filename: str, caption: str) -> Posted:
        with translated():
            return posted(
                await self.bot.send_animation(
                    place.chat_id,
                    data,
                    caption=caption,
                    filename=filename,
                    reply_parameters=_reply(place),
                )
            )

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None
    ) -> None:
        with translated():
            await self.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, reply_markup=markup(keyboard)
            )

    async def edit_caption(
        self, chat_id: int, message_id: int, caption: str, keyboard: Keyboard | None = None
    ) -> None:
        with translated():
            await self.bot.edit_message_caption(
                chat_id=chat_id,
                message_id=message_id,
                caption=caption,
                reply_markup=markup(keyboard),
            )

    async def edit_photo(
        self,
        chat_id: int,
        message_id: int,
        photo: Photo,
        caption: str,
        keyboard: Keyboard | None = None,
    ) -> Posted:
        with translated():
            return posted(
                await self.bot.edit_message_media(
                    InputMediaPhoto(photo, caption=caption),
                    chat_id=chat_id,
                    message_id=message_id,
                    reply_markup=markup(keyboard),
                )
            )

    async def edit_keyboard(
        self, chat_id: int, message_id: int, keyboard: Keyboard | None = None
    ) -> None:
        with translated():
            await self.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=markup(keyboard)
            )
