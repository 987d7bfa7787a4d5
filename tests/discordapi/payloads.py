"""Discord's JSON objects built from the store: users, members, channels, guilds, messages."""

from __future__ import annotations

import datetime
from typing import Literal

from tests.discordapi.records import JSON, BotMessage, Channel, Guild, User
from tests.discordapi.store import DISCORD_EPOCH_MS, Store

#: Permission bits (Discord's) given to everyone, the bot included, in the fake's guilds.
_PERMISSIONS = (
    (1 << 6)  # ADD_REACTIONS
    | (1 << 10)  # VIEW_CHANNEL
    | (1 << 11)  # SEND_MESSAGES
    | (1 << 14)  # EMBED_LINKS
    | (1 << 15)  # ATTACH_FILES
    | (1 << 16)  # READ_MESSAGE_HISTORY
    | (1 << 31)  # USE_APPLICATION_COMMANDS
)
PERMISSIONS = str(_PERMISSIONS)

#: Message types (Discord's values).
DEFAULT = 0
CHAT_INPUT_COMMAND = 20


def iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat()


def snowflake_time(snowflake: int) -> float:
    return ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000


def member_json(guild: Guild, user: User, *, with_user: bool = True) -> JSON:
    member: JSON = {
        "nick": None,
        "avatar": None,
        "roles": [],
        "joined_at": iso(snowflake_time(guild.id)),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "permissions": PERMISSIONS,
    }
    if with_user:
        member["user"] = user.json()
    return member


def channel_json(store: Store, channel: Channel) -> JSON:
    state = store.channels[channel.id]
    last = str(state.message_ids[-1]) if state.message_ids else None
    if channel.kind == "dm":
        assert channel.recipient_id is not None
        recipient = store.users[channel.recipient_id]
        return {
            "id": str(channel.id),
            "type": 1,
            "last_message_id": last,
            "flags": 0,
            "recipients": [recipient.json()],
        }
    return {
        "id": str(channel.id),
        "type": 0,
        "guild_id": str(channel.guild_id),
        "name": channel.name,
        "position": 0,
        "permission_overwrites": [],
        "parent_id": None,
        "nsfw": False,
        "topic": None,
        "rate_limit_per_user": 0,
        "last_message_id": last,
        "flags": 0,
    }


def guild_create_json(store: Store, guild: Guild) -> JSON:
    """The full guild of a GUILD_CREATE: channels, roles and members (the bot first)."""
    members = [store.bot, *store.users.values()]
    channels = []
    for channel in guild.channels:
        data = channel_json(store, channel)
        del data["guild_id"]  # GUILD_CREATE's channels leave it out
        channels.append(data)
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(store.owner.id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [
            {
                "id": str(guild.id),  # @everyone's id is the guild's
                "name": "@everyone",
                "color": 0,
                "hoist": False,
                "icon": None,
                "unicode_emoji": None,
                "position": 0,
                "permissions": PERMISSIONS,
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
        ],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": guild.locale,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "joined_at": iso(snowflake_time(guild.id)),
        "large": False,
        "unavailable": False,
        "member_count": len(members),
        "members": [member_json(guild, user) for user in members],
        "channels": channels,
        "threads": [],
        "presences": [],
        "voice_states": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def bot_message_json(
    store: Store, message: BotMessage, *, audience: Literal["rest", "gateway"] = "rest"
) -> JSON:
    """A bot message as REST returns it, or as MESSAGE_CREATE/UPDATE carries it (which adds
    the guild and the author's member)."""
    version = message.current
    data: JSON = {
        "id": str(message.id),
        "channel_id": str(message.channel_id),
        "author": store.bot.json(),
        "content": version.content,
        "timestamp": iso(message.versions[0].at),
        "edited_timestamp": iso(version.at) if message.edit_count else None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [attachment.json() for attachment in version.attachments],
        "embeds": [],
        "pinned": False,
        "type": DEFAULT,
        "flags": version.flags,
        "components": version.components,
    }
    if message.interaction_id is not None:
        interaction = store.interactions[message.interaction_id].record
        user = store.users[interaction.user_id]
        data["webhook_id"] = str(store.application_id)
        data["application_id"] = str(store.application_id)
        metadata: JSON = {
            "id": str(interaction.id),
            "type": 2 if interaction.kind == "command" else 3,
            "user": user.json(),
            "authorizing_integration_owners": {
                "0": str(interaction.guild_id) if interaction.guild_id else "0"
            },
        }
        if interaction.kind == "command":
            metadata["name"] = interaction.name
            if message.via == "interaction":
                data["type"] = CHAT_INPUT_COMMAND
        elif interaction.message_id is not None:
            metadata["interacted_message_id"] = str(interaction.message_id)
        data["interaction_metadata"] = metadata
    if audience == "gateway" and message.guild_id is not None:
        data["guild_id"] = str(message.guild_id)
        data["member"] = member_json(store.guilds[message.guild_id], store.bot, with_user=False)
    return data
