"""What a user sends: a photo or image file is taken (the first the content, the next the
style); every other kind of message gets a short reason and what the bot still needs. Where
a bot cannot read ordinary messages (a Discord server), /paint brings the whole pair and
its strength at once."""

from __future__ import annotations

import asyncio

from jobqueue import Strength

from .. import buttons, media, texts
from ..context import BotData
from ..sessions import Picture, Session, Stage
from ..turns import IncomingImage, Turn
from .common import HINTS, owner_of, picture_refusal, session_of, show_pair, translator_of
from .pairs import queue_pair


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


async def paint_at_once(
    turn: Turn,
    data: BotData,
    content: IncomingImage,
    style: IncomingImage | int,
    strength: Strength,
) -> None:
    """/paint: the photo, the style (a picture, or a painting of the gallery by its index)
    and the strength in one command. The pair is shown with its buttons (Lighter, Swap... work
    as after sent pictures), and its job queued; a refused picture leaves the user's earlier
    pair as it was."""
    session = session_of(turn, data)
    taken: list[Picture] = []
    try:
        taken.append(await _take(turn, data, session, content))
        if isinstance(style, int):
            painting = data.gallery[style]
            painted = await asyncio.to_thread(painting.path.read_bytes)
            taken.append(await media.store_picture(painted, session.new_file(painting.path.suffix)))
        else:
            taken.append(await _take(turn, data, session, style))
    except media.PictureRefused as refusal:
        for picture in taken:
            picture.delete()
        await turn.reply(str(refusal))
        return
    session.start_pair(taken[0], taken[1])
    await show_pair(turn, data, session, texts.PAIR_READY)
    note, refused = await queue_pair(turn, data, session, strength)
    if refused:
        await turn.reply(note)


async def _take(turn: Turn, data: BotData, session: Session, image: IncomingImage) -> Picture:
    """One picture of /paint, downloaded and checked (raises ``PictureRefused``)."""
    t = translator_of(turn, data)
    refusal = picture_refusal(turn, data, t)
    if refusal is not None:
        raise media.PictureRefused(refusal)
    path = session.new_file(image.suffix)
    return await media.fetch_picture(image, path, data.settings.max_download_mb, t)
