"""Inline buttons: typed callback data that names the pair it belongs to, and the keyboards.

Callback data is a short string ``action:pair_id[:strength]`` (Telegram allows 64 bytes).
Every button carries the id of the pair of pictures it was made for, so a button of an old
pair is recognised as stale instead of acting on the new one.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from engine import Strength

from . import texts


class Action(enum.StrEnum):
    PAINT = "paint"  # queue the pair at a strength (also Lighter/Stronger on a result)
    SWAP = "swap"  # content <-> style
    DROP = "drop"  # forget the pair
    STOP = "stop"  # cancel the pair's queued or running job
    NEW_PAIR = "new"  # start over from a result
    MAKING_OF = "film"  # the film of a result's run (its id slot holds the job id)
    GALLERY = "gal"  # show a painting of the gallery (id slot: its index, in hex)
    USE_PAINTING = "use"  # take that painting as the style (id slot: its index)


@dataclass(frozen=True)
class ButtonData:
    action: Action
    pair_id: str
    strength: Strength | None = None

    def encode(self) -> str:
        parts = [self.action.value, self.pair_id]
        if self.strength is not None:
            parts.append(self.strength.value)
        return ":".join(parts)

    @classmethod
    def decode(cls, data: object) -> ButtonData | None:
        """The button's meaning, or None for data this bot never made."""
        match = _DATA.fullmatch(data) if isinstance(data, str) else None
        if match is None:
            return None
        action, pair_id, strength = match.groups()
        if (Action(action) is Action.PAINT) != (strength is not None):
            return None
        return cls(Action(action), pair_id, Strength(strength) if strength else None)

    @staticmethod
    def pattern(action: Action) -> re.Pattern[str]:
        """For ``CallbackQueryHandler(pattern=...)``: well-formed data of this action."""
        return re.compile(rf"^{action.value}:{_PAIR_ID}(?::(?:{_STRENGTH}))?$")


_PAIR_ID = r"[0-9a-f]{1,32}"  # a pair id, or for MAKING_OF a job id
_STRENGTH = "|".join(strength.value for strength in Strength)
_ACTION = "|".join(action.value for action in Action)
_DATA = re.compile(rf"({_ACTION}):({_PAIR_ID})(?::({_STRENGTH}))?")


def _button(label: str, data: ButtonData) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data.encode())


def strength_buttons(pair_id: str) -> list[InlineKeyboardButton]:
    return [
        _button(texts.STRENGTH_LABELS[strength], ButtonData(Action.PAINT, pair_id, strength))
        for strength in Strength
    ]


def pair_keyboard(pair_id: str) -> InlineKeyboardMarkup:
    """Under the pair preview: Light · Medium · Strong, then Swap and Cancel."""
    return InlineKeyboardMarkup(
        [
            strength_buttons(pair_id),
            [
                _button(texts.SWAP_BUTTON, ButtonData(Action.SWAP, pair_id)),
                _button(texts.DROP_BUTTON, ButtonData(Action.DROP, pair_id)),
            ],
        ]
    )


def retry_keyboard(pair_id: str) -> InlineKeyboardMarkup:
    """After a failure: the strengths again."""
    return InlineKeyboardMarkup([strength_buttons(pair_id)])


def progress_keyboard(pair_id: str) -> InlineKeyboardMarkup:
    """Under the progress message: stop this job."""
    return InlineKeyboardMarkup([[_button(texts.STOP_BUTTON, ButtonData(Action.STOP, pair_id))]])


def result_keyboard(
    pair_id: str, strength: Strength, film_of_job: str | None = None
) -> InlineKeyboardMarkup:
    """Under the result: the same pair lighter or stronger (where there is room), or a new
    pair; and the making-of, when the run left a film."""
    row = []
    if strength.lighter() is not strength:
        label = texts.LIGHTER_BUTTON
        row.append(_button(label, ButtonData(Action.PAINT, pair_id, strength.lighter())))
    if strength.stronger() is not strength:
        label = texts.STRONGER_BUTTON
        row.append(_button(label, ButtonData(Action.PAINT, pair_id, strength.stronger())))
    row.append(_button(texts.NEW_PAIR_BUTTON, ButtonData(Action.NEW_PAIR, pair_id)))
    rows = [row]
    if film_of_job is not None:
        rows.append([_button(texts.MAKING_OF_BUTTON, ButtonData(Action.MAKING_OF, film_of_job))])
    return InlineKeyboardMarkup(rows)


def content_keyboard() -> InlineKeyboardMarkup:
    """Under "Got the content photo": the gallery, for people with no painting at hand."""
    return InlineKeyboardMarkup([[_button(texts.GALLERY_BUTTON, _painting(Action.GALLERY, 0))]])


def gallery_keyboard(index: int, count: int) -> InlineKeyboardMarkup:
    """Under a painting of the gallery: ◀ ▶ to browse (round and round), and "Use this one"."""
    return InlineKeyboardMarkup(
        [
            [
                _button(texts.PREVIOUS_BUTTON, _painting(Action.GALLERY, (index - 1) % count)),
                _button(texts.NEXT_BUTTON, _painting(Action.GALLERY, (index + 1) % count)),
            ],
            [_button(texts.USE_PAINTING_BUTTON, _painting(Action.USE_PAINTING, index))],
        ]
    )


def _painting(action: Action, index: int) -> ButtonData:
    return ButtonData(action, format(index, "x"))
