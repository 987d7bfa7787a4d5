"""The users' side: people, guilds and what people do, turned into the gateway events Discord
would dispatch (MESSAGE_CREATE, INTERACTION_CREATE)."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from tests.discordapi.commands import build_data, find_command
from tests.discordapi.messages import store_file
from tests.discordapi.payloads import (
    PERMISSIONS,
    bot_message_json,
    channel_json,
    guild_create_json,
    iso,
    member_json,
    snowflake_time,
)
from tests.discordapi.records import (
    JSON,
    BotMessage,
    Channel,
    Guild,
    InteractionRecord,
    Sent,
    UploadLike,
    User,
    as_upload,
)
from tests.discordapi.store import (
    DIRECT_MESSAGES,
    GUILD_MESSAGES,
    GUILDS,
    MESSAGE_CONTENT,
    ChannelState,
    InteractionState,
    Session,
    Store,
)

_GUILD_CONTEXT, _BOT_DM_CONTEXT = 0, 1


class Users:
    """Simulated users, guilds and their channels. Each action returns a :class:`Sent`.

    Every user is a member of every guild. Users act on the gateway's live sessions; with no
    session (the bot not connected) the action reaches nobody, as on Discord.
    """

    _store: Store

    # ---- people and places -------------------------------------------------------------------

    def add_user(self, name: str, *, locale: str = "en-US") -> User:
        """A person; ``locale`` is their Discord client's language (e.g. "ru", "en-GB")."""
        with self._store.cond:
            user = User(self._store.new_id(), name, locale)
            self._store.users[user.id] = user
            self._store.bump()
            return user

    def user_speaks(self, user: User, locale: str) -> User:
        """The user switched their client's language; returns the updated user."""
        with self._store.cond:
            changed = User(user.id, user.name, locale)
            self._store.users[user.id] = changed
            return changed

    def add_guild(
        self,
        name: str = "Test Server",
        *,
        channels: Iterable[str] = ("general",),
        locale: str = "en-US",
    ) -> Guild:
        """A server with text channels that the bot is in; a connected bot gets its
        GUILD_CREATE now (as when it is invited)."""
        store = self._store
        with store.cond:
            guild_id = store.new_id()
            texts = tuple(Channel(store.new_id(), "text", guild_id, name) for name in channels)
            guild = Guild(guild_id, name, locale, texts)
            store.guilds[guild_id] = guild
            for channel in texts:
                store.channels[channel.id] = ChannelState(channel)
            store.dispatch(
                "GUILD_CREATE",
                lambda session: (
                    guild_create_json(store, guild) if session.intents & GUILDS else None
                ),
            )
            store.bump()
            return guild

    def dm(self, user: User) -> Channel:
        """The DM channel between ``user`` and the bot."""
        with self._store.cond:
            return self._store.dm_channel(user)

    def user_blocks_dms(self, user: User, blocked: bool = True) -> None:
        """The bot's messages to this user's DM fail with 403 50007, as when a user closes
        DMs or blocks the bot."""
        with self._store.cond:
            if blocked:
                self._store.closed_dms.add(user.id)
            else:
                self._store.closed_dms.discard(user.id)

    # ---- actions -----------------------------------------------------------------------------

    def user_sends_message(
        self,
        user: User,
        channel: Channel,
        text: str = "",
        *,
        attachments: Iterable[UploadLike] = (),
        mention_bot: bool = False,
    ) -> Sent:
        """A message, optionally with files. In a guild the bot reads its content only with
        the MESSAGE_CONTENT intent, or when it is mentioned (``mention_bot``)."""
        store = self._store
        with store.cond:
            state = self._state(channel)
            message_id = store.new_id()
            files = [store_file(store, channel.id, as_upload(upload)) for upload in attachments]
            bot = store.bot
            content = f"<@{bot.id}> {text}".rstrip() if mention_bot else text
            message: JSON = {
                "id": str(message_id),
                "channel_id": str(channel.id),
                "author": user.json(),
                "content": content,
                "timestamp": iso(snowflake_time(message_id)),
                "edited_timestamp": None,
                "tts": False,
                "mention_everyone": False,
                "mentions": [bot.json()] if mention_bot else [],
                "mention_roles": [],
                "attachments": [attachment.json() for attachment in files],
                "embeds": [],
                "components": [],
                "pinned": False,
                "type": 0,
                "flags": 0,
                "nonce": str(message_id),
            }
            if channel.guild_id is not None:
                message["guild_id"] = str(channel.guild_id)
                message["member"] = member_json(
                    store.guilds[channel.guild_id], user, with_user=False
                )
            store.users.setdefault(user.id, user)
            store.user_messages[message_id] = message
            state.message_ids.append(message_id)
            intent = GUILD_MESSAGES if channel.guild_id is not None else DIRECT_MESSAGES

            def shape(session: Session) -> JSON | None:
                if not session.intents & intent:
                    return None
                if channel.guild_id is None or mention_bot or session.intents & MESSAGE_CONTENT:
                    return message
                return {**message, "content": "", "attachments": [], "embeds": [], "components": []}

            store.dispatch("MESSAGE_CREATE", shape)
            state.last_user_seq = store.bump()
            return Sent(state.last_user_seq, "MESSAGE_CREATE", copy.deepcopy(message))

    def user_runs_command(
        self,
        user: User,
        channel: Channel,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        locale: str | None = None,
    ) -> Sent:
        """A slash command, as registered by the bot: ``name`` may hold subcommands
        ("settings language"); ``options`` by name: an attachment option takes an
        :class:`Upload` or (filename, bytes, type), a choice its value or name, a user
        option a :class:`User`. ``locale`` overrides the user's for this interaction."""
        store = self._store
        with store.cond:
            self._state(channel)
            command = find_command(store, channel, name)
            data = build_data(store, command, name, options or {}, channel)
            return self._interact(user, channel, 2, data, command["name"], locale)

    def user_presses(
        self,
        user: User,
        message: BotMessage | int,
        custom_id: str,
        *,
        locale: str | None = None,
        forged: bool = False,
    ) -> Sent:
        """A press of the button ``custom_id`` on one of the bot's messages, as it shows
        now; a button that is not there (or disabled) cannot be pressed, unless ``forged``:
        a modified client sending data of its own making with the message's id."""
        store = self._store
        with store.cond:
            message_id = message if isinstance(message, int) else message.id
            current = store.bot_messages.get(message_id)
            if current is None or current.deleted:
                raise AssertionError(f"no bot message {message_id} to press a button on")
            button = next((b for b in current.buttons if b.custom_id == custom_id), None)
            if not forged and (button is None or button.disabled):
                shown = [(b.label, b.custom_id, b.disabled) for b in current.buttons]
                raise AssertionError(
                    f"message {message_id} shows no pressable button {custom_id!r}: {shown}"
                )
            if current.ephemeral and current.interaction_id is not None:
                owner = store.interactions[current.interaction_id].record.user_id
                if owner != user.id:
                    raise AssertionError(f"only user {owner} sees ephemeral message {message_id}")
            channel = store.channels[current.channel_id].channel
            data = {"custom_id": custom_id, "component_type": 2}
            payload_message = bot_message_json(store, current)
            return self._interact(user, channel, 3, data, custom_id, locale, payload_message)

    # ---- helpers -----------------------------------------------------------------------------

    def _state(self, channel: Channel) -> ChannelState:
        state = self._store.channels.get(channel.id)
        if state is None:
            raise AssertionError(f"unknown channel {channel}")
        return state

    def _interact(
        self,
        user: User,
        channel: Channel,
        kind: int,
        data: JSON,
        name: str,
        locale: str | None,
        message: JSON | None = None,
    ) -> Sent:
        """Register the interaction and dispatch INTERACTION_CREATE (lock held)."""
        store = self._store
        user = store.users.setdefault(user.id, user)
        interaction_id = store.new_id()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(store.application_id),
            "type": kind,
            "data": data,
            "channel_id": str(channel.id),
            "channel": channel_json(store, channel),
            "token": token,
            "version": 1,
            "app_permissions": PERMISSIONS,
            "locale": locale or user.locale,
            "entitlements": [],
            "attachment_size_limit": store.upload_limit,
        }
        if channel.guild_id is not None:
            guild = store.guilds[channel.guild_id]
            payload["guild_id"] = str(guild.id)
            payload["guild"] = {"id": str(guild.id), "locale": guild.locale, "features": []}
            payload["guild_locale"] = guild.locale
            payload["member"] = member_json(guild, user)
            payload["authorizing_integration_owners"] = {"0": str(guild.id)}
            payload["context"] = _GUILD_CONTEXT
        else:
            payload["user"] = user.json()
            payload["authorizing_integration_owners"] = {"0": "0"}
            payload["context"] = _BOT_DM_CONTEXT
        if message is not None:
            payload["message"] = message
        state = store.channels[channel.id]
        marker = store.bump()
        record = InteractionRecord(
            id=interaction_id,
            token=token,
            kind="command" if kind == 2 else "component",
            name=name,
            user_id=user.id,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            locale=payload["locale"],
            marker=marker,
            message_id=int(message["id"]) if message is not None else None,
        )
        store.interactions[interaction_id] = InteractionState(record, payload)
        store.tokens[token] = interaction_id
        store.dispatch("INTERACTION_CREATE", lambda _: payload)
        state.last_user_seq = marker
        return Sent(marker, "INTERACTION_CREATE", copy.deepcopy(payload))
