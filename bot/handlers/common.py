"""What every handler needs: the sender's session, language and keyboards' owner; edits
that only inform; and showing a pair of pictures with its buttons."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from .. import buttons, i18n, media, texts
from ..buttons import Owner
from ..context import BotData
from ..i18n import Translator
from ..messenger import Refused, Trouble
from ..preferences import Preferences
from ..retry import brief
from ..sessions import Session, Stage
from ..turns import Press, Turn

logger = logging.getLogger(__name__)

#: What to send next, by stage (a msgid of texts), added to answers that refuse something.
HINTS = {
    Stage.NEED_CONTENT: texts.NEED_CONTENT,
    Stage.NEED_STYLE: texts.NEED_STYLE,
    Stage.READY: texts.READY,
}


# ---- who is writing ---------------------------------------------------------------------------


def session_of(turn: Turn, data: BotData) -> Session:
    """The sender's session in this chat."""
    return data.sessions.get(turn.chat_id, turn.person.user_id)


def translator_of(turn: Turn, data: BotData) -> Translator:
    """The sender's language: chosen with /language, else their app's, else English."""
    chosen = data.sessions.preferences(turn.person.user_id).language
    return i18n.pick(chosen, turn.person.language)


def preferences_of(turn: Turn, data: BotData) -> Preferences:
    """What the sender chose with /settings and /language."""
    return data.sessions.preferences(turn.person.user_id)


def owner_of(turn: Turn, data: BotData) -> Owner:
    """The sender or presser, as the owner of the keyboards made for them."""
    return Owner(turn.person.user_id, data.button_key)


def picture_refusal(turn: Turn, data: BotData, t: Translator) -> str | None:
    """Why this picture is not taken: the sender's rate, or a full disk (admins are exempt)."""
    user_id = turn.person.user_id
    if data.settings.admin(data.who(user_id)):
        return None
    wait = data.limits.take_picture(user_id)
    if wait is not None:
        return texts.too_many_pictures(t, wait)
    if data.limits.disk_full():
        logger.warning("DATA_DIR is full (DATA_MAX_MB); refusing new pictures")
        return t(texts.DISK_FULL)
    return None


# ---- answering --------------------------------------------------------------------------------


async def inform(call: Awaitable[object], what: str) -> None:
    """An edit that only shows what was already done (a panel's new marks, a pair's buttons
    taken away): a refusal ("not modified", a message gone) or passing trouble is a log
    line, not an error for the user."""
    try:
        await call
    except Refused as error:
        logger.info("Could not %s: %s", what, brief(error))
    except Trouble as error:
        logger.warning("Could not %s: %s", what, brief(error))


# ---- the pair ---------------------------------------------------------------------------------


async def pair_picture(session: Session) -> bytes:
    """The pair preview: content and style side by side."""
    assert session.content is not None and session.style is not None
    return await media.pair_preview(session.content, session.style)


async def show_pair(turn: Turn, data: BotData, session: Session, caption: str) -> None:
    """Send the pair preview with its buttons (``caption``: a msgid of texts); remember the
    photo to reuse it for progress."""
    assert session.pair_id is not None
    t, default = translator_of(turn, data), preferences_of(turn, data).strength
    keyboard = buttons.pair_keyboard(t, owner_of(turn, data), session.pair_id, default)
    sent = await turn.messenger.send_photo(
        turn.place, await pair_picture(session), t(caption), keyboard
    )
    session.remember_preview(sent.photo)


async def replace_pair(press: Press, data: BotData, session: Session) -> None:
    """Edit the pair message into the new pair; if that fails, send the pair anew."""
    assert session.pair_id is not None and press.message_id is not None
    t, default = translator_of(press, data), preferences_of(press, data).strength
    keyboard = buttons.pair_keyboard(t, owner_of(press, data), session.pair_id, default)
    picture = await pair_picture(session)
    try:
        edited = await press.messenger.edit_photo(
            press.chat_id, press.message_id, picture, t(texts.PAIR_SWAPPED), keyboard
        )
    except Trouble as error:
        logger.info("Could not edit the pair in place (%s); sending it again", brief(error))
        await show_pair(press, data, session, texts.PAIR_SWAPPED)
        return
    session.remember_preview(edited.photo)
