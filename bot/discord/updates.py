"""Discord's messages and interactions as the conversation's turns and presses.

A DM is read as a Telegram private chat is: its pictures taken, anything else explained. An
interaction (a slash command, a button) must be answered within 3 seconds, so it is
deferred at once; a command's first message then takes the place of Discord's "thinking…"
(:class:`Answering`), and a press's note is a message only its presser sees.
"""

from __future__ import annotations

import logging

import discord

from .. import texts
from ..buttons import ButtonData
from ..media import IMAGE_MIME_TYPES
from ..messenger import Keyboard, Photo, Place, Posted, Trouble
from ..retry import REPLY_GIVE_UP_SECONDS, persist
from ..turns import AnswerPress, IncomingImage, Person, Press, Turn
from .messenger import DiscordMessenger, file_of, photo_file, view_of
from .trouble import translated

logger = logging.getLogger(__name__)

#: What a DM that is not a picture we take gets as its answer, by the attachment's type.
HEIF_TYPES = frozenset({"image/heic", "image/heif"})


def person_of(user: discord.User | discord.Member, locale: str | None) -> Person:
    """The person; no username, as ALLOWED_USERS names Discord users by id only
    (``discord:<id>``): a name can pass to someone else."""
    return Person(user.id, None, locale)


def turn_of_message(
    message: discord.Message, messenger: DiscordMessenger, locale: str | None
) -> Turn:
    return Turn(
        person_of(message.author, locale),
        message.channel.id,
        message.guild is not None,
        message.id,
        messenger,
    )


def incoming_image(attachment: discord.Attachment) -> IncomingImage | None:
    """An attachment we take (JPEG, PNG or WebP), with its size as Discord announced it, so
    a too-big file is refused before any download."""
    content_type = (attachment.content_type or "").split(";")[0].strip().lower()
    suffix = IMAGE_MIME_TYPES.get(content_type)
    if suffix is None:
        return None

    async def download() -> bytes:
        async def fetch() -> bytes:
            with translated():
                return await attachment.read()

        return await persist(fetch, REPLY_GIVE_UP_SECONDS, "download of a picture")

    return IncomingImage(attachment.size, suffix, download)


def refusal_of(message: discord.Message) -> str:
    """Why a DM without an image we take is not a picture (a msgid of texts)."""
    if message.stickers:
        return texts.STICKER
    for attachment in message.attachments:
        content_type = (attachment.content_type or "").lower()
        name = attachment.filename.lower()
        if content_type in HEIF_TYPES or name.endswith((".heic", ".heif")):
            return texts.HEIC
        if content_type == "image/gif" or name.endswith(".gif"):
            return texts.ANIMATION
        if content_type.startswith("video/"):
            return texts.VIDEO
        if content_type.startswith("audio/") or attachment.is_voice_message():
            return texts.AUDIO
    if message.attachments:
        return texts.NOT_AN_IMAGE_FILE
    if message.content.startswith("/"):
        return texts.UNKNOWN_COMMAND
    return texts.NOT_A_PICTURE


# ---- interactions -----------------------------------------------------------------------------


def locale_of(interaction: discord.Interaction) -> str:
    """The user's Discord language, e.g. "ru" or "en-US"."""
    return interaction.locale.value


def answering(interaction: discord.Interaction) -> AnswerPress:
    """How to answer a deferred press: a note only the presser sees (Discord has no toasts;
    an alert is the same note)."""

    async def answer(text: str | None, alert: bool) -> None:
        if text:
            with translated():
                await interaction.followup.send(text, ephemeral=True)

    return answer


def press_of(interaction: discord.Interaction, messenger: DiscordMessenger) -> Press | None:
    """The press a component interaction is, or None for data this bot never made."""
    payload: dict[str, object] = dict(interaction.data or {})
    sealed = str(payload.get("custom_id", ""))
    button = ButtonData.decode(sealed)
    if button is None or interaction.channel_id is None:
        return None
    message = interaction.message
    return Press(
        person_of(interaction.user, locale_of(interaction)),
        interaction.channel_id,
        interaction.guild_id is not None,
        message.id if message is not None else None,
        messenger,
        button,
        sealed,
        message is not None and bool(message.attachments),
        answering(interaction),
    )


class Answering(DiscordMessenger):
    """The messenger of a slash command's turn: its first message in the command's channel
    answers the deferred interaction (in place of "thinking…"); the rest are ordinary
    messages. :meth:`finish` takes "thinking…" away if nothing answered it."""

    def __init__(self, interaction: discord.Interaction) -> None:
        super().__init__(interaction.client)
        self.interaction = interaction
        self.answered = False

    def _answers(self, place: Place) -> bool:
        return not self.answered and place.chat_id == self.interaction.channel_id

    async def _answer(
        self, text: str, file: discord.File | None, keyboard: Keyboard | None
    ) -> Posted:
        self.answered = True
        with translated():
            message = await self.interaction.edit_original_response(
                content=text, attachments=[file] if file else [], view=view_of(keyboard)
            )
        return Posted(message.id)

    async def send_text(self, place: Place, text: str, keyboard: Keyboard | None = None) -> Posted:
        if self._answers(place):
            return await self._answer(text, None, keyboard)
        return await super().send_text(place, text, keyboard)

    async def send_photo(
        self, place: Place, photo: Photo, caption: str, keyboard: Keyboard | None = None
    ) -> Posted:
        if self._answers(place):
            return await self._answer(caption, photo_file(photo), keyboard)
        return await super().send_photo(place, photo, caption, keyboard)

    async def send_file(
        self,
        place: Place,
        data: bytes,
        filename: str,
        caption: str,
        keyboard: Keyboard | None = None,
    ) -> Posted:
        if self._answers(place):
            return await self._answer(caption, file_of(data, filename), keyboard)
        return await super().send_file(place, data, filename, caption, keyboard)

    async def finish(self) -> None:
        if self.answered:
            return
        self.answered = True
        try:
            with translated():
                await self.interaction.delete_original_response()
        except Trouble as error:  # it only informs
            logger.info("Could not take away a command's 'thinking…': %s", error)
