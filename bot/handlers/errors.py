"""The one error handler: log first, then apologise to the user involved, if any."""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import TelegramError

from .. import texts
from ..context import Context
from ..retry import brief, is_passing
from .common import answer, translator_of

logger = logging.getLogger(__name__)


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
    try:
        sorry = translator_of(update, context)(texts.SOMETHING_WENT_WRONG)
    except Exception:  # the error may be the store's own: apologise in English then
        sorry = texts.SOMETHING_WENT_WRONG
    with contextlib.suppress(TelegramError):
        await context.bot.send_message(update.effective_chat.id, sorry)
    if update.callback_query is not None:  # stop the button's spinner, if still unanswered
        await answer(update.callback_query)
