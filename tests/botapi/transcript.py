"""A readable account of chats and recent API calls, for assertion messages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tests.botapi.records import ApiCall, BotMessage

if TYPE_CHECKING:  # store imports this module
    from tests.botapi.store import Chat

# Message fields that say what a user sent, in the order Telegram lists them.
_USER_KINDS = ("text", "photo", "sticker", "voice", "video", "animation", "document")
_RECENT_CALLS = 15


def transcript(
    chats: Mapping[int, Chat],
    chat_id: int | None,
    calls: list[ApiCall],
    marker: int,
    internal_errors: list[str],
) -> str:
    """Chat ``chat_id`` (all chats if None or unknown), then the latest calls but getUpdates."""
    lines = []
    shown = list(chats.values())
    if chat_id is not None and chat_id in chats:
        shown = [chats[chat_id]]
    elif chat_id is not None:
        lines.append(f"chat {chat_id}: no messages at all")
    for chat in shown:
        lines.append(f"chat {chat.id} ({chat.type}):")
        entries = [(mid, _user_line(mid, message)) for mid, message in chat.user_messages.items()]
        entries += [(mid, _bot_line(message)) for mid, message in chat.bot_messages.items()]
        lines.extend(line for _, line in sorted(entries))
    lines.append(f"recent API calls (getUpdates omitted), marker now {marker}:")
    recent = [call for call in calls if call.method != "getUpdates"][-_RECENT_CALLS:]
    lines.extend(_call_line(call) for call in recent)
    if internal_errors:
        lines.append("INTERNAL ERRORS of the fake server:")
        lines.extend(internal_errors)
    return "\n".join(lines)


def _user_line(message_id: int, message: Mapping[str, Any]) -> str:
    kind = next((kind for kind in _USER_KINDS if kind in message), "other")
    body = message.get("text", message.get("caption", ""))
    return f"  #{message_id} user {message['from']['id']} [{kind}] {_shorten(body)}"


def _bot_line(message: BotMessage) -> str:
    line = f"  #{message.message_id} bot [{message.kind}] {_shorten(message.body)}"
    line += f" (marker {message.seq})"
    if message.data is not None:
        line += f" {len(message.data)} bytes"
    if message.buttons:
        line += f" buttons={message.buttons}"
    if message.edit_count:
        earlier = [_shorten(body, 40) for _, body in message.versions[:-1]]
        line += f" edited {message.edit_count}x, was {earlier}"
    return line


def _call_line(call: ApiCall) -> str:
    params = [f"{name}={_shorten(value, 60)}" for name, value in call.params.items()]
    params += [
        f"{name}=<upload {upload.filename!r}, {len(upload.data)} bytes>"
        for name, upload in call.files.items()
    ]
    outcome = call.status if call.ok else f"{call.status} {call.description}"
    return f"  [{call.seq}] {call.method}({', '.join(params)}) -> {outcome}"


def _shorten(value: object, limit: int = 80) -> str:
    """Strings quoted, other values as JSON, cut to ``limit`` characters."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"
