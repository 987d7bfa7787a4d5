"""What each user chose with /settings and /language, and what a choice means in pixels.

Kept per user (not per chat) in ``DATA_DIR/sessions.sqlite3`` by the session store, so it
outlives restarts and the daily sweep of idle sessions.

**Sizes.** The operator's ``ENGINE_MAX_SIDE`` (or, unset, the engine's default: 384 px on the
CPU, 512 px on a GPU) is *Medium*, what everybody got before sizes existed. *Small* is two
thirds of it (256 px on the CPU), *Large* up to four times it (768 px on the CPU, 2048 px on a
GPU with room for it): ``jobqueue.orders.size_sides``. A job carries the size's *name*; the painter
turns it into pixels by its own device, so a GPU worker paints GPU sizes whatever the bot's
``ENGINE_DEVICE`` says. /settings shows the pixels for ``ENGINE_DEVICE`` (``auto`` counts as
the CPU); the result's caption always says what was made.

**Faces.** On by default: faces the engine finds in the photo keep the person's features. Off,
a face is painted like everything else (some want exactly that). The caption says how many
faces were kept, since only the engine knows whether it found any.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass

from config import Settings
from jobqueue import Size, Strength
from jobqueue.orders import MEDIUM_SIDE, size_sides


@dataclass(frozen=True)
class Preferences:
    """One user's choices; the defaults are what the bot did before there were any."""

    language: str | None = None  # chosen with /language; None: the Telegram app's language
    size: Size = Size.MEDIUM
    keep_colours: bool = False  # the engine's preserve_colors
    strength: Strength = Strength.MEDIUM  # the strength button marked on every pair
    keep_faces: bool = True  # the engine's keep_faces: on unless the user turns it off


class Faces(enum.Enum):
    """/settings' choice for faces: a type of its own, as colours already took ``bool``."""

    KEEP = True
    PAINT = False


#: One choice of /settings: a size, keeping the photo's colours (True) or not, a strength,
#: keeping faces or not.
Choice = Size | bool | Strength | Faces


def with_choice(chosen: Preferences, choice: Choice) -> Preferences:
    """``chosen`` with ``choice`` made."""
    if isinstance(choice, Size):
        return dataclasses.replace(chosen, size=choice)
    if isinstance(choice, Strength):
        return dataclasses.replace(chosen, strength=choice)
    if isinstance(choice, Faces):
        return dataclasses.replace(chosen, keep_faces=choice.value)
    return dataclasses.replace(chosen, keep_colours=choice)


def is_chosen(chosen: Preferences, choice: Choice) -> bool:
    """Whether ``choice`` is what ``chosen`` holds (the button to mark)."""
    if isinstance(choice, Size):
        return chosen.size is choice
    if isinstance(choice, Strength):
        return chosen.strength is choice
    if isinstance(choice, Faces):
        return chosen.keep_faces is choice.value
    return chosen.keep_colours is choice


def device_kind(settings: Settings) -> str:
    """ "cuda" or "mps" when ENGINE_DEVICE names a GPU; else (cpu, auto) "cpu"."""
    if settings.engine_device.startswith("cuda"):
        return "cuda"
    return "mps" if settings.engine_device == "mps" else "cpu"


def output_sides(settings: Settings) -> dict[Size, int]:
    """Each size's longest side in pixels as this bot expects its painter to make it (the
    painter decides, by its own device: see ``worker.painter.EnginePainter.options``)."""
    kind = device_kind(settings)
    return size_sides(settings.engine_max_side or MEDIUM_SIDE[kind], kind)
