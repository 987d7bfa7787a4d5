"""The conversation's :class:`~bot.messenger.Messenger` on Discord: messages sent and edited
by channel and message id with the bot's token (so a job outlives any interaction's
15-minute token), keyboards as views of buttons, pictures as attachments."""

from __future__ import annotations

import io
import secrets
from typing import Any

import discord

from ..messenger import Keyboard, Photo, Place, Posted
from ..retry import REPLY_GIVE_UP_SECONDS, persist
from .trouble import translated

PHOTO_NAME = "picture.jpg"  # a picture shown in the chat: Discord shows an attached image


def view_of(keyboard: Keyboard | None) -> discord.ui.View:
    """A keyboard as a view of buttons, row by row (None: an empty view, which takes the
    buttons away). Nothing waits on the view: presses are routed by their sealed data
    (``bot.discord.app``), so they work after a restart too."""
    view = discord.ui.View(timeout=None)
    if keyboard is None:
        return view
    for row, buttons in enumerate(keyboard):
        for button in buttons:
            view.add_item(discord.ui.Button(label=button.label, custom_id=button.data, row=row))
    return view


def file_of(data: bytes, name: str) -> discord.File:
    return discord.File(io.BytesIO(data), filename=name)


def photo_file(photo: Photo) -> discord.File:
    assert isinstance(photo, bytes), "Discord has no handles for pictures: Posted.photo is None"
    return file_of(photo, PHOTO_NAME)


class DiscordMessenger:
    """Sends and edits through a ``discord.Client``. Replies to a user wait out passing
    trouble for ``REPLY_GIVE_UP_SECONDS``, beyond discord.py's own retries."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    def _channel(self, chat_id: int) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(chat_id)

    async def _send(
        self,
        place: Place,
        what: str,
        text: str,
        file: discord.File | None = None,
        keyboard: Keyboard | None = None,
    ) -> Posted:
        channel = self._channel(place.chat_id)
        # One nonce for every try: a message that went through, though its answer was lost
        # (a 503, a reset), is not sent again (Discord's enforce_nonce; discord.py would draw a
        # new nonce for each call).
        extra: dict[str, Any] = {"view": view_of(keyboard), "nonce": secrets.randbits(64)}
        if file is not None:
            extra["file"] = file
        if place.reply_to is not None:
            extra["reference"] = discord.MessageReference(
                message_id=place.reply_to, channel_id=place.chat_id, fail_if_not_exists=False
            )

        async def send() -> discord.Message:
            if file is not None:
                file.reset()  # a retry reads the picture again from its start
            with translated():
                return await channel.send(text, **extra)

        message = await persist(send, REPLY_GIVE_UP_SECONDS, what)
        return Posted(message.id)

    async def send_text(self, place: Place, text: str, keyboard: Keyboard | None = None) -> Posted:
        return await self._send(place, "message", text, keyboard=keyboard)

    async def send_photo(
        self, place: Place, photo: Photo, caption: str, keyboard: Keyboard | None = None
    ) -> Posted:
        return await self._send(place, "photo", caption, photo_file(photo), keyboard)

    async def send_file(
        self,
        place: Place,
        data: bytes,
        filename: str,
        caption: str,
        keyboard: Keyboard | None = None,
    ) -> Posted:
        return await self._send(place, "file", caption, file_of(data, filename), keyboard)

    async def send_film(self, place: Place, data: bytes, filename: str, caption: str) -> Posted:
        return await self._send(place, "film", caption, file_of(data, filename))

    async def _edit(self, chat_id: int, message_id: int, **changes: object) -> discord.Message:
        message = self._channel(chat_id).get_partial_message(message_id)
        with translated():
            return await message.edit(**changes)  # type: ignore[arg-type]

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None
    ) -> None:
        await self._edit(chat_id, message_id, content=text, view=view_of(keyboard))

    async def edit_caption(
        self, chat_id: int, message_id: int, caption: str, keyboard: Keyboard | None = None
    ) -> None:
        await self._edit(chat_id, message_id, content=caption, view=view_of(keyboard))

    async def edit_photo(
        self,
        chat_id: int,
        message_id: int,
        photo: Photo,
        caption: str,
        keyboard: Keyboard | None = None,
    ) -> Posted:
        view = view_of(keyboard)
        edited = await self._edit(
            chat_id, message_id, content=caption, attachments=[photo_file(photo)], view=view
        )
        return Posted(edited.id)

    async def edit_keyboard(
        self, chat_id: int, message_id: int, keyboard: Keyboard | None = None
    ) -> None:
        await self._edit(chat_id, message_id, view=view_of(keyboard))
