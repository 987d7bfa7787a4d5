"""What the bot sends, checked against Telegram's limits: texts, keyboards and files."""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from PIL import Image

from tests.botapi.errors import ApiError, bad_request
from tests.botapi.files import FileStore
from tests.botapi.records import JSON, Files

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA = 64  # bytes
MAX_PHOTO_UPLOAD = 10 * 1024 * 1024
MAX_UPLOAD = 50 * 1024 * 1024


def text(p: JSON) -> str | None:
    return _limited(p.get("text"), MAX_TEXT_LENGTH, "message is too long")


def caption(source: JSON) -> str | None:
    """The caption of a request or an InputMedia; empty means none."""
    return (
        _limited(source.get("caption"), MAX_CAPTION_LENGTH, "message caption is too long") or None
    )


def _limited(value: Any, limit: int, too_long: str) -> str | None:
    if value is None:
        return None
    checked = str(value)
    if len(checked.encode("utf-16-le")) // 2 > limit:  # Telegram counts UTF-16 code units
        raise bad_request(too_long)
    return checked


def callback_markup(p: JSON) -> JSON | None:
    """The request's inline keyboard; edits without one remove the keyboard, as on Telegram."""
    markup = p.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if not button.get("text") or (data is None and set(button) <= {"text"}):
                raise bad_request("text buttons are unallowed in the inline keyboard")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                raise bad_request("BUTTON_DATA_INVALID")
    return copy.deepcopy(markup)


@dataclass(frozen=True)
class Attachment:
    """A photo or document as a bot message holds it."""

    kind: str  # "photo" | "document"
    data: bytes
    file_id: str  # the document, or the largest photo size
    media: Any  # Telegram's "photo" list or "document" dict
    file_name: str | None = None
    mime_type: str | None = None


def attachment(store: FileStore, kind: str, value: Any, uploads: Files) -> Attachment:
    """Store a sent photo or document, given as an upload, ``attach://name`` or a file id."""
    data, name, mime = _input_file(store, kind, value, uploads)
    if kind == "photo":
        sizes = _photo_sizes(store, data)
        return Attachment(kind, data, sizes[-1]["file_id"], sizes)
    stored = store.add("document", data, file_name=name, mime_type=mime)
    media = stored.document_json()
    if kind == "animation":  # Telegram describes an animation by its size and length too
        media.update(_animation_shape(data))
    return Attachment(kind, data, stored.file_id, media, name, mime)


def _animation_shape(data: bytes) -> JSON:
    """Width, height and whole seconds of a GIF, as an Animation object carries them."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            frames = getattr(image, "n_frames", 1)
            milliseconds = 0
            for index in range(frames):
                image.seek(index)
                milliseconds += int(image.info.get("duration", 0))
            return {"width": image.width, "height": image.height, "duration": milliseconds // 1000}
    except (OSError, ValueError) as error:
        raise bad_request("ANIMATION_INVALID") from error


def _input_file(
    store: FileStore, kind: str, value: Any, uploads: Files
) -> tuple[bytes, str | None, str | None]:
    """(bytes, file name, mime type) of an upload or an earlier file."""
    if value is not None and not str(value).startswith("attach://"):
        stored = store.by_id.get(str(value))
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if (stored.kind == "photo") != (kind == "photo"):
            raise bad_request(f"can't use file of type {stored.kind} as {kind}")
        return stored.data, stored.file_name, stored.mime_type
    upload = uploads.get(kind if value is None else str(value).removeprefix("attach://"))
    if upload is None:
        raise bad_request(f"there is no {kind} in the request")
    if not upload.data:
        raise bad_request("file must be non-empty")
    if kind == "photo" and len(upload.data) > MAX_PHOTO_UPLOAD:
        raise bad_request("PHOTO_SAVE_FILE_INVALID")
    if len(upload.data) > MAX_UPLOAD:
        raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request Entity Too Large")
    return upload.data, upload.filename, upload.content_type


def _photo_sizes(store: FileStore, data: bytes) -> list[JSON]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
        if width + height > 10_000 or max(width, height) > 20 * min(width, height):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        return store.add_photo(data)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise bad_request("IMAGE_PROCESS_FAILED") from exc
