"""Inline buttons: typed callback data that names what a button acts on, and the keyboards.

Callback data is a short string ``action:subject[:strength]:tag`` (Telegram allows 64 bytes,
Discord 100). A keyboard is rows of ``bot.messenger.Button``; each front-end draws it its way.
The subject is what the action acts on: for the buttons of a pair and of its job, the id of
the pair of pictures they were made for, so a button of an old pair is recognised as stale
instead of acting on the new one; for the making-of, the job's id; for the gallery, /language
and /settings, an index. Labels are in the language of the user the keyboard is for (``t``).

A modified client can send any callback data, and in a group everyone sees everyone's
buttons. So each button is sealed for the one user its keyboard was made for (its
:class:`Owner`): the tag is an HMAC of that user's id and the data, under a key only the bot
knows. A press whose tag does not match the presser is refused before any handler runs
(``bot.handlers.guards.check_seal``): a job id, a gallery panel or a /settings panel acts only
for its owner, and nobody can forge a button by guessing an id.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import hashlib
import hmac
import re
from dataclasses import dataclass

from jobqueue import Size, Strength

from . import texts
from .i18n import LANGUAGES, Translator
from .messenger import Button, Keyboard
from .preferences import Choice, Faces, Preferences, is_chosen


class Action(enum.StrEnum):
    # Their subject is the pair (its id):
    PAINT = "paint"  # queue the pair at a strength (also Lighter/Stronger on a result)
    SWAP = "swap"  # content <-> style
    DROP = "drop"  # forget the pair
    STOP = "stop"  # cancel the pair's queued or running job
    NEW_PAIR = "new"  # start over from a result
    # Its subject is a job (its id):
    MAKING_OF = "film"  # the film of a result's run
    # Their subject is an index, in hex:
    GALLERY = "gal"  # show a painting of the gallery (its index)
    USE_PAINTING = "use"  # take that painting as the style (its index)
    LANGUAGE = "lang"  # speak this language (its index in i18n.LANGUAGES)
    PREFERENCE = "set"  # make one /settings choice (its index in CHOICES)


PAIR_ACTIONS = frozenset({Action.PAINT, Action.SWAP, Action.DROP, Action.STOP, Action.NEW_PAIR})
INDEX_ACTIONS = frozenset({Action.GALLERY, Action.USE_PAINTING, Action.LANGUAGE, Action.PREFERENCE})


def button_key(bot_token: str) -> bytes:
    """The key that seals buttons: derived from the bot's token, so every replica of the bot
    shares it without storing anything (a new token makes old buttons say they no longer
    work, as a restart of a bot with a new identity would)."""
    return hmac.new(bot_token.encode(), b"stylebot button seal", hashlib.sha256).digest()


@dataclass(frozen=True)
class Owner:
    """The user a keyboard is made for; only their presses carry the right tag."""

    user_id: int
    key: bytes = dataclasses.field(repr=False)

    def tag(self, payload: str) -> str:
        """72 bits of HMAC-SHA256 over the user and the data: unguessable, and short enough
        that the longest data (a 32-digit job id and a strength) fits Telegram's 64 bytes."""
        message = f"{self.user_id}|{payload}".encode()
        digest = hmac.new(self.key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:TAG_BYTES]).decode()

    def owns(self, data: str) -> bool:
        """Whether ``data`` is a button sealed for this user (compared in constant time)."""
        payload, _, tag = data.rpartition(":")
        return bool(payload) and hmac.compare_digest(tag.encode(), self.tag(payload).encode())


TAG_BYTES = 9  # 12 characters of URL-safe base64


@dataclass(frozen=True)
class ButtonData:
    """What a button does (``action``) to what (``subject``: a pair id, a job id or an index
    in hex, by the action; read it as :attr:`pair_id`, :attr:`job_id` or :attr:`index`)."""

    action: Action
    subject: str
    strength: Strength | None = None  # PAINT's, and only PAINT's

    @property
    def pair_id(self) -> str:
        """The pair a button of a pair or of its job was made for."""
        assert self.action in PAIR_ACTIONS, f"a {self.action} button names no pair"
        return self.subject

    @property
    def job_id(self) -> str:
        """The job whose making-of a MAKING_OF button shows."""
        assert self.action is Action.MAKING_OF, f"a {self.action} button names no job"
        return self.subject

    @property
    def index(self) -> int:
        """The painting, language or /settings choice a button names, by its index."""
        assert self.action in INDEX_ACTIONS, f"a {self.action} button names no index"
        return int(self.subject, 16)

    def encode(self, owner: Owner) -> str:
        """The callback data, sealed for ``owner``."""
        parts = [self.action.value, self.subject]
        if self.strength is not None:
            parts.append(self.strength.value)
        payload = ":".join(parts)
        return f"{payload}:{owner.tag(payload)}"

    @classmethod
    def decode(cls, data: object) -> ButtonData | None:
        """The button's meaning, or None for data this bot never made (the seal is checked
        apart, by :meth:`Owner.owns`)."""
        match = DATA.fullmatch(data) if isinstance(data, str) else None
        if match is None:
            return None
        action, subject, strength = match.groups()
        if (Action(action) is Action.PAINT) != (strength is not None):
            return None
        return cls(Action(action), subject, Strength(strength) if strength else None)


_SUBJECT = r"[0-9a-f]{1,32}"  # a pair id, a job id or an index, all in hex
_STRENGTH = "|".join(strength.value for strength in Strength)
_ACTION = "|".join(action.value for action in Action)
_TAG = r"[A-Za-z0-9_-]{12}"
#: Well-formed callback data: a front-end routes what matches to ``bot.handlers.PRESSES``.
DATA = re.compile(rf"({_ACTION}):({_SUBJECT})(?::({_STRENGTH}))?:{_TAG}")


def _button(label: str, data: ButtonData, owner: Owner) -> Button:
    return Button(label, data.encode(owner))


def _label(t: Translator, label: str, chosen: bool) -> str:
    return texts.marked(t(label)) if chosen else t(label)


def strength_buttons(t: Translator, owner: Owner, pair_id: str, default: Strength) -> list[Button]:
    """Light · Medium · Strong, the user's default strength marked (see /settings)."""
    return [
        _button(
            _label(t, texts.STRENGTH_LABELS[strength], strength is default),
            ButtonData(Action.PAINT, pair_id, strength),
            owner,
        )
        for strength in Strength
    ]


def pair_keyboard(t: Translator, owner: Owner, pair_id: str, default: Strength) -> Keyboard:
    """Under the pair preview: Light · Medium · Strong, then Swap and Cancel."""
    return [
        strength_buttons(t, owner, pair_id, default),
        [
            _button(t(texts.SWAP_BUTTON), ButtonData(Action.SWAP, pair_id), owner),
            _button(t(texts.DROP_BUTTON), ButtonData(Action.DROP, pair_id), owner),
        ],
    ]


def retry_keyboard(t: Translator, owner: Owner, pair_id: str, default: Strength) -> Keyboard:
    """After a failure: the strengths again."""
    return [strength_buttons(t, owner, pair_id, default)]


def progress_keyboard(t: Translator, owner: Owner, pair_id: str) -> Keyboard:
    """Under the progress message: stop this job."""
    stop = _button(t(texts.STOP_BUTTON), ButtonData(Action.STOP, pair_id), owner)
    return [[stop]]


def result_keyboard(
    t: Translator,
    owner: Owner,
    pair_id: str,
    strength: Strength,
    film_of_job: str | None = None,
) -> Keyboard:
    """Under the result: the same pair lighter or stronger (where there is room), or a new
    pair; and the making-of, when the run left a film."""
    row = []
    if strength.lighter() is not strength:
        label = t(texts.LIGHTER_BUTTON)
        row.append(_button(label, ButtonData(Action.PAINT, pair_id, strength.lighter()), owner))
    if strength.stronger() is not strength:
        label = t(texts.STRONGER_BUTTON)
        row.append(_button(label, ButtonData(Action.PAINT, pair_id, strength.stronger()), owner))
    row.append(_button(t(texts.NEW_PAIR_BUTTON), ButtonData(Action.NEW_PAIR, pair_id), owner))
    rows = [row]
    if film_of_job is not None:
        film = ButtonData(Action.MAKING_OF, film_of_job)
        rows.append([_button(t(texts.MAKING_OF_BUTTON), film, owner)])
    return rows


def content_keyboard(t: Translator, owner: Owner) -> Keyboard:
    """Under "Got the content photo": the gallery, for people with no painting at hand."""
    gallery = _button(t(texts.GALLERY_BUTTON), _indexed(Action.GALLERY, 0), owner)
    return [[gallery]]


def gallery_keyboard(t: Translator, owner: Owner, index: int, count: int) -> Keyboard:
    """Under a painting of the gallery: ◀ ▶ to browse (round and round), and "Use this one"."""
    return [
        [
            _button(texts.PREVIOUS_BUTTON, _indexed(Action.GALLERY, (index - 1) % count), owner),
            _button(texts.NEXT_BUTTON, _indexed(Action.GALLERY, (index + 1) % count), owner),
        ],
        [_button(t(texts.USE_PAINTING_BUTTON), _indexed(Action.USE_PAINTING, index), owner)],
    ]


def language_keyboard(owner: Owner, current: str) -> Keyboard:
    """/language: each language under its own name, the one spoken now marked."""
    return [
        [
            _button(
                texts.marked(name) if code == current else name,
                _indexed(Action.LANGUAGE, index),
                owner,
            )
            for index, (code, name) in enumerate(LANGUAGES.items())
        ]
    ]


def language_chosen(data: ButtonData) -> str | None:
    """The language a /language button names (None for an index no longer known)."""
    codes = list(LANGUAGES)
    return codes[data.index] if data.index < len(codes) else None


#: What each /settings button sets, by its index. Old buttons stay in chats: only append.
CHOICES: list[Choice] = [*Size, False, True, *Strength, *Faces]


def preferences_keyboard(
    t: Translator, owner: Owner, chosen: Preferences, sides: dict[Size, int]
) -> Keyboard:
    """/settings: a row for the size, one for the colours, one for faces, one for the default
    strength; the current choice marked. Faces is one button that says how they are and turns
    them the other way: it names the choice it makes, not "toggle", so a press on an old panel
    still does what its label offered."""

    def button(label: str, choice: Choice) -> Button:
        # By identity: Size.MEDIUM == Strength.MEDIUM as strings, and False == 0.
        index = next(i for i, known in enumerate(CHOICES) if known is choice)
        shown = texts.marked(label) if is_chosen(chosen, choice) else label
        return _button(shown, _indexed(Action.PREFERENCE, index), owner)

    return [
        [button(texts.size_button(t, size, sides[size]), size) for size in Size],
        [
            button(t(texts.COLOURS_STYLE_BUTTON), False),
            button(t(texts.COLOURS_KEPT_BUTTON), True),
        ],
        [
            button(t(texts.FACES_KEPT_BUTTON), Faces.PAINT)
            if chosen.keep_faces
            else button(t(texts.FACES_PAINTED_BUTTON), Faces.KEEP)
        ],
        [button(t(texts.STRENGTH_LABELS[strength]), strength) for strength in Strength],
    ]


def preference_chosen(data: ButtonData) -> Choice | None:
    """The choice a /settings button makes (None for an index no longer known)."""
    return CHOICES[data.index] if data.index < len(CHOICES) else None


def _indexed(action: Action, index: int) -> ButtonData:
    """A button that names a thing by its index (a painting, a language, a choice), in hex."""
    return ButtonData(action, format(index, "x"))
