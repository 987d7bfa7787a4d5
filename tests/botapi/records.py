"""What the fake server hands to tests: user actions, API calls and the bot's messages."""

from __future__ import annotations

import dataclasses
import io
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from PIL import Image

JSON = dict[str, Any]

#: The update fields that hold a message, besides a button press's.
_MESSAGE_UPDATES = ("message", "edited_message", "channel_post")


@dataclass(frozen=True)
class Sent:
    """A simulated user action: the update the bot will receive and a marker to wait after."""

    update: JSON
    marker: int

    @property
    def message(self) -> JSON:
        """The user's message (sent or edited), a channel's post, or for a button press the
        bot message carrying the button."""
        if "callback_query" in self.update:
            return dict(self.update["callback_query"]["message"])
        kind = next((kind for kind in _MESSAGE_UPDATES if kind in self.update), "message")
        return dict(self.update[kind])

    @property
    def chat_id(self) -> int:
        return int(self.message["chat"]["id"])

    @property
    def message_id(self) -> int:
        return int(self.message["message_id"])

    @property
    def callback_query_id(self) -> str | None:
        query = self.update.get("callback_query")
        return str(query["id"]) if query else None


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request, as the bot uploaded it."""

    field: str
    filename: str | None
    content_type: str
    data: bytes


Files = dict[str, UploadedFile]


@dataclass
class ApiCall:
    """One Bot API request: decoded params, uploaded files and how the server answered."""

    seq: int
    method: str
    params: JSON
    files: Files
    status: int = 0  # 0 while still being answered (a long poll)
    result: Any = None
    description: str | None = None
    at: float = field(default_factory=time.monotonic)  # when the request arrived

    @property
    def ok(self) -> bool:
        return self.status == HTTPStatus.OK


@dataclass
class BotMessage:
    """A message the bot sent, as it looks now (edits applied); tests get snapshots."""

    chat_id: int
    message_id: int
    kind: str  # "text" | "photo" | "document"
    seq: int  # marker at which it was sent
    date: int
    text: str | None = None
    caption: str | None = None
    reply_markup: JSON | None = None
    reply_to_message_id: int | None = None
    data: bytes | None = None  # photo/document bytes exactly as the bot uploaded them
    file_id: str | None = None  # the document, or the largest photo size
    file_name: str | None = None
    mime_type: str | None = None
    media: Any = None  # Telegram's "photo" list or "document" dict for this message
    versions: list[tuple[int, str]] = field(default_factory=list)  # (marker, body), oldest first

    @property
    def body(self) -> str:
        """The text of a text message, else the caption ("" if none)."""
        return (self.text if self.kind == "text" else self.caption) or ""

    @property
    def edit_count(self) -> int:
        return len(self.versions) - 1

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """Inline keyboard as (text, callback_data) in reading order; URL buttons have None."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [
            (button.get("text", ""), button.get("callback_data")) for row in rows for button in row
        ]

    def image(self) -> Image.Image:
        """Decode the uploaded photo/document with Pillow (fully loaded)."""
        if self.data is None:
            raise AssertionError(f"message {self.message_id} ({self.kind}) carries no file bytes")
        image = Image.open(io.BytesIO(self.data))
        image.load()
        return image

    def snapshot(self) -> BotMessage:
        """A copy that later edits leave alone."""
        return dataclasses.replace(self, versions=list(self.versions))
