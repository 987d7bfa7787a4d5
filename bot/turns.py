"""What a person did, as the conversation sees it on any platform: a :class:`Turn` (a
message or a command) or a :class:`Press` (a button), and the :class:`IncomingImage` a
message may carry. A front-end (``bot.telegram``) makes these from its platform's updates and
hands them to the conversation's handlers (``bot.handlers``)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .buttons import ButtonData
from .messenger import Messenger, Place, Trouble

if TYPE_CHECKING:
    from .context import BotData

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Person:
    """Who wrote or pressed: their id, their @name (if any), and their app's language."""

    user_id: int
    username: str | None = None
    language: str | None = None  # an IETF tag such as "ru" or "en-US", as the app says


@dataclass(frozen=True)
class Turn:
    """A message or command from ``person`` in a chat."""

    person: Person
    chat_id: int
    in_group: bool
    message_id: int | None  # the message sent, or the one whose button was pressed
    messenger: Messenger  # for answering on the same platform

    @property
    def place(self) -> Place:
        """Where answers go: this chat, and in a group as a reply to this message, so it is
        clear who is meant."""
        return Place(self.chat_id, self.message_id if self.in_group else None)

    async def reply(self, text: str) -> None:
        await self.messenger.send_text(self.place, text)


#: Answers a press (text or none, shown as an alert or not); may raise a Trouble.
AnswerPress = Callable[[str | None, bool], Awaitable[None]]


@dataclass(frozen=True)
class Press(Turn):
    """A press on one of the bot's buttons. ``message_id`` is the button's message."""

    button: ButtonData
    sealed: str  # the data as the platform delivered it, seal included
    shows_photo: bool  # the button's message is a photo (the gallery edits it in place)
    answer_press: AnswerPress

    async def answer(self, text: str | None = None, *, alert: bool = False) -> None:
        """Answer the press (see :func:`answer_quietly`)."""
        await answer_quietly(self.answer_press, text, alert=alert)


async def answer_quietly(answer: AnswerPress, text: str | None, *, alert: bool = False) -> None:
    """Answer a press. It only informs (and platforms forget a press after a few seconds),
    so a failure is one log line and never stops the work the press asked for."""
    try:
        await answer(text, alert)
    except Trouble as error:
        logger.warning("Could not answer a button press: %s", error)


@dataclass(frozen=True)
class IncomingImage:
    """The image a message carries: its size as the platform announced it (may be
    missing), the suffix it is stored under, and how to download it (raises a Trouble)."""

    size: int | None
    suffix: str
    download: Callable[[], Awaitable[bytes]]


#: A handler of a command, and of a press (see ``bot.handlers``).
CommandHandler = Callable[[Turn, "BotData"], Coroutine[Any, Any, None]]
PressHandler = Callable[[Press, "BotData"], Coroutine[Any, Any, None]]
