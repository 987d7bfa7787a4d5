"""A user's preferences: /language, and /settings (size, colours, faces, default strength).
Each panel is a message of buttons; a press keeps the choice (in DATA_DIR) and redraws the
panel."""

from __future__ import annotations

import dataclasses

from .. import buttons, i18n, texts
from ..context import BotData
from ..messenger import Keyboard
from ..preferences import output_sides, with_choice
from ..turns import Press, Turn
from .common import inform, owner_of, preferences_of, translator_of


async def language(turn: Turn, data: BotData) -> None:
    """/language: the languages as buttons, the one spoken now marked."""
    t = translator_of(turn, data)
    keyboard = buttons.language_keyboard(owner_of(turn, data), t.language)
    await turn.messenger.send_text(turn.place, t(texts.LANGUAGE_PROMPT), keyboard)


async def choose_language(press: Press, data: BotData) -> None:
    """A language button: speak it from now on (kept in DATA_DIR), and say so in it."""
    code = buttons.language_chosen(press.button)
    if code is None:
        await press.answer(translator_of(press, data)(texts.UNKNOWN_BUTTON))
        return
    sessions, user_id = data.sessions, press.person.user_id
    sessions.choose(user_id, dataclasses.replace(sessions.preferences(user_id), language=code))
    await press.answer()
    t = i18n.translator(code)
    keyboard = buttons.language_keyboard(owner_of(press, data), code)
    await _redraw(press, t(texts.LANGUAGE_CHOSEN), keyboard, "mark the language chosen")


async def show_preferences(turn: Turn, data: BotData) -> None:
    """/settings: size, colours, faces and default strength, with buttons that change them."""
    text, keyboard = _preferences_panel(turn, data)
    await turn.messenger.send_text(turn.place, text, keyboard)


async def change_preference(press: Press, data: BotData) -> None:
    """A /settings button: keep the change, and show the preferences as they are now."""
    change = buttons.preference_chosen(press.button)
    t = translator_of(press, data)
    if change is None:
        await press.answer(t(texts.UNKNOWN_BUTTON))
        return
    sessions, user_id = data.sessions, press.person.user_id
    sessions.choose(user_id, with_choice(sessions.preferences(user_id), change))
    await press.answer(t(texts.PREFERENCE_SAVED))
    text, keyboard = _preferences_panel(press, data)
    await _redraw(press, text, keyboard, "show the preferences")


async def _redraw(press: Press, text: str, keyboard: Keyboard, what: str) -> None:
    """The panel the press was on, as it is now."""
    if press.message_id is not None:
        edit = press.messenger.edit_text(press.chat_id, press.message_id, text, keyboard)
        await inform(edit, what)


def _preferences_panel(turn: Turn, data: BotData) -> tuple[str, Keyboard]:
    """The /settings message: the user's preferences, and the buttons that change them."""
    t, chosen = translator_of(turn, data), preferences_of(turn, data)
    sides = output_sides(data.settings)
    text = texts.preferences_panel(
        t,
        chosen.size,
        sides[chosen.size],
        chosen.keep_colours,
        chosen.strength,
        chosen.keep_faces,
    )
    return text, buttons.preferences_keyboard(t, owner_of(turn, data), chosen, sides)
