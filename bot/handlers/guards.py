"""What runs before any handler and may stop a turn there: a stranger (see ALLOWED_USERS) is
turned away, and a press on a button sealed for someone else is refused. Each front-end
calls these first and stops when they say so."""

from __future__ import annotations

import logging

from .. import i18n, texts
from ..context import BotData
from ..turns import Person, Press
from .common import owner_of, translator_of

logger = logging.getLogger(__name__)


def stranger(person: Person, data: BotData) -> str | None:
    """For someone ALLOWED_USERS leaves out, the one polite sentence they get when they
    address the bot (nothing of theirs is downloaded or kept); None for everyone else."""
    if data.settings.allowed(data.who(person.user_id), person.username):
        return None
    return i18n.pick(None, person.language)(texts.NOT_ALLOWED)  # keeps no language of theirs


async def refuse_foreign(press: Press, data: BotData) -> bool:
    """Whether the press is on a button made for someone else (another member's panel in a
    group, or data a modified client made up); if so it is refused here, with an alert."""
    if owner_of(press, data).owns(press.sealed):
        return False
    user = press.person.user_id
    logger.info("Refused a press by user %s on a button sealed for someone else", user)
    await press.answer(translator_of(press, data)(texts.NOT_YOUR_BUTTON), alert=True)
    return True
