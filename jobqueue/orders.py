"""What a job asks of its painter, and what the painter notes back: the vocabulary both sides
of the queue speak, with no Telegram and no PyTorch in it.

A :class:`JobOrder` is written by the chat side and read by a painter; it crosses the queue as
JSON, made and read here only (``to_json`` / ``from_json``), and each side refuses what it
does not understand (``ValueError``). A :class:`Note` is how a painter tells the chat side
something about a result (a code and numbers), for the chat side to word in its user's
language.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


class Strength(enum.StrEnum):
    """How far the picture moves towards the style: the three buttons."""

    LIGHT = "light"
    MEDIUM = "medium"
    STRONG = "strong"

    def lighter(self) -> Strength:
        order = list(Strength)
        return order[max(order.index(self) - 1, 0)]

    def stronger(self) -> Strength:
        order = list(Strength)
        return order[min(order.index(self) + 1, len(order) - 1)]


class Size(enum.StrEnum):
    """A picture's size by name; a painter turns it into pixels by its own device."""

    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


#: Medium's longest side by device kind when the operator sets none (the engine's defaults).
MEDIUM_SIDE = {"cpu": 384, "cuda": 512, "mps": 512}
#: The longest side Large may have on each device: beyond it, a wait in a chat. On a GPU the
#: engine still makes it smaller when the free memory has no room.
LARGEST_SIDE = {"cpu": 768, "cuda": 2048, "mps": 1024}


def size_sides(medium: int, device_kind: str) -> dict[Size, int]:
    """Small / Medium / Large in pixels: Medium is the operator's size, Small two thirds of
    it, Large up to four times it, as far as the device paints in reasonable time."""
    largest = LARGEST_SIDE.get(device_kind, LARGEST_SIDE["cpu"])
    return {
        Size.SMALL: max(32, round(medium * 2 / 3)),
        Size.MEDIUM: medium,
        Size.LARGE: max(medium, min(4 * medium, largest)),
    }


@dataclass(frozen=True)
class JobOrder:
    """What one job asks: the defaults are what the bot did before anyone could choose."""

    strength: Strength = Strength.MEDIUM
    size: Size = Size.MEDIUM
    keep_colours: bool = False  # the photo's own colours, painted in the style's strokes
    keep_faces: bool = True  # faces in the photo keep the person's features (the engine's)

    def to_json(self) -> JSON:
        return {
            "strength": self.strength.value,
            "size": self.size.value,
            "keep_colours": self.keep_colours,
            "keep_faces": self.keep_faces,
        }

    @classmethod
    def from_json(cls, data: object) -> JobOrder:
        """The order ``data`` holds; raises ``ValueError`` for anything else. Fields missing
        take their defaults (orders from before they existed: faces were then kept too, as the
        engine keeps them unless told otherwise)."""
        if not isinstance(data, dict):
            raise ValueError(f"a job order is an object, not {data!r}")
        if "preserve_colors" in data:  # a job queued before orders were typed
            rest = {key: value for key, value in data.items() if key != "preserve_colors"}
            data = {**rest, "keep_colours": data["preserve_colors"]}
        unknown = set(data) - {"strength", "size", "keep_colours", "keep_faces"}
        if unknown:
            raise ValueError(f"a job order has no {sorted(unknown)}")
        keep_colours = _flag(data, "keep_colours", False)
        keep_faces = _flag(data, "keep_faces", True)
        strength = data.get("strength", Strength.MEDIUM.value)
        size = data.get("size", Size.MEDIUM.value)
        return cls(Strength(strength), Size(size), keep_colours, keep_faces)


def _flag(data: JSON, name: str, default: bool) -> bool:
    """An order's yes-or-no field: JSON's true or false only (1 is a number, not a yes)."""
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise ValueError(f"{name} is true or false, not {value!r}")
    return value


class NoteCode(enum.StrEnum):
    """What a painter may have to say about a result."""

    MADE_SMALLER = "made_smaller"  # params: made, asked (pixels): the GPU had no room


@dataclass(frozen=True)
class Note:
    """A painter's remark about a result, as a code and its numbers."""

    code: NoteCode
    params: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> JSON:
        return {"code": self.code.value, "params": dict(self.params)}

    @classmethod
    def from_json(cls, data: object) -> Note:
        """The note ``data`` holds; raises ``ValueError`` for anything else."""
        if not isinstance(data, dict) or not isinstance(data.get("params", {}), dict):
            raise ValueError(f"not a note: {data!r}")
        params = data.get("params", {})
        if not all(isinstance(value, int) for value in params.values()):
            raise ValueError(f"a note's numbers are whole numbers: {params!r}")
        return cls(NoteCode(str(data.get("code"))), dict(params))
