"""Messages as Discord builds them: bodies and their limits, components, uploaded files turned
into attachments on the fake CDN, edits that keep or replace attachments, gateway echoes."""

from __future__ import annotations

import hashlib
import hmac
import io
import mimetypes
import re
import time
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from tests.discordapi import errors
from tests.discordapi.payloads import bot_message_json
from tests.discordapi.records import (
    JSON,
    Attachment,
    BotMessage,
    Channel,
    MessageVersion,
    Upload,
    UploadedFile,
)
from tests.discordapi.store import DIRECT_MESSAGES, GUILD_MESSAGES, Session, Store

MAX_CONTENT = 2000
MAX_CUSTOM_ID = 100
MAX_LABEL = 80
IS_COMPONENTS_V2 = 1 << 15
_FILES_FIELD = re.compile(r"files\[(\d+)\]")
_CDN_SECRET = b"fake-discord-cdn"


@dataclass(frozen=True)
class Body:
    """A decoded request body: JSON params (from a JSON body or multipart's ``payload_json``;
    a JSON array, as a bulk overwrite of commands sends, under the key "_") and file parts."""

    params: JSON
    files: list[UploadedFile]


# ---- attachments -----------------------------------------------------------------------------


def store_file(
    store: Store,
    channel_id: int,
    upload: Upload,
    *,
    description: str | None = None,
    ephemeral: bool = False,
) -> Attachment:
    """Keep a file on the fake CDN and describe it as Discord would: the content type from
    the name when the uploader did not say, and an image's width and height."""
    attachment_id = store.new_id()
    content_type = upload.content_type
    if content_type in (None, "application/octet-stream"):
        content_type = mimetypes.guess_type(upload.filename)[0] or content_type
    width = height = None
    try:
        with Image.open(io.BytesIO(upload.data)) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        pass  # not a picture Discord can read: no dimensions
    folder = "ephemeral-attachments" if ephemeral else "attachments"
    attachment = Attachment(
        id=attachment_id,
        filename=upload.filename,
        content_type=content_type,
        size=len(upload.data) if upload.claimed_size is None else upload.claimed_size,
        data=upload.data,
        url=f"{store.base_url}/cdn/{folder}/{channel_id}/{attachment_id}/{upload.filename}?"
        + cdn_signature(attachment_id),
        width=width,
        height=height,
        description=description,
        ephemeral=ephemeral,
    )
    store.files[attachment_id] = attachment
    return attachment


def cdn_signature(attachment_id: int) -> str:
    """Discord's signed CDN query (``ex``, ``is``, ``hm``); the CDN refuses a wrong ``hm``."""
    issued = int(time.time())
    expires = issued + 24 * 3600
    return f"ex={expires:x}&is={issued:x}&hm={_hm(attachment_id, expires)}&"


def cdn_signature_ok(attachment_id: int, query: dict[str, str]) -> bool:
    try:
        expires = int(query.get("ex", ""), 16)
    except ValueError:
        return False
    return hmac.compare_digest(query.get("hm", ""), _hm(attachment_id, expires))


def _hm(attachment_id: int, expires: int) -> str:
    digest = hmac.new(_CDN_SECRET, f"{attachment_id}:{expires}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _uploads(store: Store, body: Body) -> dict[int, UploadedFile]:
    """The body's ``files[n]`` parts by n, each within the upload limit."""
    found: dict[int, UploadedFile] = {}
    for part in body.files:
        match = _FILES_FIELD.fullmatch(part.field)
        if match is None:
            raise errors.invalid_form(part.field, "UNKNOWN_FIELD", "Expected files[n].")
        if len(part.data) > store.upload_limit:
            raise errors.too_large()
        found[int(match.group(1))] = part
    return found


def _new_attachment(store: Store, channel_id: int, part: UploadedFile, spec: JSON) -> Attachment:
    upload = Upload(
        spec.get("filename") or part.filename or "unknown", part.data, part.content_type
    )
    return store_file(store, channel_id, upload, description=spec.get("description"))


def attachments_for_create(store: Store, channel_id: int, body: Body) -> tuple[Attachment, ...]:
    uploads = _uploads(store, body)
    specs = body.params.get("attachments")
    if specs is None:
        return tuple(_new_attachment(store, channel_id, uploads[n], {}) for n in sorted(uploads))
    result = []
    for index, spec in enumerate(specs):
        number = int(spec.get("id", -1))
        if number not in uploads:
            raise errors.invalid_form(
                f"attachments.{index}.id", "ATTACHMENT_NOT_FOUND", "Unknown attachment."
            )
        result.append(_new_attachment(store, channel_id, uploads[number], spec))
    return tuple(result)


def attachments_for_edit(store: Store, message: BotMessage, body: Body) -> tuple[Attachment, ...]:
    """Without ``attachments`` the old ones stay and new files are appended; with it (as
    discord.py always sends it) exactly the listed ones remain: kept by their snowflake,
    new ones by their ``files[n]`` index. API v10 drops new files it does not list."""
    uploads = _uploads(store, body)
    current = message.attachments
    specs = body.params.get("attachments")
    if specs is None:
        added = [
            _new_attachment(store, message.channel_id, uploads[n], {}) for n in sorted(uploads)
        ]
        return (*current, *added)
    kept = {attachment.id: attachment for attachment in current}
    result: list[Attachment] = []
    for index, spec in enumerate(specs):
        number = int(spec.get("id", -1))
        if number in kept:
            result.append(kept[number])
        elif number in uploads:
            result.append(_new_attachment(store, message.channel_id, uploads[number], spec))
        else:
            raise errors.invalid_form(
                f"attachments.{index}.id", "ATTACHMENT_NOT_FOUND", "Unknown attachment."
            )
    return tuple(result)


# ---- bodies and components -------------------------------------------------------------------


def content_of(params: JSON) -> str:
    content = params.get("content")
    if content is None:
        return ""
    if not isinstance(content, str):
        raise errors.invalid_form("content", "BASE_TYPE_STRING", "Must be a string.")
    if len(content) > MAX_CONTENT:
        raise errors.invalid_form(
            "content", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length."
        )
    return content


def components_of(params: JSON, flags: int) -> list[JSON]:
    """Check components as Discord does for classic messages: action rows of up to five
    buttons (or one select), custom ids unique and at most 100 characters, labels 80."""
    components = params.get("components") or []
    if flags & IS_COMPONENTS_V2:
        return list(components)  # layout components: kept as sent, not checked
    if len(components) > 5:
        raise errors.invalid_form(
            "components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."
        )
    seen: set[str] = set()
    for row_index, row in enumerate(components):
        path = f"components.{row_index}"
        if row.get("type") != 1:
            raise errors.invalid_form(
                f"{path}.type", "UNION_TYPE_CHOICES", "Expected an action row."
            )
        children = row.get("components") or []
        if not 1 <= len(children) <= 5:
            raise errors.invalid_form(
                f"{path}.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
            )
        for child_index, child in enumerate(children):
            _check_component(child, f"{path}.components.{child_index}", seen)
    return list(components)


def _check_component(component: JSON, path: str, seen: set[str]) -> None:
    custom_id = component.get("custom_id")
    if component.get("type") == 2 and component.get("style") == 5:
        if not component.get("url") or custom_id is not None:
            raise errors.invalid_form(path, "BUTTON_COMPONENT_INVALID_URL", "A link needs a url.")
    elif custom_id is None:
        raise errors.invalid_form(
            f"{path}.custom_id", "BASE_TYPE_REQUIRED", "This field is required"
        )
    label = component.get("label")
    if component.get("type") == 2 and not label and not component.get("emoji"):
        raise errors.invalid_form(
            path, "BUTTON_COMPONENT_INVALID", "A button needs a label or an emoji."
        )
    if label is not None and len(label) > MAX_LABEL:
        raise errors.invalid_form(
            f"{path}.label", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_LABEL} or fewer in length."
        )
    if custom_id is None:
        return
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
        raise errors.invalid_form(
            f"{path}.custom_id",
            "BASE_TYPE_BAD_LENGTH",
            f"Must be between 1 and {MAX_CUSTOM_ID} in length.",
        )
    if custom_id in seen:
        raise errors.invalid_form(
            f"{path}.custom_id",
            "COMPONENT_CUSTOM_ID_DUPLICATED",
            "Component custom id cannot be duplicated",
        )
    seen.add(custom_id)


def _flags_of(params: JSON, default: int = 0) -> int:
    flags = params.get("flags")
    return default if flags is None else int(flags)


# ---- creating and editing --------------------------------------------------------------------


def create_bot_message(
    store: Store,
    channel: Channel,
    body: Body,
    *,
    via: str = "rest",
    interaction_id: int | None = None,
    extra_flags: int = 0,
    allow_empty: bool = False,
) -> BotMessage:
    """A new bot message (checked like Discord checks it), echoed on the gateway."""
    params = body.params
    flags = _flags_of(params) | extra_flags
    content = content_of(params)
    components = components_of(params, flags)
    attachments = attachments_for_create(store, channel.id, body)
    if not (allow_empty or content or components or attachments or params.get("embeds")):
        raise errors.empty_message()
    message = BotMessage(
        id=store.new_id(),
        channel_id=channel.id,
        guild_id=channel.guild_id,
        seq=store.bump(),
        versions=[MessageVersion(store.seq, content, components, attachments, flags)],
        interaction_id=interaction_id,
        via=via,
    )
    store.bot_messages[message.id] = message
    store.channels[channel.id].message_ids.append(message.id)
    _echo(store, message, "MESSAGE_CREATE")
    return message


def edit_bot_message(
    store: Store, message: BotMessage, body: Body, *, clear_flags: int = 0
) -> BotMessage:
    """Apply a PATCH: only the fields present change (``null`` clears them)."""
    params = body.params
    current = message.current
    flags = (_flags_of(params, current.flags)) & ~clear_flags
    content = content_of(params) if "content" in params else current.content
    components = components_of(params, flags) if "components" in params else current.components
    attachments = attachments_for_edit(store, message, body)
    version = MessageVersion(store.bump(), content, components, attachments, flags)
    message.versions.append(version)
    _echo(store, message, "MESSAGE_UPDATE")
    return message


def _echo(store: Store, message: BotMessage, event: str) -> None:
    """The bot sees its own messages on the gateway too, as on Discord (never ephemeral
    ones)."""
    if message.ephemeral:
        return
    intent = GUILD_MESSAGES if message.guild_id is not None else DIRECT_MESSAGES

    def shape(session: Session) -> JSON | None:
        if not session.intents & intent:
            return None
        return bot_message_json(store, message, audience="gateway")

    store.dispatch(event, shape)
