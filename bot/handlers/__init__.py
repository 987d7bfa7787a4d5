"""The conversation's handlers, one module per feature, written once for every platform:
each takes a :class:`~bot.turns.Turn` (or :class:`~bot.turns.Press`) and the shared
:class:`~bot.context.BotData`, and answers through the turn's messenger.

- :mod:`.guards`: before all others, strangers are turned away and presses on buttons sealed
  for someone else refused;
- :mod:`.chat`: /start and /help, /status, /cancel, /stats, and unknown buttons;
- :mod:`.pictures`: a photo or image file taken; every other kind of message explained;
- :mod:`.pairs`: a pair's buttons (paint, swap, drop), its job's (stop), a result's (new
  pair, making-of);
- :mod:`.gallery`: /styles, browsing the paintings, taking one as the style;
- :mod:`.preferences`: /language and /settings, a user's preferences;
- :mod:`.common`: what they share (the sender's session and language, the pair).

Each handler does one small thing and returns; painting happens on the queue, followed by a
task (``jobs.start_following``) that edits the progress message and sends the result.
:data:`COMMANDS` and :data:`PRESSES` say which command and which button reaches which
handler; a front-end routes its platform's updates to them (``bot.telegram.app``).
"""

from __future__ import annotations

from ..buttons import Action
from ..turns import CommandHandler, PressHandler
from . import chat, gallery, pairs, preferences

#: The commands, by name (as typed after the slash).
COMMANDS: dict[str, CommandHandler] = {
    "start": chat.start,
    "help": chat.start,
    "status": chat.status,
    "cancel": chat.cancel,
    "stats": chat.stats,  # admins only; others are told it is unknown
    "styles": gallery.styles,
    "settings": preferences.show_preferences,
    "language": preferences.language,
}

#: The buttons, by what they do.
PRESSES: dict[Action, PressHandler] = {
    Action.PAINT: pairs.paint,
    Action.SWAP: pairs.swap,
    Action.DROP: pairs.drop,
    Action.STOP: pairs.stop,
    Action.NEW_PAIR: pairs.new_pair,
    Action.MAKING_OF: pairs.making_of,
    Action.GALLERY: gallery.browse,
    Action.USE_PAINTING: gallery.use_painting,
    Action.LANGUAGE: preferences.choose_language,
    Action.PREFERENCE: preferences.change_preference,
}
