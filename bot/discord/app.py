"""The Discord front-end: a ``discord.Client`` that hands DMs, slash commands and button
presses to the conversation (``bot.handlers``), the same as on Telegram.

Intents: none privileged. DMs arrive with their text and attachments without the message
content intent; in servers the bot reads no ordinary messages and works through slash
commands (/paint takes the whole pair). Buttons are routed by their sealed data
(:class:`SealedButton`, a dynamic item), so they work after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from typing import Any

import discord
from discord import app_commands

from jobqueue import Strength

from .. import jobs, service, texts
from ..buttons import DATA, ButtonData
from ..context import BotData
from ..handlers import PRESSES, chat, guards, pictures
from ..handlers.common import translator_of
from ..lanes import UserLanes
from ..service import Shared
from ..turns import CommandHandler, Person, Turn, answer_quietly
from . import commands
from .messenger import DiscordMessenger
from .updates import (
    Answering,
    answering,
    incoming_image,
    locale_of,
    person_of,
    press_of,
    refusal_of,
    turn_of_message,
)

logger = logging.getLogger(__name__)

#: Guilds (to see the servers it is in), DMs; nothing privileged.
INTENTS = discord.Intents(guilds=True, dm_messages=True)


class StyleBotClient(discord.Client):
    """The bot on Discord. Its :class:`BotData` is this front-end's; the queue, metrics and
    health are the process's ``shared`` ones."""

    def __init__(self, shared: Shared) -> None:
        super().__init__(intents=INTENTS)
        settings = shared.settings
        assert settings.discord_token is not None
        self.data = BotData()
        service.prepare(
            self.data,
            shared,
            platform="discord",
            token=settings.discord_token.reveal(),
            folder=settings.data_dir / "discord",
        )
        self.messenger = self.data.messenger = DiscordMessenger(self)
        self.data.spawn = _spawn
        self.tree = app_commands.CommandTree(self)
        commands.register(self.tree, self.run_command, self.paint, self.data.gallery)
        self.lanes = UserLanes()
        shared.receivers.append(lambda: self.is_ready() and not self.is_closed())

    async def setup_hook(self) -> None:
        """After login: buttons routed, stores opened, jobs picked up, commands listed."""
        self.add_dynamic_items(SealedButton)
        await service.open_up(self.data)
        await self.tree.set_translator(commands.CommandTexts())
        await self.tree.sync()

    async def close(self) -> None:
        """Let go of the jobs (they stay on the queue) and wait for their cards to say
        "paused", then close the connection and the stores."""
        if not self.data.stopping:
            ours = [*self.data.followers, *self.data.chores]
            service.let_go(self.data)
            if ours:  # each follower's last edit needs the connection still open
                await asyncio.wait(ours, timeout=jobs.PAUSE_NOTE_SECONDS + 2)
            await super().close()
            await service.close(self.data)

    # ---- what people send and press -----------------------------------------------------

    def _person(self, user: discord.User | discord.Member) -> Person:
        return person_of(user, self._locale(user.id))

    def _locale(self, user_id: int) -> str | None:
        """The user's Discord language as their latest interaction said (a DM does not);
        kept under ``DATA_DIR``, so a DM after a restart is answered in it too."""
        return self.data.sessions.app_language(user_id)

    def _remember(self, interaction: discord.Interaction) -> str:
        locale = locale_of(interaction)
        self.data.sessions.remember_app_language(interaction.user.id, locale)
        return locale

    async def on_message(self, message: discord.Message) -> None:
        """A DM: its pictures taken in order, or what it is explained. In servers the bot
        reads nothing (slash commands only)."""
        if message.author.bot or message.guild is not None:
            return
        self.data.metrics.updates.labels("discord").inc()
        turn = turn_of_message(message, self.messenger, self._locale(message.author.id))
        async with self.lanes.lane(turn.person.user_id):
            sorry = guards.stranger(turn.person, self.data)
            if sorry is not None:
                await turn.reply(sorry)
                return
            images = [i for i in map(incoming_image, message.attachments) if i is not None]
            for image in images:
                await pictures.receive_image(turn, self.data, image)
            if not images:
                await pictures.explain(turn, self.data, refusal_of(message))

    async def run_command(self, interaction: discord.Interaction, handler: CommandHandler) -> None:
        """A slash command: deferred at once, then its handler, answering in place of
        Discord's "thinking…"."""
        async with self._command_turn(interaction) as turn:
            if turn is not None:
                await handler(turn, self.data)

    async def paint(
        self,
        interaction: discord.Interaction,
        content: discord.Attachment,
        style: discord.Attachment | int | None,
        strength: Strength,
    ) -> None:
        """/paint: the pair and its strength in one command."""
        async with self._command_turn(interaction) as turn:
            if turn is None:
                return
            t = translator_of(turn, self.data)
            photo = incoming_image(content)
            look = incoming_image(style) if isinstance(style, discord.Attachment) else style
            if photo is None:
                await turn.reply(t(texts.NOT_AN_IMAGE_FILE))
            elif look is None:
                await turn.reply(t(texts.PAINT_NEEDS_STYLE))
            else:
                await pictures.paint_at_once(turn, self.data, photo, look, strength)

    def _command_turn(self, interaction: discord.Interaction) -> _CommandTurn:
        return _CommandTurn(self, interaction)

    async def press(self, interaction: discord.Interaction) -> None:
        """A button: deferred at once (Discord's 3 s), checked, then to its handler."""
        self.data.metrics.updates.labels("discord").inc()
        self._remember(interaction)
        await interaction.response.defer()
        press = press_of(interaction, self.messenger)
        if press is None:
            await self._unknown_button(interaction)
            return
        async with self.lanes.lane(press.person.user_id):
            sorry = guards.stranger(press.person, self.data)
            if sorry is not None:
                await press.answer(sorry, alert=True)
                return
            if await guards.refuse_foreign(press, self.data):
                return
            await PRESSES[press.button.action](press, self.data)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """A press that no :class:`SealedButton` takes: discord.py hands a dynamic item only
        data shown on the pressed message, so here come data this bot did not make, and data
        not on the message (a modified client's, or a view older than the message). Ours are
        checked as any press is (the seal says whose they are); others are unknown."""
        if interaction.type is not discord.InteractionType.component:
            return
        custom_id = str(dict(interaction.data or {}).get("custom_id", ""))
        if DATA.fullmatch(custom_id) and _shown(interaction.message, custom_id):
            return  # a SealedButton's
        if ButtonData.decode(custom_id) is not None:
            await self.press(interaction)
            return
        await interaction.response.defer()
        await self._unknown_button(interaction)

    async def _unknown_button(self, interaction: discord.Interaction) -> None:
        """Answer a deferred press on data this bot does not understand."""
        if interaction.channel_id is None:
            return
        person = self._person(interaction.user)
        turn = Turn(person, interaction.channel_id, False, None, self.messenger)
        await answer_quietly(answering(interaction), chat.unknown_button(turn, self.data))


def _shown(message: discord.Message | None, custom_id: str) -> bool:
    """Whether ``message`` shows a button with ``custom_id`` (as discord.py looks for it
    before it calls a dynamic item)."""
    if message is None:
        return False
    kind = discord.ui.LayoutView if message.flags.components_v2 else discord.ui.View
    view = kind.from_message(message, timeout=None)
    return any(getattr(item, "custom_id", None) == custom_id for item in view.walk_children())


class _CommandTurn:
    """``async with``: a slash command deferred, its turn (None for a stranger, who is told
    so), and Discord's "thinking…" taken away if nothing answered it."""

    def __init__(self, client: StyleBotClient, interaction: discord.Interaction) -> None:
        self.client = client
        self.interaction = interaction
        self.messenger = Answering(interaction)

    async def __aenter__(self) -> Turn | None:
        interaction, client = self.interaction, self.client
        client.data.metrics.updates.labels("discord").inc()
        locale = client._remember(interaction)
        await interaction.response.defer(thinking=True)
        assert interaction.channel_id is not None
        turn = Turn(
            person_of(interaction.user, locale),
            interaction.channel_id,
            interaction.guild_id is not None,
            None,
            self.messenger,
        )
        sorry = guards.stranger(turn.person, client.data)
        if sorry is not None:
            await turn.reply(sorry)
            return None
        return turn

    async def __aexit__(self, *exc: object) -> None:
        await self.messenger.finish()


class SealedButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=DATA):
    """Every button of ours, recognised by the shape of its sealed data, whenever it was
    sent: a press goes to :meth:`StyleBotClient.press`."""

    def __init__(self, custom_id: str) -> None:
        super().__init__(discord.ui.Button(custom_id=custom_id))

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> SealedButton:
        return cls(match.string)

    async def callback(self, interaction: discord.Interaction) -> None:
        assert isinstance(interaction.client, StyleBotClient)
        await interaction.client.press(interaction)


def _spawn(coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    return asyncio.get_running_loop().create_task(coroutine, name=name)
