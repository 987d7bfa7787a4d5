"""A readable account of channels, recent calls and the gateway, for assertion messages."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.discordapi.records import JSON, ApiCall, BotMessage

if TYPE_CHECKING:  # store imports this module
    from tests.discordapi.store import Store

_RECENT_CALLS = 15


def transcript(store: Store, channel_id: int | None) -> str:
    """Channel ``channel_id`` (all channels if None or unknown), the latest calls, the
    gateway connections and the fake's own errors."""
    lines: list[str] = []
    shown = list(store.channels.values())
    if channel_id is not None and channel_id in store.channels:
        shown = [store.channels[channel_id]]
    elif channel_id is not None:
        lines.append(f"channel {channel_id}: unknown")
    for state in shown:
        channel = state.channel
        where = f"DM with user {channel.recipient_id}" if channel.kind == "dm" else channel.name
        lines.append(f"channel {channel.id} ({where}):")
        for message_id in state.message_ids:
            if message_id in store.user_messages:
                lines.append(_user_line(store.user_messages[message_id]))
            elif message_id in store.bot_messages:
                lines.append(_bot_line(store.bot_messages[message_id]))
    for interaction in store.interactions.values():
        record = interaction.record
        if channel_id is None or record.channel_id == channel_id:
            answer = f"callback type {record.response_type}" if record.responded else "unanswered"
            lines.append(
                f"  interaction {record.id} ({record.kind} {record.name!r} by user "
                f"{record.user_id}, marker {record.marker}): {answer}"
            )
    lines.append(f"recent calls, marker now {store.seq}:")
    lines.extend(_call_line(call) for call in store.calls[-_RECENT_CALLS:])
    lines.append("gateway connections:")
    for connection in store.connections:
        lines.append(
            f"  [{connection.seq}] {connection.path} {connection.kind or 'hello only'}"
            f" session={connection.session_id} heartbeats={connection.heartbeats}"
            + (
                ""
                if connection.open
                else f" closed {connection.closed_code} by {connection.closed_by}"
            )
        )
    if store.internal_errors:
        lines.append("INTERNAL ERRORS of the fake server:")
        lines.extend(store.internal_errors)
    return "\n".join(lines)


def _user_line(message: JSON) -> str:
    files = [attachment["filename"] for attachment in message.get("attachments", [])]
    line = f"  #{message['id']} user {message['author']['id']}: {_shorten(message['content'])}"
    return line + (f" files={files}" if files else "")


def _bot_line(message: BotMessage) -> str:
    line = f"  #{message.id} bot ({message.via}, marker {message.seq}): {_shorten(message.content)}"
    if message.attachments:
        line += " files=" + str([f"{a.filename} {a.size} B" for a in message.attachments])
    if message.buttons:
        line += " buttons=" + str([(b.label, b.custom_id) for b in message.buttons])
    if message.ephemeral:
        line += " [ephemeral]"
    if message.loading:
        line += " [thinking…]"
    if message.deleted:
        line += " [deleted]"
    if message.edit_count:
        earlier = [_shorten(version.content, 40) for version in message.versions[:-1]]
        line += f" edited {message.edit_count}x, was {earlier}"
    return line


def _call_line(call: ApiCall) -> str:
    params = [f"{name}={_shorten(value, 60)}" for name, value in call.params.items()]
    params += [
        f"{upload.field}=<{upload.filename!r}, {len(upload.data)} B>" for upload in call.files
    ]
    outcome = str(call.status) if call.ok else f"{call.status} code {call.error_code}"
    return f"  [{call.seq}] {call.method} {call.path} ({', '.join(params)}) -> {outcome}"


def _shorten(value: object, limit: int = 80) -> str:
    """Strings quoted, other values as JSON, cut to ``limit`` characters."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"
