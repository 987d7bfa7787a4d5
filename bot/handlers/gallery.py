"""/styles: the gallery of famous paintings, browsed with ◀ ▶ on one message, and "Use this
one" to take a painting as the style, exactly as a sent style image would be."""

from __future__ import annotations

import asyncio
import logging

from telegram import InputMediaPhoto, Message, Update
from telegram.error import BadRequest, NetworkError

from .. import buttons, media, texts
from ..context import Context
from ..i18n import Translator
from ..retry import brief
from ..sessions import Stage
from .common import (
    answer,
    button_of,
    owner_of,
    picture_refusal,
    send,
    session_of,
    show_pair,
    target_of,
    translator_of,
)

logger = logging.getLogger(__name__)


async def styles(update: Update, context: Context) -> None:
    """/styles: the gallery of famous paintings, at the first one."""
    await _send_painting(context, update, 0)


async def browse(update: Update, context: Context) -> None:
    """◀ ▶ in the gallery: the same message shows another painting."""
    query, button = button_of(update)
    gallery = context.bot_data.gallery
    index = button.index % len(gallery)
    await answer(query)
    message = query.message
    if not isinstance(message, Message) or not message.photo:  # the "Got your photo" text
        await _send_painting(context, update, index)
        return
    painting, t = gallery[index], translator_of(update, context)
    photo = InputMediaPhoto(gallery.photo(painting), caption=_painting_caption(t, context, index))
    keyboard = buttons.gallery_keyboard(t, owner_of(update, context), index, len(gallery))
    try:
        edited = await message.edit_media(photo, reply_markup=keyboard)
    except (BadRequest, NetworkError) as error:
        logger.info("Could not show the next painting in place (%s)", brief(error))
        await _send_painting(context, update, index)
        return
    if isinstance(edited, Message) and edited.photo:
        gallery.sent(painting, edited.photo[-1].file_id)


async def use_painting(update: Update, context: Context) -> None:
    """ "Use this one": the painting becomes the style, exactly as a sent style image would."""
    query, button = button_of(update)
    session, t = session_of(update, context), translator_of(update, context)
    refusal = picture_refusal(update, context, t)  # a chosen painting counts as a sent one
    if refusal is not None:
        await answer(query, refusal, alert=True)
        return
    painting = context.bot_data.gallery[button.index]
    painting_bytes = await asyncio.to_thread(painting.path.read_bytes)
    picture = await media.store_picture(painting_bytes, session.new_file(painting.path.suffix))
    had_style = session.style is not None
    await answer(query, t(texts.PAINTING_CHOSEN_NOTE))
    if session.choose_style(picture) is Stage.NEED_CONTENT:
        await send(context, update, session, t(texts.PAINTING_KEPT))
        return
    caption = texts.STYLE_REPLACED if had_style else texts.PAIR_READY
    await show_pair(context, update, session, caption)


async def _send_painting(context: Context, update: Update, index: int) -> None:
    gallery = context.bot_data.gallery
    painting = gallery[index]
    session, t = session_of(update, context), translator_of(update, context)
    target = target_of(update, session)
    sent = await context.bot.send_photo(
        target.chat_id,
        gallery.photo(painting),
        caption=_painting_caption(t, context, index),
        reply_markup=buttons.gallery_keyboard(t, owner_of(update, context), index, len(gallery)),
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
