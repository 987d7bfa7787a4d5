"""What the fake Discord hands to tests: people, places, user actions and the bot's messages."""

from __future__ import annotations

import dataclasses
import io
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from PIL import Image

JSON = dict[str, Any]

ChannelKind = Literal["dm", "text"]


@dataclass(frozen=True)
class User:
    """A simulated Discord user; ``locale`` is what their client reports in interactions."""

    id: int
    name: str
    locale: str = "en-US"
    bot: bool = False

    def json(self) -> JSON:
        return {
            "id": str(self.id),
            "username": self.name,
            "global_name": self.name.title(),
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass(frozen=True)
class Channel:
    """A DM between one user and the bot, or a text channel of a guild."""

    id: int
    kind: ChannelKind
    guild_id: int | None = None
    name: str | None = None
    recipient_id: int | None = None  # a DM's user


@dataclass(frozen=True)
class Guild:
    """A server: its text channels, and the locale its community prefers."""

    id: int
    name: str
    locale: str
    channels: tuple[Channel, ...]

    def channel(self, name: str) -> Channel:
        for channel in self.channels:
            if channel.name == name:
                return channel
        raise KeyError(f"guild {self.name!r} has no channel {name!r}")


@dataclass(frozen=True)
class Upload:
    """A file a user attaches. ``claimed_size`` makes the attachment report another size than
    the bytes have (e.g. 30 MB), as a bot must check the size before downloading."""

    filename: str
    data: bytes
    content_type: str | None = None
    claimed_size: int | None = None


#: What the users' side accepts for a file: an :class:`Upload` or (filename, bytes, type).
UploadLike = Upload | tuple[str, bytes, str]


def as_upload(value: UploadLike) -> Upload:
    if isinstance(value, Upload):
        return value
    filename, data, content_type = value
    return Upload(filename, data, content_type)


@dataclass(frozen=True)
class Attachment:
    """A file on a message as Discord stores it (bytes included); ``url`` is on the fake CDN."""

    id: int
    filename: str
    content_type: str | None
    size: int  # what the attachment object reports
    data: bytes
    url: str
    width: int | None = None
    height: int | None = None
    description: str | None = None
    ephemeral: bool = False

    def json(self) -> JSON:
        result: JSON = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url.replace("/cdn/", "/media/", 1),
        }
        if self.content_type is not None:
            result["content_type"] = self.content_type
        if self.width is not None and self.height is not None:
            result["width"], result["height"] = self.width, self.height
        if self.description is not None:
            result["description"] = self.description
        if self.ephemeral:
            result["ephemeral"] = True
        return result

    def image(self) -> Image.Image:
        """Decode the bytes with Pillow (fully loaded)."""
        image = Image.open(io.BytesIO(self.data))
        image.load()
        return image


@dataclass(frozen=True)
class Button:
    """One button of a message, as drawn; link buttons have a ``url`` and no ``custom_id``."""

    label: str | None
    custom_id: str | None
    style: int
    disabled: bool = False
    url: str | None = None
    emoji: str | None = None


def buttons_of(components: list[JSON]) -> list[Button]:
    """The buttons of a message's components in reading order (rows, then containers)."""
    found: list[Button] = []
    for component in components:
        if component.get("type") == 2:
            emoji = component.get("emoji") or {}
            found.append(
                Button(
                    label=component.get("label"),
                    custom_id=component.get("custom_id"),
                    style=int(component.get("style", 1)),
                    disabled=bool(component.get("disabled", False)),
                    url=component.get("url"),
                    emoji=emoji.get("name"),
                )
            )
        found.extend(buttons_of(component.get("components", [])))
        if "accessory" in component:
            found.extend(buttons_of([component["accessory"]]))
    return found


@dataclass(frozen=True)
class MessageVersion:
    """A bot message as it was at one marker: as sent, then after each edit."""

    marker: int
    content: str
    components: list[JSON]
    attachments: tuple[Attachment, ...]
    flags: int
    at: float = field(default_factory=time.time)  # wall clock, for the timestamps

    @property
    def buttons(self) -> list[Button]:
        return buttons_of(self.components)


#: Message flags that say how a message shows (Discord's values).
EPHEMERAL = 1 << 6
LOADING = 1 << 7


@dataclass
class BotMessage:
    """A message the bot sent (by REST, an interaction response or a follow-up), as it looks
    now, with every earlier version; tests get snapshots."""

    id: int
    channel_id: int
    guild_id: int | None
    seq: int  # marker at which it was sent
    versions: list[MessageVersion]
    interaction_id: int | None = None  # the interaction it answers, if any
    via: str = "rest"  # "rest" | "interaction" | "followup"
    deleted: bool = False

    @property
    def current(self) -> MessageVersion:
        return self.versions[-1]

    @property
    def content(self) -> str:
        return self.current.content

    @property
    def components(self) -> list[JSON]:
        return self.current.components

    @property
    def attachments(self) -> tuple[Attachment, ...]:
        return self.current.attachments

    @property
    def flags(self) -> int:
        return self.current.flags

    @property
    def buttons(self) -> list[Button]:
        return self.current.buttons

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """A deferred answer's "Bot is thinking…" placeholder, not yet edited."""
        return bool(self.flags & LOADING)

    @property
    def edit_count(self) -> int:
        return len(self.versions) - 1

    def button(self, label: str) -> Button:
        for button in self.buttons:
            if button.label == label:
                return button
        raise AssertionError(f"message {self.id} has no button {label!r}: {self.buttons}")

    def image(self, index: int = 0) -> Image.Image:
        """Decode an attachment of the current version with Pillow."""
        if index >= len(self.attachments):
            raise AssertionError(f"message {self.id} has {len(self.attachments)} attachments")
        return self.attachments[index].image()

    def snapshot(self) -> BotMessage:
        """A copy that later edits leave alone."""
        return dataclasses.replace(self, versions=list(self.versions))


@dataclass(frozen=True)
class Sent:
    """A simulated user action: what the gateway dispatched and a marker to wait after."""

    marker: int
    event: str  # "MESSAGE_CREATE" | "INTERACTION_CREATE"
    payload: JSON

    @property
    def channel_id(self) -> int:
        return int(self.payload["channel_id"])

    @property
    def message_id(self) -> int:
        """The user's message, or for a button press the message carrying the button."""
        if self.event == "INTERACTION_CREATE":
            return int(self.payload["message"]["id"])
        return int(self.payload["id"])

    @property
    def interaction_id(self) -> int:
        return int(self.payload["id"])

    @property
    def token(self) -> str:
        return str(self.payload["token"])


@dataclass
class InteractionRecord:
    """An interaction and how the bot answered it (tests get snapshots)."""

    id: int
    token: str
    kind: str  # "command" | "component"
    name: str  # the command's name or the button's custom_id
    user_id: int
    channel_id: int
    guild_id: int | None
    locale: str
    marker: int
    created_at: float = field(default_factory=time.monotonic)
    message_id: int | None = None  # a button's message
    response_type: int | None = None  # the callback's type (4, 5, 6, 7, 8, 9)
    responded_at: float | None = None
    response_data: JSON | None = None
    original_message_id: int | None = None  # what @original refers to
    followup_ids: list[int] = field(default_factory=list)
    expired: bool = False

    @property
    def responded(self) -> bool:
        return self.response_type is not None

    @property
    def response_delay(self) -> float | None:
        """Seconds from the event to the callback."""
        return None if self.responded_at is None else self.responded_at - self.created_at


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request, as the bot uploaded it."""

    field: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class ApiCall:
    """One HTTP request (REST or CDN): decoded body, uploaded files and the answer."""

    seq: int
    route: str  # the route's name, e.g. "create_message"
    method: str
    path: str
    params: JSON
    files: list[UploadedFile]
    status: int = 0
    response: Any = None
    error_code: int | None = None  # Discord's JSON error code, if any
    at: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class GatewayConnection:
    """One websocket the client opened: how, and what it said (tests get snapshots)."""

    seq: int  # marker when it connected
    path: str  # "/gateway" or "/resume" (the READY's resume_gateway_url)
    query: dict[str, str]
    compress: str | None  # "zlib-stream" when the frames are compressed
    kind: str | None = None  # "identify" | "resume" once the client said which
    identify: JSON | None = None  # the IDENTIFY's d (token included)
    session_id: str | None = None
    resumed: bool = False  # a RESUME that the server accepted
    resume_seq: int | None = None  # the seq the client resumed from
    heartbeats: int = 0
    ready_marker: int | None = None  # when READY or RESUMED was sent
    closed_code: int | None = None
    closed_by: str | None = None  # "client" | "server"
    open: bool = True

    @property
    def intents(self) -> int | None:
        return None if self.identify is None else self.identify.get("intents")
