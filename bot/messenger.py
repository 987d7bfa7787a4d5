"""What the conversation needs from a chat platform, in its own words: the port every
front-end implements (``bot.telegram`` today).

The conversation sends and edits messages through a :class:`Messenger`; its keyboards are
rows of :class:`Button` (a label and sealed data, see ``bot.buttons``); a failure is one of
the :class:`Trouble` kinds below, whatever the platform said, so waiting out an outage or
giving up on a closed chat is written once (``bot.retry``), not once per platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Button:
    """One button: what it says, and the sealed data a press sends back."""

    label: str
    data: str


#: Rows of buttons, top to bottom.
Keyboard = Sequence[Sequence[Button]]


@dataclass(frozen=True)
class Place:
    """Where a message goes: the chat, and in groups the message it answers."""

    chat_id: int
    reply_to: int | None = None


@dataclass(frozen=True)
class Posted:
    """A message the bot sent (or edited): its id, and a handle for showing its photo again
    without uploading it (Telegram's file id), when the platform has one."""

    message_id: int
    photo: str | None = None


#: A picture to show: its bytes, or a handle from :attr:`Posted.photo`.
Photo = bytes | str


class Messenger(Protocol):
    """Sending and editing messages on one platform. Each method raises a :class:`Trouble`
    when the platform refuses or cannot be reached; none retries by itself, except the
    sends that answer a user (``send_text``, ``send_photo``, ``send_film``), which wait out
    passing trouble for ``bot.retry.REPLY_GIVE_UP_SECONDS`` as the platform allows."""

    async def send_text(self, place: Place, text: str, keyboard: Keyboard | None = None) -> Posted:
        """A text message."""
        ...

    async def send_photo(
        self, place: Place, photo: Photo, caption: str, keyboard: Keyboard | None = None
    ) -> Posted:
        """A picture shown in the chat, with a caption."""
        ...

    async def send_file(
        self,
        place: Place,
        data: bytes,
        filename: str,
        caption: str,
        keyboard: Keyboard | None = None,
    ) -> Posted:
        """A file to download as it is (the lossless PNG)."""
        ...

    async def send_film(self, place: Place, data: bytes, filename: str, caption: str) -> Posted:
        """A short animation (the making-of GIF)."""
        ...

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None
    ) -> None:
        """A text message's new text; ``keyboard`` None takes its buttons away."""
        ...

    async def edit_caption(
        self, chat_id: int, message_id: int, caption: str, keyboard: Keyboard | None = None
    ) -> None:
        """A photo's new caption; ``keyboard`` None takes its buttons away."""
        ...

    async def edit_photo(
        self,
        chat_id: int,
        message_id: int,
        photo: Photo,
        caption: str,
        keyboard: Keyboard | None = None,
    ) -> Posted:
        """A photo message showing another picture."""
        ...

    async def edit_keyboard(
        self, chat_id: int, message_id: int, keyboard: Keyboard | None = None
    ) -> None:
        """Only the buttons (None: none)."""
        ...


class Trouble(Exception):
    """A send or edit that did not go through; ``str()`` says why, briefly."""


class Refused(Trouble):
    """The platform refused the request as made: sending it again would not help."""


class Unchanged(Refused):
    """An edit that would change nothing (a harmless refusal)."""


class Gone(Refused):
    """The message or the chat is gone for the bot: deleted, or the user blocked it."""


class TooBig(Refused):
    """A file over the platform's size limit (a download or an upload)."""


class SlowDown(Trouble):
    """A rate limit: the platform asks for a pause of ``seconds`` before the next try."""

    def __init__(self, reason: str, seconds: float) -> None:
        super().__init__(reason)
        self.seconds = seconds


class Unreachable(Trouble):
    """The platform could not be reached or failed on its side (network, 5xx): passes."""
