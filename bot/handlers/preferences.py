"""A user's preferences: /language, and /settings (size, colours, default strength). Each
panel is a message of buttons; a press keeps the choice (in DATA_DIR) and redraws the panel."""

from __future__ import annotations

import dataclasses

from telegram import InlineKeyboardMarkup, Update

from .. import buttons, i18n, texts
from ..context import Context
from ..preferences import output_sides, with_choice
from .common import (
    answer,
    button_of,
    inform,
    message_of,
    owner_of,
    preferences_of,
    translator_of,
)


async def language(update: Update, context: Context) -> None:
    """/language: the languages as buttons, the one spoken now marked."""
    t = translator_of(update, context)
    await message_of(update).reply_text(
        t(texts.LANGUAGE_PROMPT),
        reply_markup=buttons.language_keyboard(owner_of(update, context), t.language),
    )


async def choose_language(update: Update, context: Context) -> None:
    """A language button: speak it from now on (kept in DATA_DIR), and say so in it."""
    query, button = button_of(update)
    code = buttons.language_chosen(button)
    user = update.effective_user
    assert user is not None
    if code is None:
        await answer(query, translator_of(update, context)(texts.UNKNOWN_BUTTON))
        return
    sessions = context.bot_data.sessions
    sessions.choose(user.id, dataclasses.replace(sessions.preferences(user.id), language=code))
    await answer(query)
    t = i18n.translator(code)
    keyboard = buttons.language_keyboard(owner_of(update, context), code)
    chosen = query.edit_message_text(t(texts.LANGUAGE_CHOSEN), reply_markup=keyboard)
    await inform(chosen, "mark the language chosen")


async def show_preferences(update: Update, context: Context) -> None:
    """/settings: size, colours and default strength, with buttons that change them."""
    text, keyboard = _preferences_panel(update, context)
    await message_of(update).reply_text(text, reply_markup=keyboard)


async def change_preference(update: Update, context: Context) -> None:
    """A /settings button: keep the change, and show the preferences as they are now."""
    query, button = button_of(update)
    change = buttons.preference_chosen(button)
    user = update.effective_user
    assert user is not None
    t = translator_of(update, context)
    if change is None:
        await answer(query, t(texts.UNKNOWN_BUTTON))
        return
    sessions = context.bot_data.sessions
    sessions.choose(user.id, with_choice(sessions.preferences(user.id), change))
    await answer(query, t(texts.PREFERENCE_SAVED))
    text, keyboard = _preferences_panel(update, context)
    await inform(query.edit_message_text(text, reply_markup=keyboard), "show the preferences")


def _preferences_panel(update: Update, context: Context) -> tuple[str, InlineKeyboardMarkup]:
    """The /settings message: the user's preferences, and the buttons that change them."""
    t, chosen = translator_of(update, context), preferences_of(update, context)
    sides = output_sides(context.bot_data.settings)
    text = texts.preferences_panel(
        t, chosen.size, sides[chosen.size], chosen.keep_colours, chosen.strength
    )
    return text, buttons.preferences_keyboard(t, owner_of(update, context), chosen, sides)
