"""What a user sends: a photo or image file is taken (the first the content, the next the
style); every other kind of message gets a short reason and what the bot still needs."""

from __future__ import annotations

from .. import buttons, media, texts
from ..context import BotData
from ..sessions import Stage
from ..turns import IncomingImage, Turn
from .common import HINTS, owner_of, picture_refusal, session_of, show_pair, translator_of


async def receive_image(turn: Turn, data: BotData, image: IncomingImage) -> None:
    """Take a photo or image file: the first is the content, the next the style."""
    session, t = session_of(turn, data), translator_of(turn, data)
    refusal = picture_refusal(turn, data, t)
    if refusal is not None:  # before downloading anything
        await turn.reply(texts.with_hint(refusal, t(HINTS[session.stage])))
        return
    limit_mb = data.settings.max_download_mb
    try:
        path = session.new_file(image.suffix)
        picture = await media.fetch_picture(image, path, limit_mb, t)
    except media.PictureRefused as refused:
        await turn.reply(texts.with_hint(str(refused), t(HINTS[session.stage])))
        return
    had_style = session.stage is Stage.READY
    if session.add(picture) is Stage.NEED_STYLE:
        keyboard = buttons.content_keyboard(t, owner_of(turn, data))
        await turn.messenger.send_text(turn.place, t(texts.GOT_CONTENT), keyboard)
    else:
        caption = texts.STYLE_REPLACED if had_style else texts.PAIR_READY
        await show_pair(turn, data, session, caption)


async def explain(turn: Turn, data: BotData, reason: str) -> None:
    """Refuse a kind of message politely (``reason``: a msgid of texts) and say what to send
    instead, keeping the state."""
    t, stage = translator_of(turn, data), session_of(turn, data).stage
    await turn.reply(texts.with_hint(t(reason), t(HINTS[stage])))
