"""What a user sends: a photo or image file is taken (the first the content, the next the
style); every other kind of message gets a short reason and what the bot still needs."""

from __future__ import annotations

from telegram import Update

from .. import buttons, media, texts
from ..context import Context, Handler
from ..sessions import Stage
from .common import (
    HINTS,
    message_of,
    owner_of,
    picture_refusal,
    reply,
    session_of,
    show_pair,
    translator_of,
)


async def receive_image(update: Update, context: Context) -> None:
    """Take a photo or image file: the first is the content, the next the style."""
    session, t = session_of(update, context), translator_of(update, context)
    incoming = media.incoming_image(message_of(update))
    assert incoming is not None, "routed here by the photo / image document filters"
    refusal = picture_refusal(update, context, t)
    if refusal is not None:  # before downloading anything
        await reply(update, texts.with_hint(refusal, t(HINTS[session.stage])))
        return
    limit_mb = context.bot_data.settings.max_download_mb
    try:
        path = session.new_file(incoming.suffix)
        picture = await media.fetch_picture(context.bot, incoming, path, limit_mb, t)
    except media.PictureRefused as refused:
        await reply(update, texts.with_hint(str(refused), t(HINTS[session.stage])))
        return
    had_style = session.stage is Stage.READY
    if session.add(picture) is Stage.NEED_STYLE:
        await message_of(update).reply_text(
            t(texts.GOT_CONTENT),
            reply_markup=buttons.content_keyboard(t, owner_of(update, context)),
        )
    else:
        caption = texts.STYLE_REPLACED if had_style else texts.PAIR_READY
        await show_pair(context, update, session, caption)


def explain(reason: str) -> Handler:
    """A handler that answers ``reason`` plus what the bot still needs, keeping the state."""

    async def refuse(update: Update, context: Context) -> None:
        """Refuse this kind of message politely and say what to send instead."""
        t, stage = translator_of(update, context), session_of(update, context).stage
        await reply(update, texts.with_hint(t(reason), t(HINTS[stage])))

    return refuse
