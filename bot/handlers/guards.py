"""The handlers that run before all others and may stop an update there: a stranger (see
ALLOWED_USERS) is turned away, and a press on a button sealed for someone else is refused."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop, filters

from .. import i18n, texts
from ..buttons import ButtonData
from ..context import Context, Handler
from .common import answer, owner_of, translator_of

logger = logging.getLogger(__name__)


def gate(addressed: filters.BaseFilter) -> Handler:
    """A handler to run before all others: a stranger (see ALLOWED_USERS) gets one polite
    sentence when they address the bot, and nothing of theirs is downloaded or kept."""

    async def turn_away(update: Update, context: Context) -> None:
        user = update.effective_user
        if user is None or context.bot_data.settings.allowed(user.id, user.username):
            return
        sorry = i18n.pick(None, user.language_code)(texts.NOT_ALLOWED)  # keeps nothing of theirs
        if update.callback_query is not None:
            await answer(update.callback_query, sorry, alert=True)
        elif update.message is not None and addressed.check_update(update):
            await update.message.reply_text(sorry)
        raise ApplicationHandlerStop

    return turn_away


async def check_seal(update: Update, context: Context) -> None:
    """Before any button handler: a press on a button made for someone else (another
    member's panel in a group, or data a modified client made up) is refused here."""
    query = update.callback_query
    assert query is not None
    if ButtonData.decode(query.data) is None:
        return  # not a button of ours at all: ``chat.unknown_button`` answers it
    if owner_of(update, context).owns(str(query.data)):
        return
    user = update.effective_user
    logger.info("Refused a press by user %s on a button sealed for someone else", user and user.id)
    await answer(query, translator_of(update, context)(texts.NOT_YOUR_BUTTON), alert=True)
    raise ApplicationHandlerStop
