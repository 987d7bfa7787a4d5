"""/styles: the gallery of famous paintings, browsed with ◀ ▶ on one message, and "Use this
one" to take a painting as the style, exactly as a sent style image would be."""

from __future__ import annotations

import asyncio
import logging

from .. import buttons, media, texts
from ..context import BotData
from ..i18n import Translator
from ..messenger import Trouble
from ..retry import brief
from ..sessions import Stage
from ..turns import Press, Turn
from .common import (
    owner_of,
    picture_refusal,
    session_of,
    show_pair,
    translator_of,
)

logger = logging.getLogger(__name__)


async def styles(turn: Turn, data: BotData) -> None:
    """/styles: the gallery of famous paintings, at the first one."""
    await _send_painting(turn, data, 0)


async def browse(press: Press, data: BotData) -> None:
    """◀ ▶ in the gallery: the same message shows another painting."""
    gallery = data.gallery
    index = press.button.index % len(gallery)
    await press.answer()
    if not press.shows_photo or press.message_id is None:  # the "Got your photo" text
        await _send_painting(press, data, index)
        return
    painting, t = gallery[index], translator_of(press, data)
    keyboard = buttons.gallery_keyboard(t, owner_of(press, data), index, len(gallery))
    try:
        edited = await press.messenger.edit_photo(
            press.chat_id,
            press.message_id,
            gallery.photo(painting),
            _painting_caption(t, data, index),
            keyboard,
        )
    except Trouble as error:
        logger.info("Could not show the next painting in place (%s)", brief(error))
        await _send_painting(press, data, index)
        return
    if edited.photo:
        gallery.sent(painting, edited.photo)


async def use_painting(press: Press, data: BotData) -> None:
    """ "Use this one": the painting becomes the style, exactly as a sent style image would."""
    session, t = session_of(press, data), translator_of(press, data)
    refusal = picture_refusal(press, data, t)  # a chosen painting counts as a sent one
    if refusal is not None:
        await press.answer(refusal, alert=True)
        return
    painting = data.gallery[press.button.index]
    painting_bytes = await asyncio.to_thread(painting.path.read_bytes)
    picture = await media.store_picture(painting_bytes, session.new_file(painting.path.suffix))
    had_style = session.style is not None
    await press.answer(t(texts.PAINTING_CHOSEN_NOTE))
    if session.choose_style(picture) is Stage.NEED_CONTENT:
        await press.messenger.send_text(press.place, t(texts.PAINTING_KEPT))
        return
    caption = texts.STYLE_REPLACED if had_style else texts.PAIR_READY
    await show_pair(press, data, session, caption)


async def _send_painting(turn: Turn, data: BotData, index: int) -> None:
    gallery = data.gallery
    painting, t = gallery[index], translator_of(turn, data)
    keyboard = buttons.gallery_keyboard(t, owner_of(turn, data), index, len(gallery))
    sent = await turn.messenger.send_photo(
        turn.place, gallery.photo(painting), _painting_caption(t, data, index), keyboard
    )
    if sent.photo:
        gallery.sent(painting, sent.photo)


def _painting_caption(t: Translator, data: BotData, index: int) -> str:
    gallery = data.gallery
    painting = gallery[index]
    number = index % len(gallery) + 1
    return texts.painting_caption(
        t, painting.title, painting.artist, painting.year, number, len(gallery)
    )
