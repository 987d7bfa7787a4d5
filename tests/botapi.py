"""A fake Telegram Bot API server for end-to-end tests of the bot.

Why: the bot is a real ``telegram.ext.Application``; the most faithful test drives it over HTTP
exactly as Telegram would, instead of mocking PTB internals. This server speaks the Bot API
(JSON, form-encoded and multipart requests, long-polling ``getUpdates``, file downloads) on
127.0.0.1 in a background thread, plays the users' side, and records what the bot did::

    with BotApiServer() as server:
        app = (
            ApplicationBuilder()
            .token(server.token)
            .base_url(server.base_url)
            .base_file_url(server.base_file_url)
            .build()
        )
        ...  # or run `python -m bot` as a subprocess pointed at server.base_url
        sent = server.user_sends_photo(USER, png_bytes)
        reply = server.wait_for_message(USER, after=sent, kind="photo")
        result = reply.image()

Behaviour copied from Telegram because bots must cope with it:

* user photos arrive as several re-encoded JPEG ``PhotoSize`` entries, smallest first;
* ``editMessageText``/``editMessageCaption``/``editMessageMedia`` without ``reply_markup``
  remove the inline keyboard; an edit that changes nothing is a 400 "message is not modified";
* ``parse_mode`` HTML and MarkdownV2 are validated ("can't parse entities"), texts are limited
  to 4096 and captions to 1024 characters, ``callback_data`` to 64 bytes;
* ``getFile`` refuses files over 20 MB, unknown file ids, and uploads are size-checked;
* errors use Telegram's status codes and descriptions, so PTB raises the same exceptions.

Waiting: every user action and bot message gets an increasing *marker*. ``user_sends_*``
return a :class:`Sent` carrying it; pass it as ``after=`` to wait for what the bot did in
response. A message matches ``contains`` if any version of it (sent or edited) contained the
text, so fast progress edits cannot be missed. The ``wait_*`` methods block the calling thread:
use them from sync tests (e.g. a bot running as a subprocess). **Async tests whose Application
runs on the test's own event loop must use the ``await_*`` twins**, which poll with
``asyncio.sleep`` and so let the bot run. On timeout both raise ``AssertionError`` with a
transcript of the chat and the recent API calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import email.parser
import email.policy
import io
import itertools
import json
import mimetypes
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import PurePosixPath
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from PIL import Image

JSON = dict[str, Any]
T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024  # getFile refuses bigger files
MAX_PHOTO_UPLOAD = 10 * 1024 * 1024
MAX_UPLOAD = 50 * 1024 * 1024
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA = 64

_ASYNC_POLL_INTERVAL = 0.02
_PHOTO_SIDES = (90, 320, 800, 1280)  # Telegram's standard thumbnail sides
_MAX_PHOTO_SIDE = 2560
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Form/multipart values are strings; PTB JSON-encodes every non-string parameter. These
# parameters are strings in the Bot API and must not be JSON-decoded ("123" stays text).
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "file_id",
        "inline_message_id",
        "url",
        "action",
        "language_code",
        "photo",
        "document",
        "video",
        "animation",
        "audio",
        "voice",
        "sticker",
        "video_note",
        "thumbnail",
        "business_connection_id",
        "message_effect_id",
        "emoji",
        "title",
        "description",
        "short_description",
        "name",
        "secret_token",
        "ip_address",
    }
)


# --------------------------------------------------------------------------------------------
# Public records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """A simulated user action: the update the bot will receive and a marker to wait after."""

    update: JSON
    marker: int

    @property
    def message(self) -> JSON:
        """The user's message, or for a button press the bot message carrying the button."""
        if "callback_query" in self.update:
            return self.update["callback_query"]["message"]
        return self.update["message"]

    @property
    def chat_id(self) -> int:
        return int(self.message["chat"]["id"])

    @property
    def message_id(self) -> int:
        return int(self.message["message_id"])

    @property
    def callback_query_id(self) -> str | None:
        query = self.update.get("callback_query")
        return query["id"] if query else None


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request, as the bot uploaded it."""

    field: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class ApiCall:
    """One Bot API request: decoded params, uploaded files and how the server answered."""

    seq: int
    method: str
    params: JSON
    files: dict[str, UploadedFile]
    status: int = 0  # 0 while still being answered (a long poll)
    result: Any = None
    description: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == HTTPStatus.OK


@dataclass
class BotMessage:
    """A message the bot sent, as it looks now (edits applied); returned as a snapshot."""

    chat_id: int
    message_id: int
    kind: str  # "text" | "photo" | "document"
    seq: int  # marker at which it was sent
    date: int
    text: str | None = None  # visible text of a text message (formatting removed)
    caption: str | None = None  # visible caption of a photo/document
    raw_text: str | None = None  # text or caption exactly as the bot sent it
    parse_mode: str | None = None
    reply_markup: JSON | None = None
    data: bytes | None = None  # photo/document bytes exactly as the bot uploaded them
    file_id: str | None = None  # the document, or the largest photo size
    file_name: str | None = None
    mime_type: str | None = None
    media: Any = None  # Telegram's "photo" list or "document" dict for this message
    media_group_id: str | None = None
    reply_to_message_id: int | None = None
    edit_count: int = 0
    edit_seq: int = 0  # marker of the latest edit, 0 if never edited
    versions: list[tuple[int, str]] = field(default_factory=list)  # (marker, body), oldest first
    deleted: bool = False

    @property
    def body(self) -> str:
        """The text of a text message, else the caption ("" if none)."""
        return (self.text if self.kind == "text" else self.caption) or ""

    @property
    def button_rows(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard as rows of (text, callback_data); URL buttons have None."""
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return []
        return [
            [(button.get("text", ""), button.get("callback_data")) for button in row]
            for row in self.reply_markup["inline_keyboard"]
        ]

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """Inline keyboard flattened to (text, callback_data) in reading order."""
        return [button for row in self.button_rows for button in row]

    def image(self) -> Image.Image:
        """Decode the uploaded photo/document with Pillow (fully loaded)."""
        if self.data is None:
            raise AssertionError(f"message {self.message_id} ({self.kind}) carries no file bytes")
        image = Image.open(io.BytesIO(self.data))
        image.load()
        return image


# --------------------------------------------------------------------------------------------
# Internals: errors, storage, formatting, request parsing
# --------------------------------------------------------------------------------------------


class _ApiError(Exception):
    """A Bot API error answer; raised by method implementations."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(reason: str) -> _ApiError:
    return _ApiError(HTTPStatus.BAD_REQUEST, f"Bad Request: {reason}")


class _FormatError(Exception):
    """Text that Telegram would reject with "can't parse entities"."""


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_size: int
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None


@dataclass
class _Chat:
    id: int
    type: str
    user_id: int | None  # the other party of a private chat
    title: str | None = None
    next_message_id: int = 1
    user_messages: dict[int, JSON] = field(default_factory=dict)
    bot_messages: dict[int, BotMessage] = field(default_factory=dict)
    last_user_seq: int = 0
    blocked: bool = False


def _utf16_len(text: str) -> int:
    """Telegram counts text length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, char_offset: int) -> int:
    return len(text[:char_offset].encode())


_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_BARE_LT = re.compile(r"<(?![A-Za-z/])")


class _HtmlRenderer(HTMLParser):
    """Validates Telegram's HTML subset and returns the visible text."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self._source = source
        self._line_starts = [0]
        for match in re.finditer("\n", source):
            self._line_starts.append(match.end())
        self._out: list[str] = []
        self._open: list[str] = []

    def _offset(self) -> int:
        line, column = self.getpos()
        return _byte_offset(self._source, self._line_starts[line - 1] + column)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            raise _FormatError(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')
        self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise _FormatError(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')

    def handle_endtag(self, tag: str) -> None:
        if not self._open:
            raise _FormatError(f'Unexpected end tag "{tag}" at byte offset {self._offset()}')
        expected = self._open.pop()
        if expected != tag:
            raise _FormatError(
                f'Unmatched end tag at byte offset {self._offset()}, expected "</{expected}>", '
                f'found "</{tag}>"'
            )

    def handle_data(self, data: str) -> None:
        self._out.append(data)

    def render(self) -> str:
        bare = _BARE_LT.search(self._source)
        if bare:
            offset = _byte_offset(self._source, bare.start())
            raise _FormatError(f"Unexpected character '<' at byte offset {offset}; use &lt;")
        self.feed(self._source)
        self.close()
        if self._open:
            raise _FormatError(f'Can\'t find end tag corresponding to start tag "{self._open[-1]}"')
        return "".join(self._out)


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_MARKERS = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough"}


def _render_markdown_v2(text: str) -> str:
    """Validates MarkdownV2 escaping like Telegram does and returns the visible text."""
    out: list[str] = []
    open_markers: list[tuple[str, int]] = []
    link_starts: list[int] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        at_line_start = i == 0 or text[i - 1] == "\n"
        if char == "\\":
            if i + 1 < n:
                out.append(text[i + 1])
            i += 2
        elif text.startswith("```", i):
            end = text.find("```", i + 3)
            if end < 0:
                raise _FormatError(
                    f"Can't find end of Pre entity at byte offset {_byte_offset(text, i)}"
                )
            block = text[i + 3 : end]
            first, newline, rest = block.partition("\n")
            if newline and first and " " not in first:
                block = rest  # ```language
            out.append(re.sub(r"\\(.)", r"\1", block))
            i = end + 3
        elif char == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise _FormatError(
                    f"Can't find end of Code entity at byte offset {_byte_offset(text, i)}"
                )
            out.append(re.sub(r"\\(.)", r"\1", text[i + 1 : end]))
            i = end + 1
        elif char == "[" or (char == "!" and text.startswith("![", i)):
            link_starts.append(i)
            i += 2 if char == "!" else 1
        elif char == "]" and link_starts:
            link_starts.pop()
            if not text.startswith("(", i + 1):
                raise _FormatError(
                    f"Can't find end of a URL at byte offset {_byte_offset(text, i + 1)}"
                )
            j = i + 2
            while j < n and text[j] != ")":
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise _FormatError(
                    f"Can't find end of a URL at byte offset {_byte_offset(text, i)}"
                )
            i = j + 1
        elif text.startswith("||", i) or text.startswith("__", i) or char in "*_~":
            marker = text[i : i + 2] if text.startswith(("||", "__"), i) else char
            if open_markers and open_markers[-1][0] == marker:
                open_markers.pop()
            else:
                open_markers.append((marker, i))
            i += len(marker)
        elif char == ">" and at_line_start:
            i += 1  # block quotation
        elif char in _MDV2_RESERVED:
            raise _FormatError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            out.append(char)
            i += 1
    if link_starts:
        raise _FormatError(
            f"Can't find end of a link at byte offset {_byte_offset(text, link_starts[-1])}"
        )
    if open_markers:
        marker, start = open_markers[-1]
        name = _MDV2_MARKERS.get(marker, "Spoiler")
        raise _FormatError(
            f"Can't find end of {name} entity at byte offset {_byte_offset(text, start)}"
        )
    return "".join(out)


def _render_markdown(text: str) -> str:
    """Legacy Markdown: best-effort visible text, no validation."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"```[^\n]*\n?|[*_`]", "", text)


def _render(text: str, parse_mode: str | None) -> str:
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _HtmlRenderer(text).render()
    if mode == "markdownv2":
        return _render_markdown_v2(text)
    if mode == "markdown":
        return _render_markdown(text)
    if mode:
        raise _bad_request(f"unsupported parse_mode {parse_mode!r}")
    return text


def _decode_value(name: str, value: str) -> Any:
    """Undo PTB's form encoding: JSON-encoded values except for string parameters."""
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _parse_multipart(content_type: str, body: bytes) -> Iterable[tuple[str, UploadedFile | str]]:
    header = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
    if not message.is_multipart():
        raise _bad_request("can't parse multipart/form-data body")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None and part.get_content_type() == "text/plain":
            yield name, data.decode(part.get_content_charset() or "utf-8")
        else:
            yield name, UploadedFile(name, filename, part.get_content_type(), data)


def _parse_request(
    content_type: str, body: bytes, query: str
) -> tuple[JSON, dict[str, UploadedFile]]:
    """Bot API requests may be query strings, JSON, form-encoded or multipart."""
    raw: dict[str, str] = dict(parse_qsl(query, keep_blank_values=True))
    typed: JSON = {}
    files: dict[str, UploadedFile] = {}
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime == "application/json" and body:
        try:
            decoded = json.loads(body)
        except ValueError as exc:
            raise _bad_request("can't parse JSON object") from exc
        if not isinstance(decoded, dict):
            raise _bad_request("JSON body must be an object")
        typed.update(decoded)
    elif mime == "application/x-www-form-urlencoded":
        raw.update(parse_qsl(body.decode(), keep_blank_values=True))
    elif mime == "multipart/form-data":
        for name, value in _parse_multipart(content_type, body):
            if isinstance(value, UploadedFile):
                files[name] = value
            else:
                raw[name] = value
    params = {name: _decode_value(name, value) for name, value in raw.items()}
    params.update(typed)
    return params, files


def _image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def _jpeg_variants(data: bytes) -> list[tuple[bytes, int, int]]:
    """Re-encode like Telegram: JPEG thumbnails of the standard sides, then the full image."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        rgb = image.convert("RGB")
    longest = max(rgb.size)
    sides = [side for side in _PHOTO_SIDES if side < longest] + [min(longest, _MAX_PHOTO_SIDE)]
    variants = []
    for side in sides:
        variant = rgb
        if side < longest:
            variant = rgb.copy()
            variant.thumbnail((side, side))
        buffer = io.BytesIO()
        variant.save(buffer, "JPEG", quality=87)
        variants.append((buffer.getvalue(), variant.width, variant.height))
    return variants


def _shorten(value: Any, limit: int = 80) -> str:
    """Strings quoted, other values as JSON, cut to ``limit`` characters for dumps."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class BotApiServer:
    """Fake Bot API on 127.0.0.1 plus the simulated users; all public methods are thread-safe."""

    def __init__(
        self,
        token: str = "123456:TEST",
        *,
        bot_username: str = "stylebot_test_bot",
        bot_name: str = "Style Test Bot",
        max_poll_timeout: float = 2.0,
        check_formatting: bool = True,
    ) -> None:
        """``max_poll_timeout`` caps long polls so shutdowns stay fast; ``check_formatting``
        off turns parse errors into best-effort plain text."""
        self.token = token
        self.max_poll_timeout = max_poll_timeout
        self.check_formatting = check_formatting
        self.bot_user: JSON = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._cond = threading.Condition(threading.RLock())
        self._seq = 0
        self._ids = itertools.count(1)
        self._users: dict[int, JSON] = {}
        self._chats: dict[int, _Chat] = {}
        self._updates: list[JSON] = []
        self._next_update_id = 1
        self._allowed_updates: list[str] = []
        self._poll_generation = 0
        self._callback_queries: dict[str, bool] = {}  # id -> answered
        self._files: dict[str, _StoredFile] = {}
        self._paths: dict[str, _StoredFile] = {}
        self._downloads: list[str] = []
        self._calls: list[ApiCall] = []
        self._faults: dict[str, list[_ApiError]] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._stopping = False
        self.internal_errors: list[str] = []
        self._methods = {
            name.removeprefix("_api_").lower(): name.removeprefix("_api_")
            for name in dir(self)
            if name.startswith("_api_")
        }
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> BotApiServer:
        """Bind a free port and serve in a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("BotApiServer already started")
        with self._cond:
            self._stopping = False
        self._httpd = _HttpServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="BotApiServer",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release long polls, stop serving and close every socket."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> BotApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("BotApiServer is not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder.base_url``; PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder.base_file_url``; PTB appends the token and file path."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ---- simulated users -------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> JSON:
        """Register or redefine a user (users are otherwise created on first use)."""
        user: JSON = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name or f"User{user_id}",
            "username": username or f"user{user_id}",
        }
        if language_code:
            user["language_code"] = language_code
        with self._cond:
            self._users[user_id] = user
        return copy.deepcopy(user)

    def user_sends_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
        entities: list[JSON] | None = None,
    ) -> Sent:
        """A text message from the user."""
        fields: JSON = {"text": text}
        if entities:
            fields["entities"] = entities
        return self._user_message(user_id, chat_id, chat_type, fields, reply_to_message_id)

    def user_sends_command(
        self,
        user_id: int,
        command: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        mention_bot: bool = False,
    ) -> Sent:
        """A command such as "/start" or "/style 3", with Telegram's bot_command entity."""
        if not command.startswith("/"):
            raise ValueError(f"a command starts with '/': {command!r}")
        name, sep, args = command.partition(" ")
        if mention_bot and "@" not in name:
            name = f"{name}@{self.bot_user['username']}"
        entity = {"type": "bot_command", "offset": 0, "length": _utf16_len(name)}
        fields = {"text": name + sep + args, "entities": [entity]}
        return self._user_message(user_id, chat_id, chat_type, fields, None)

    def user_sends_photo(
        self,
        user_id: int,
        image_bytes: bytes,
        *,
        caption: str | None = None,
        media_group_id: str | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
    ) -> Sent:
        """A photo; like Telegram, delivered as re-encoded JPEG sizes, smallest first."""
        try:
            variants = _jpeg_variants(image_bytes)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise ValueError(
                "user_sends_photo needs bytes Pillow can decode (Telegram only delivers "
                "re-encoded photos); use user_sends_document for arbitrary bytes"
            ) from exc
        with self._cond:
            sizes = [self._photo_size(data, width, height) for data, width, height in variants]
        fields: JSON = {"photo": sizes}
        if caption is not None:
            fields["caption"] = caption
        if media_group_id is not None:
            fields["media_group_id"] = media_group_id
        return self._user_message(user_id, chat_id, chat_type, fields, reply_to_message_id)

    def user_sends_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str = "file.bin",
        mime_type: str | None = None,
        *,
        file_size_override: int | None = None,
        caption: str | None = None,
        media_group_id: str | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
    ) -> Sent:
        """A file sent "as document"; ``file_size_override`` claims a size (e.g. 25 MB)."""
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        with self._cond:
            stored = self._store_file("document", data, file_name=file_name, mime_type=mime)
            if file_size_override is not None:
                stored.file_size = file_size_override
        fields: JSON = {"document": self._document_json(stored)}
        if caption is not None:
            fields["caption"] = caption
        if media_group_id is not None:
            fields["media_group_id"] = media_group_id
        return self._user_message(user_id, chat_id, chat_type, fields, None)

    def user_sends_sticker(
        self,
        user_id: int,
        *,
        emoji: str = "🙂",
        data: bytes = b"RIFF-webp-sticker",
        chat_id: int | None = None,
        chat_type: str = "private",
    ) -> Sent:
        """A static sticker."""
        with self._cond:
            stored = self._store_file("sticker", data, mime_type="image/webp")
        sticker = {
            **self._file_json(stored),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._user_message(user_id, chat_id, chat_type, {"sticker": sticker}, None)

    def user_sends_voice(
        self,
        user_id: int,
        *,
        duration: int = 2,
        data: bytes = b"OggS-voice",
        chat_id: int | None = None,
        chat_type: str = "private",
    ) -> Sent:
        """A voice note."""
        with self._cond:
            stored = self._store_file("voice", data, mime_type="audio/ogg")
        voice = {**self._file_json(stored), "duration": duration, "mime_type": "audio/ogg"}
        return self._user_message(user_id, chat_id, chat_type, {"voice": voice}, None)

    def user_sends_video(
        self,
        user_id: int,
        *,
        width: int = 640,
        height: int = 360,
        duration: int = 3,
        data: bytes = b"mp4-video",
        chat_id: int | None = None,
        chat_type: str = "private",
    ) -> Sent:
        """A video."""
        with self._cond:
            stored = self._store_file("video", data, file_name="video.mp4", mime_type="video/mp4")
        video = {
            **self._file_json(stored),
            "width": width,
            "height": height,
            "duration": duration,
            "file_name": "video.mp4",
            "mime_type": "video/mp4",
        }
        return self._user_message(user_id, chat_id, chat_type, {"video": video}, None)

    def user_sends_animation(
        self,
        user_id: int,
        *,
        width: int = 320,
        height: int = 240,
        duration: int = 2,
        data: bytes = b"mp4-animation",
        chat_id: int | None = None,
        chat_type: str = "private",
    ) -> Sent:
        """A GIF; like Telegram the message carries both "animation" and "document"."""
        name, mime = "animation.gif.mp4", "video/mp4"
        with self._cond:
            stored = self._store_file("animation", data, file_name=name, mime_type=mime)
        animation = {
            **self._file_json(stored),
            "width": width,
            "height": height,
            "duration": duration,
            "file_name": name,
            "mime_type": mime,
        }
        fields = {"animation": animation, "document": self._document_json(stored)}
        return self._user_message(user_id, chat_id, chat_type, fields, None)

    def user_presses_button(
        self,
        user_id: int,
        message_id: int,
        callback_data: str | None = None,
        *,
        label: str | None = None,
        chat_id: int | None = None,
        check: bool = True,
    ) -> Sent:
        """Press an inline button of a bot message, by exact callback_data or by label text.

        ``check`` asserts the button is really on the message now (as in a real client);
        turn it off to forge stale or unknown callback data.
        """
        if (callback_data is None) == (label is None):
            raise ValueError("pass exactly one of callback_data and label")
        with self._cond:
            chat = self._chats.get(user_id if chat_id is None else chat_id)
            message = chat.bot_messages.get(message_id) if chat else None
            if chat is None or message is None:
                raise AssertionError(
                    f"no bot message {message_id} in chat {chat_id or user_id}\n{self._dump()}"
                )
            if label is not None:
                matches = [data for text, data in message.buttons if label in text]
                if not matches:
                    raise AssertionError(
                        f"message {message_id} has no button labelled {label!r}: "
                        f"{message.buttons}\n{self._dump(chat.id)}"
                    )
                callback_data = matches[0]
            if check and (
                message.deleted or callback_data not in [data for _, data in message.buttons]
            ):
                raise AssertionError(
                    f"message {message_id} has no button with callback_data {callback_data!r} "
                    f"(buttons {message.buttons}, deleted={message.deleted})\n{self._dump(chat.id)}"
                )
            query_id = str(4_000_000_000 + next(self._ids))
            self._callback_queries[query_id] = False
            query = {
                "id": query_id,
                "from": self._user(user_id),
                "message": self._message_json(message),
                "chat_instance": str(chat.id),
                "data": callback_data,
            }
            return self._enqueue(chat, {"callback_query": query})

    def user_blocks_bot(self, user_id: int, blocked: bool = True) -> None:
        """Further sends to this private chat fail with 403 like a blocked bot's."""
        with self._cond:
            self._private_chat(user_id).blocked = blocked

    def send_update(self, update: JSON, chat_id: int | None = None) -> Sent:
        """Queue a raw update (``update_id`` is assigned); an escape hatch for odd cases."""
        with self._cond:
            chat = self._chats.get(chat_id) if chat_id is not None else None
            return self._enqueue(chat, copy.deepcopy(update))

    # ---- fault injection -------------------------------------------------------------------

    def inject_error(
        self,
        method: str,
        code: int = HTTPStatus.BAD_REQUEST,
        description: str = "Bad Request: injected error",
        *,
        times: int = 1,
        parameters: JSON | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with this error."""
        with self._cond:
            faults = self._faults.setdefault(method.lower(), [])
            faults.extend(_ApiError(code, description, parameters) for _ in range(times))

    def flood_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 and ``retry_after``."""
        self.inject_error(
            method,
            HTTPStatus.TOO_MANY_REQUESTS,
            f"Too Many Requests: retry after {retry_after}",
            times=times,
            parameters={"retry_after": retry_after},
        )

    # ---- inspection ------------------------------------------------------------------------

    def mark(self) -> int:
        """The current marker: everything that happens later is ``after`` it."""
        with self._cond:
            return self._seq

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[BotMessage]:
        """The bot's messages in a chat, oldest first, as they look now."""
        with self._cond:
            chat = self._chats.get(chat_id)
            if chat is None:
                return []
            return [
                self._snapshot(message)
                for message in sorted(chat.bot_messages.values(), key=lambda m: m.message_id)
                if include_deleted or not message.deleted
            ]

    def message(self, chat_id: int, message_id: int) -> BotMessage:
        """One bot message (deleted ones included)."""
        with self._cond:
            chat = self._chats.get(chat_id)
            if chat is None or message_id not in chat.bot_messages:
                raise AssertionError(
                    f"no bot message {message_id} in chat {chat_id}\n{self._dump(chat_id)}"
                )
            return self._snapshot(chat.bot_messages[message_id])

    def last_message(self, chat_id: int) -> BotMessage:
        """The newest bot message still present in the chat."""
        found = self.messages(chat_id)
        if not found:
            raise AssertionError(f"the bot sent nothing to chat {chat_id}\n{self.dump(chat_id)}")
        return found[-1]

    def buttons(self, chat_id: int, message_id: int) -> list[tuple[str, str | None]]:
        """Inline buttons of a bot message as (text, callback_data)."""
        return self.message(chat_id, message_id).buttons

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """The API call log (snapshots), optionally for one method."""
        with self._cond:
            return [
                dataclasses.replace(call)
                for call in self._calls
                if method is None or call.method.lower() == method.lower()
            ]

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """What ``setMyCommands`` stored for this scope and language."""
        with self._cond:
            return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes behind a file id (user or bot file)."""
        with self._cond:
            if file_id not in self._files:
                raise KeyError(file_id)
            return self._files[file_id].data

    def downloaded_file_ids(self) -> list[str]:
        """File ids the bot downloaded through base_file_url, in order."""
        with self._cond:
            return list(self._downloads)

    def pending_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._cond:
            return len(self._updates)

    def dump(self, chat_id: int | None = None) -> str:
        """Readable transcript of one chat (or all) plus the recent API calls."""
        with self._cond:
            return self._dump(chat_id)

    # ---- waiting (sync) --------------------------------------------------------------------

    def wait_for(
        self, predicate: Callable[[], T], timeout: float = DEFAULT_TIMEOUT, what: str = "condition"
    ) -> T:
        """Block until ``predicate()`` is truthy and return its value (sync tests only)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                seen = self._seq
            result = predicate()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(self._timeout_text(what, timeout, None))
            with self._cond:
                if self._seq == seen:
                    self._cond.wait(min(remaining, 0.05))

    def wait_for_message(
        self,
        chat_id: int,
        *,
        after: int | Sent | None = None,
        contains: str | None = None,
        kind: str | None = None,
        where: Callable[[BotMessage], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> BotMessage:
        """The first bot message sent after the marker (default: the chat's last user action)
        that matches; ``contains`` matches any version of the text/caption."""
        probe, what = self._message_probe(chat_id, after, contains, kind, where)
        return self._wait_sync(probe, timeout, what, chat_id)

    def wait_for_edit(
        self,
        chat_id: int,
        message_id: int,
        *,
        after: int | Sent | None = None,
        contains: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> BotMessage:
        """The message once edited after the marker (default: any edit) into text containing
        ``contains``; returns its current state."""
        probe, what = self._edit_probe(chat_id, message_id, after, contains)
        return self._wait_sync(probe, timeout, what, chat_id)

    def wait_for_call(
        self,
        method: str,
        *,
        after: int | Sent | None = None,
        where: Callable[[ApiCall], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> ApiCall:
        """The first answered call of ``method`` after the marker (default: any)."""
        probe, what = self._call_probe(method, after, where)
        return self._wait_sync(probe, timeout, what, None)

    def wait_no_message(
        self,
        chat_id: int,
        *,
        after: int | Sent | None = None,
        within: float = 0.5,
        contains: str | None = None,
        kind: str | None = None,
    ) -> None:
        """Assert the bot sends no (matching) message for ``within`` seconds."""
        probe, what = self._message_probe(chat_id, after, contains, kind, None)
        time.sleep(within)
        self._assert_nothing(probe, what, chat_id)

    # ---- waiting (async: use these when the bot runs on the test's event loop) ---------------

    async def await_for(
        self, predicate: Callable[[], T], timeout: float = DEFAULT_TIMEOUT, what: str = "condition"
    ) -> T:
        """Async :meth:`wait_for`."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_text(what, timeout, None))
            await asyncio.sleep(_ASYNC_POLL_INTERVAL)

    async def await_message(
        self,
        chat_id: int,
        *,
        after: int | Sent | None = None,
        contains: str | None = None,
        kind: str | None = None,
        where: Callable[[BotMessage], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> BotMessage:
        """Async :meth:`wait_for_message`."""
        probe, what = self._message_probe(chat_id, after, contains, kind, where)
        return await self._wait_async(probe, timeout, what, chat_id)

    async def await_edit(
        self,
        chat_id: int,
        message_id: int,
        *,
        after: int | Sent | None = None,
        contains: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> BotMessage:
        """Async :meth:`wait_for_edit`."""
        probe, what = self._edit_probe(chat_id, message_id, after, contains)
        return await self._wait_async(probe, timeout, what, chat_id)

    async def await_call(
        self,
        method: str,
        *,
        after: int | Sent | None = None,
        where: Callable[[ApiCall], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> ApiCall:
        """Async :meth:`wait_for_call`."""
        probe, what = self._call_probe(method, after, where)
        return await self._wait_async(probe, timeout, what, None)

    async def await_button_answer(self, press: Sent) -> str | None:
        """The note the bot showed for a button press (every press must be answered)."""
        call = await self.await_call(
            "answerCallbackQuery",
            after=press,
            where=lambda call: call.params["callback_query_id"] == press.callback_query_id,
        )
        return call.params.get("text")

    async def await_no_message(
        self,
        chat_id: int,
        *,
        after: int | Sent | None = None,
        within: float = 0.5,
        contains: str | None = None,
        kind: str | None = None,
    ) -> None:
        """Async :meth:`wait_no_message`."""
        probe, what = self._message_probe(chat_id, after, contains, kind, None)
        await asyncio.sleep(within)
        self._assert_nothing(probe, what, chat_id)

    # ---- waiting internals -----------------------------------------------------------------

    def _after_seq(self, chat_id: int | None, after: int | Sent | None) -> int:
        if isinstance(after, Sent):
            return after.marker
        if after is not None:
            return after
        with self._cond:
            chat = self._chats.get(chat_id) if chat_id is not None else None
            return chat.last_user_seq if chat else 0

    def _message_probe(
        self,
        chat_id: int,
        after: int | Sent | None,
        contains: str | None,
        kind: str | None,
        where: Callable[[BotMessage], bool] | None,
    ) -> tuple[Callable[[], BotMessage | None], str]:
        since = self._after_seq(chat_id, after)

        def probe() -> BotMessage | None:
            chat = self._chats.get(chat_id)
            for message in sorted(chat.bot_messages.values(), key=lambda m: m.seq) if chat else ():
                if message.seq <= since or (kind is not None and message.kind != kind):
                    continue
                if contains is not None and not any(contains in b for _, b in message.versions):
                    continue
                if where is None or where(message):
                    return self._snapshot(message)
            return None

        what = f"a bot message in chat {chat_id} after marker {since}"
        if kind is not None:
            what += f" of kind {kind!r}"
        if contains is not None:
            what += f" containing {contains!r}"
        return probe, what

    def _edit_probe(
        self, chat_id: int, message_id: int, after: int | Sent | None, contains: str | None
    ) -> tuple[Callable[[], BotMessage | None], str]:
        since = 0 if after is None else self._after_seq(chat_id, after)

        def probe() -> BotMessage | None:
            chat = self._chats.get(chat_id)
            message = chat.bot_messages.get(message_id) if chat else None
            if message is None:
                return None
            for seq, body in message.versions[1:]:
                if seq > since and (contains is None or contains in body):
                    return self._snapshot(message)
            return None

        what = f"an edit of message {message_id} in chat {chat_id} after marker {since}"
        if contains is not None:
            what += f" containing {contains!r}"
        return probe, what

    def _call_probe(
        self, method: str, after: int | Sent | None, where: Callable[[ApiCall], bool] | None
    ) -> tuple[Callable[[], ApiCall | None], str]:
        since = self._after_seq(None, after)
        name = method.lower()

        def probe() -> ApiCall | None:
            for call in self._calls:
                if call.seq > since and call.status and call.method.lower() == name:
                    snapshot = dataclasses.replace(call)
                    if where is None or where(snapshot):
                        return snapshot
            return None

        return probe, f"a {method} call after marker {since}"

    def _wait_sync(
        self, probe: Callable[[], T | None], timeout: float, what: str, chat_id: int | None
    ) -> T:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = probe()
                if result is not None:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._timeout_text(what, timeout, chat_id))
                self._cond.wait(remaining)

    async def _wait_async(
        self, probe: Callable[[], T | None], timeout: float, what: str, chat_id: int | None
    ) -> T:
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                result = probe()
            if result is not None:
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_text(what, timeout, chat_id))
            await asyncio.sleep(_ASYNC_POLL_INTERVAL)

    def _assert_nothing(
        self, probe: Callable[[], BotMessage | None], what: str, chat_id: int
    ) -> None:
        with self._cond:
            found = probe()
            if found is not None:
                raise AssertionError(
                    f"expected no {what.removeprefix('a ')}, but got message "
                    f"{found.message_id}: {found.body!r}\n{self._dump(chat_id)}"
                )

    def _timeout_text(self, what: str, timeout: float, chat_id: int | None) -> str:
        with self._cond:
            return f"timed out after {timeout:g} s waiting for {what}\n{self._dump(chat_id)}"

    # ---- state helpers (call with the lock held) -------------------------------------------

    def _bump(self) -> int:
        self._seq += 1
        self._cond.notify_all()
        return self._seq

    def _user(self, user_id: int) -> JSON:
        if user_id not in self._users:
            self.add_user(user_id)
        return copy.deepcopy(self._users[user_id])

    def _private_chat(self, user_id: int) -> _Chat:
        return self._chat_for(user_id, user_id, "private")

    def _chat_for(self, user_id: int, chat_id: int | None, chat_type: str) -> _Chat:
        if chat_type == "private":
            if chat_id not in (None, user_id):
                raise ValueError(
                    f"a private chat's id is the user's id ({user_id}), not {chat_id}; "
                    "pass chat_type='group' for a group"
                )
            chat_id = user_id
        elif chat_type not in ("group", "supergroup"):
            raise ValueError(f"unsupported chat_type {chat_type!r}")
        elif chat_id is None:
            raise ValueError(f"a {chat_type} message needs chat_id")
        chat = self._chats.get(chat_id)
        if chat is None:
            private = chat_type == "private"
            chat = _Chat(
                id=chat_id,
                type=chat_type,
                user_id=user_id if private else None,
                title=None if private else f"Test group {chat_id}",
            )
            self._chats[chat_id] = chat
        elif chat.type != chat_type:
            raise ValueError(f"chat {chat_id} is a {chat.type} chat, not {chat_type}")
        return chat

    def _chat_json(self, chat: _Chat) -> JSON:
        if chat.type == "private":
            user = self._user(chat.user_id or chat.id)
            return {
                "id": chat.id,
                "type": "private",
                "first_name": user["first_name"],
                "username": user.get("username"),
            }
        return {"id": chat.id, "type": chat.type, "title": chat.title}

    def _user_message(
        self,
        user_id: int,
        chat_id: int | None,
        chat_type: str,
        fields: JSON,
        reply_to_message_id: int | None,
    ) -> Sent:
        with self._cond:
            chat = self._chat_for(user_id, chat_id, chat_type)
            message_id = chat.next_message_id
            chat.next_message_id += 1
            message: JSON = {
                "message_id": message_id,
                "from": self._user(user_id),
                "chat": self._chat_json(chat),
                "date": int(time.time()),
                **copy.deepcopy(fields),
            }
            if reply_to_message_id is not None:
                replied = self._any_message_json(chat, reply_to_message_id)
                if replied is None:
                    raise ValueError(f"no message {reply_to_message_id} in chat {chat.id}")
                message["reply_to_message"] = replied
            chat.user_messages[message_id] = message
            return self._enqueue(chat, {"message": message})

    def _enqueue(self, chat: _Chat | None, payload: JSON) -> Sent:
        update = {**payload, "update_id": self._next_update_id}
        self._next_update_id += 1
        self._updates.append(update)
        marker = self._bump()
        if chat is not None:
            chat.last_user_seq = marker
        return Sent(update=copy.deepcopy(update), marker=marker)

    def _store_file(
        self,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        extension: str | None = None,
    ) -> _StoredFile:
        number = next(self._ids)
        suffix = (
            extension
            or (PurePosixPath(file_name).suffix if file_name else "")
            or (mimetypes.guess_extension(mime_type) if mime_type else None)
            or ".bin"
        )
        stored = _StoredFile(
            file_id=f"{kind}-{number:04d}",
            file_unique_id=f"u{number:04d}",
            kind=kind,
            data=data,
            file_size=len(data),
            file_path=f"{kind}s/file_{number}{suffix}",
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._paths[stored.file_path] = stored
        return stored

    @staticmethod
    def _file_json(stored: _StoredFile) -> JSON:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }

    def _document_json(self, stored: _StoredFile) -> JSON:
        document = self._file_json(stored)
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        return document

    def _photo_size(self, data: bytes, width: int, height: int) -> JSON:
        stored = self._store_file("photo", data, mime_type="image/jpeg", extension=".jpg")
        return {**self._file_json(stored), "width": width, "height": height}

    def _message_json(self, message: BotMessage, with_reply: bool = True) -> JSON:
        chat = self._chats[message.chat_id]
        result: JSON = {
            "message_id": message.message_id,
            "from": copy.deepcopy(self.bot_user),
            "chat": self._chat_json(chat),
            "date": message.date,
        }
        if message.edit_count:
            result["edit_date"] = int(time.time())
        if message.kind == "text":
            result["text"] = message.text
        else:
            result[message.kind] = copy.deepcopy(message.media)
            if message.caption:
                result["caption"] = message.caption
        if message.media_group_id:
            result["media_group_id"] = message.media_group_id
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            result["reply_markup"] = copy.deepcopy(message.reply_markup)
        if with_reply and message.reply_to_message_id is not None:
            replied = self._any_message_json(chat, message.reply_to_message_id)
            if replied is not None:
                result["reply_to_message"] = replied
        return result

    def _any_message_json(self, chat: _Chat, message_id: int) -> JSON | None:
        """A user or bot message as it appears inside ``reply_to_message`` (not nested)."""
        if message_id in chat.user_messages:
            replied = copy.deepcopy(chat.user_messages[message_id])
            replied.pop("reply_to_message", None)
            return replied
        message = chat.bot_messages.get(message_id)
        if message is None or message.deleted:
            return None
        return self._message_json(message, with_reply=False)

    @staticmethod
    def _snapshot(message: BotMessage) -> BotMessage:
        return dataclasses.replace(message, versions=list(message.versions))

    def _dump(self, chat_id: int | None = None) -> str:
        chats = [self._chats[chat_id]] if chat_id in self._chats else list(self._chats.values())
        lines = []
        if chat_id is not None and chat_id not in self._chats:
            lines.append(f"chat {chat_id}: no messages at all")
        for chat in chats:
            lines.append(f"chat {chat.id} ({chat.type}):")
            entries: list[tuple[int, str]] = []
            for mid, user_message in chat.user_messages.items():
                kind = next(
                    (
                        k
                        for k in ("text", "photo", "document", "sticker", "voice")
                        if k in user_message
                    ),
                    "other",
                )
                body = user_message.get("text", user_message.get("caption", ""))
                who = user_message["from"]["id"]
                entries.append((mid, f"  #{mid} user {who} [{kind}] {_shorten(body)}"))
            for mid, message in chat.bot_messages.items():
                text = (
                    f"  #{mid} bot [{message.kind}] {_shorten(message.body)} (marker {message.seq})"
                )
                if message.data is not None:
                    text += f" {len(message.data)} bytes"
                if message.buttons:
                    text += f" buttons={message.buttons}"
                if message.edit_count:
                    earlier = [body for _, body in message.versions[:-1]]
                    text += (
                        f" edited {message.edit_count}x, was {[_shorten(b, 40) for b in earlier]}"
                    )
                if message.deleted:
                    text += " DELETED"
                entries.append((mid, text))
            lines.extend(text for _, text in sorted(entries))
        recent = [call for call in self._calls if call.method != "getUpdates"][-15:]
        lines.append(f"recent API calls (getUpdates omitted), marker now {self._seq}:")
        for call in recent:
            params = [f"{k}={_shorten(v, 60)}" for k, v in call.params.items()]
            params += [
                f"{name}=<upload {upload.filename!r}, {len(upload.data)} bytes>"
                for name, upload in call.files.items()
            ]
            outcome = call.status if call.ok else f"{call.status} {call.description}"
            lines.append(f"  [{call.seq}] {call.method}({', '.join(params)}) -> {outcome}")
        if self.internal_errors:
            lines.append("INTERNAL ERRORS of the fake server:")
            lines.extend(self.internal_errors)
        return "\n".join(lines)

    # ---- HTTP entry points (called from handler threads) ----------------------------------

    def _serve_http(self, handler: _Handler) -> None:
        url = urlsplit(handler.path)
        path = unquote(url.path)
        body = _read_body(handler)
        if path.startswith("/file/bot"):
            token, _, file_path = path.removeprefix("/file/bot").partition("/")
            with self._cond:
                stored = self._paths.get(file_path) if token == self.token else None
                if stored is not None:
                    self._downloads.append(stored.file_id)
            if stored is None:
                _respond_json(handler, HTTPStatus.NOT_FOUND, _ApiError(404, "Not Found").payload())
            else:
                _respond(handler, HTTPStatus.OK, stored.data, "application/octet-stream")
            return
        token, _, method = path.removeprefix("/bot").partition("/")
        if not path.startswith("/bot") or not method or "/" in method:
            _respond_json(handler, HTTPStatus.NOT_FOUND, _ApiError(404, "Not Found").payload())
            return
        if token != self.token:
            payload = _ApiError(HTTPStatus.UNAUTHORIZED, "Unauthorized").payload()
            _respond_json(handler, HTTPStatus.UNAUTHORIZED, payload)
            return
        try:
            params, files = _parse_request(handler.headers.get("Content-Type", ""), body, url.query)
        except _ApiError as err:
            _respond_json(handler, err.code, err.payload())
            return
        status, payload = self._dispatch(method, params, files)
        _respond_json(handler, status, payload)

    def _dispatch(
        self, method: str, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[int, JSON]:
        canonical = self._methods.get(method.lower())
        with self._cond:
            call = ApiCall(self._bump(), canonical or method, params, files)
            self._calls.append(call)
            try:
                if canonical is None:
                    raise _ApiError(HTTPStatus.NOT_FOUND, "Not Found")
                faults = self._faults.get(canonical.lower())
                if faults:
                    raise faults.pop(0)
                result = getattr(self, f"_api_{canonical}")(params, files)
                status, payload = HTTPStatus.OK, {"ok": True, "result": result}
                call.result = result
            except _ApiError as err:
                status, payload = err.code, err.payload()
                call.description = err.description
            except Exception:  # a bug in this fake: surface it loudly, keep serving
                trace = traceback.format_exc()
                self.internal_errors.append(f"{method}: {trace}")
                status = HTTPStatus.INTERNAL_SERVER_ERROR
                payload = _ApiError(
                    status, f"Internal Server Error: fake server bug\n{trace}"
                ).payload()
                call.description = payload["description"]
            call.status = int(status)
            self._bump()
            return int(status), payload

    def _record_internal_error(self, trace: str) -> None:
        with self._cond:
            self.internal_errors.append(trace)

    # ---- Bot API methods (lock held; params decoded) ----------------------------------------

    def _api_getMe(self, p: JSON, files: dict[str, UploadedFile]) -> JSON:
        return copy.deepcopy(self.bot_user)

    def _api_logOut(self, p: JSON, files: dict[str, UploadedFile]) -> bool:
        return True

    def _api_close(self, p: JSON, files: dict[str, UploadedFile]) -> bool:
        return True

    def _api_deleteWebhook(self, p: JSON, files: dict[str, UploadedFile]) -> bool:
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_getWebhookInfo(self, p: JSON, files: dict[str, UploadedFile]) -> JSON:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _api_setMyCommands(self, p: JSON, files: dict[str, UploadedFile]) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("commands must be a list of at most 100 BotCommand")
        for command in commands:
            name, description = command.get("command", ""), command.get("description", "")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _bad_request("command description is empty or too long")
        key = self._commands_key(p.get("scope"), p.get("language_code") or "")
        self._commands[key] = copy.deepcopy(commands)
        return True

    def _api_getMyCommands(self, p: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        key = self._commands_key(p.get("scope"), p.get("language_code") or "")
        return copy.deepcopy(self._commands.get(key, []))

    def _api_deleteMyCommands(self, p: JSON, files: dict[str, UploadedFile]) -> bool:
        self._commands.pop(self._commands_key(p.get("scope"), p.get("language_code") or ""), None)
        return True

    def _api_setMyDescription(self, p: JSON, files: dict[str, UploadedFile]) -> bool:
        return True

    def _api_setMyShortDescription(self, p: JSON, files: dict[str, UploadedFile]) -> bool:
        return True

    def _api_setMyName(self, p: JSON, files: dict[str, UploadedFile]) -> bool:
        return True

    def _api_setChatMenuButton(self, p: JSON, files: dict[str, UploadedFile]) -> bool:
        return True

    @staticmethod
    def _commands_key(scope: JSON | None, language_code: str) -> tuple[str, str]:
        return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code

    def _api_getUpdates(self, p: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        offset = p.get("offset")
        limit = min(max(int(p.get("limit") or 100), 1), 100)
        timeout = min(float(p.get("timeout") or 0), self.max_poll_timeout)
        if p.get("allowed_updates") is not None:
            self._allowed_updates = list(p["allowed_updates"])
        if isinstance(offset, int) and offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif isinstance(offset, int) and offset < 0:
            self._updates = self._updates[offset:]
        self._poll_generation += 1
        generation = self._poll_generation
        deadline = time.monotonic() + timeout
        while True:
            batch = [u for u in self._updates if self._allowed(u)][:limit]
            if batch or self._stopping:
                return copy.deepcopy(batch)
            if generation != self._poll_generation:
                raise _ApiError(
                    HTTPStatus.CONFLICT,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._cond.wait(remaining)

    def _allowed(self, update: JSON) -> bool:
        if not self._allowed_updates:
            return True
        return any(kind in update for kind in self._allowed_updates)

    def _api_sendMessage(self, p: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._target_chat(p)
        raw = p.get("text")
        text = self._visible(raw, p.get("parse_mode"), MAX_TEXT_LENGTH, "message is too long")
        if not text or not text.strip():
            raise _bad_request("message text is empty")
        markup = self._markup(p)
        reply_to = self._reply_to(chat, p)
        message = self._new_message(
            chat,
            "text",
            text=text,
            raw_text=raw,
            parse_mode=p.get("parse_mode"),
            reply_markup=markup,
            reply_to_message_id=reply_to,
        )
        return self._message_json(message)

    def _api_sendPhoto(self, p: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._target_chat(p)
        data, _, _ = self._input_file(p.get("photo"), files, "photo")
        sizes = self._photo_sizes(data)
        caption, markup, reply_to = self._caption(p), self._markup(p), self._reply_to(chat, p)
        message = self._new_message(
            chat,
            "photo",
            caption=caption,
            raw_text=p.get("caption"),
            parse_mode=p.get("parse_mode"),
            reply_markup=markup,
            reply_to_message_id=reply_to,
            data=data,
            file_id=sizes[-1]["file_id"],
            media=sizes,
        )
        return self._message_json(message)

    def _api_sendDocument(self, p: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._target_chat(p)
        data, name, mime = self._input_file(p.get("document"), files, "document")
        caption, markup, reply_to = self._caption(p), self._markup(p), self._reply_to(chat, p)
        stored = self._store_file("document", data, file_name=name, mime_type=mime)
        message = self._new_message(
            chat,
            "document",
            caption=caption,
            raw_text=p.get("caption"),
            parse_mode=p.get("parse_mode"),
            reply_markup=markup,
            reply_to_message_id=reply_to,
            data=data,
            file_id=stored.file_id,
            file_name=name,
            mime_type=mime,
            media=self._document_json(stored),
        )
        return self._message_json(message)

    def _api_sendMediaGroup(self, p: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        chat = self._target_chat(p)
        media = p.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _bad_request("media group must contain 2-10 items")
        prepared = [self._prepare_media(item, files) for item in media]
        reply_to = self._reply_to(chat, p)
        group_id = str(10_000_000 + next(self._ids))
        results = []
        for item, fields in zip(media, prepared, strict=True):
            message = self._new_message(
                chat,
                reply_to_message_id=reply_to,
                media_group_id=group_id,
                raw_text=item.get("caption"),
                parse_mode=item.get("parse_mode"),
                **fields,
            )
            results.append(self._message_json(message))
        return results

    def _api_sendChatAction(self, p: JSON, files: dict[str, UploadedFile]) -> bool:
        self._target_chat(p)
        if p.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    def _api_editMessageText(self, p: JSON, files: dict[str, UploadedFile]) -> JSON:
        message = self._editable(p)
        if message.kind != "text":
            raise _bad_request("there is no text in the message to edit")
        raw = p.get("text")
        text = self._visible(raw, p.get("parse_mode"), MAX_TEXT_LENGTH, "message is too long")
        if not text or not text.strip():
            raise _bad_request("message text is empty")
        markup = self._markup(p)
        if (text, raw, markup) == (message.text, message.raw_text, message.reply_markup):
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        self._edit(
            message, text=text, raw_text=raw, parse_mode=p.get("parse_mode"), reply_markup=markup
        )
        return self._message_json(message)

    def _api_editMessageCaption(self, p: JSON, files: dict[str, UploadedFile]) -> JSON:
        message = self._editable(p)
        if message.kind == "text":
            raise _bad_request("there is no caption in the message to edit")
        caption, raw, markup = self._caption(p), p.get("caption"), self._markup(p)
        if (caption, raw, markup) == (message.caption, message.raw_text, message.reply_markup):
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        self._edit(
            message,
            caption=caption,
            raw_text=raw,
            parse_mode=p.get("parse_mode"),
            reply_markup=markup,
        )
        return self._message_json(message)

    def _api_editMessageMedia(self, p: JSON, files: dict[str, UploadedFile]) -> JSON:
        message = self._editable(p)
        if message.kind == "text":
            raise _bad_request("there is no media in the message to edit")
        item = p.get("media")
        if not isinstance(item, dict):
            raise _bad_request("media is empty")
        markup = self._markup(p)
        reference = item.get("media")
        if (
            reference == message.file_id
            and item.get("caption") == message.raw_text
            and markup == message.reply_markup
        ):
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        fields = self._prepare_media(item, files)
        fields.setdefault("file_name", None)
        fields.setdefault("mime_type", None)
        self._edit(
            message,
            raw_text=item.get("caption"),
            parse_mode=item.get("parse_mode"),
            reply_markup=markup,
            **fields,
        )
        return self._message_json(message)

    def _api_editMessageReplyMarkup(self, p: JSON, files: dict[str, UploadedFile]) -> JSON:
        message = self._editable(p)
        markup = self._markup(p)
        if markup == message.reply_markup:
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        self._edit(message, reply_markup=markup)
        return self._message_json(message)

    def _api_deleteMessage(self, p: JSON, files: dict[str, UploadedFile]) -> bool:
        chat = self._target_chat(p)
        message_id = p.get("message_id")
        message = chat.bot_messages.get(message_id) if isinstance(message_id, int) else None
        if message is not None and not message.deleted:
            message.deleted = True
            self._bump()
            return True
        if isinstance(message_id, int) and message_id in chat.user_messages:
            del chat.user_messages[message_id]
            return True
        raise _bad_request("message to delete not found")

    def _api_answerCallbackQuery(self, p: JSON, files: dict[str, UploadedFile]) -> bool:
        query_id = p.get("callback_query_id")
        if self._callback_queries.get(query_id, True):
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._callback_queries[query_id] = True
        return True

    def _api_getFile(self, p: JSON, files: dict[str, UploadedFile]) -> JSON:
        stored = self._files.get(p.get("file_id", ""))
        if stored is None:
            raise _bad_request("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise _bad_request("file is too big")
        return {**self._file_json(stored), "file_path": stored.file_path}

    # ---- method helpers (lock held) --------------------------------------------------------

    def _target_chat(self, p: JSON) -> _Chat:
        chat_id = p.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise _bad_request("chat not found")
        if chat.blocked:
            raise _ApiError(HTTPStatus.FORBIDDEN, "Forbidden: bot was blocked by the user")
        return chat

    def _editable(self, p: JSON) -> BotMessage:
        if p.get("inline_message_id"):
            raise _bad_request("inline messages are not supported by the fake server")
        chat = self._target_chat(p)
        message_id = p.get("message_id")
        if not isinstance(message_id, int):
            raise _bad_request("message identifier is not specified")
        if message_id in chat.user_messages:
            raise _bad_request("message can't be edited")
        message = chat.bot_messages.get(message_id)
        if message is None or message.deleted:
            raise _bad_request("message to edit not found")
        return message

    def _visible(self, raw: Any, parse_mode: str | None, limit: int, too_long: str) -> str | None:
        if raw is None:
            return None
        if not isinstance(raw, str):
            raw = str(raw)
        try:
            text = _render(raw, parse_mode)
        except _FormatError as err:
            if self.check_formatting:
                raise _bad_request(f"can't parse entities: {err}") from err
            text = raw
        if _utf16_len(text) > limit:
            raise _bad_request(too_long)
        return text

    def _caption(self, p: JSON) -> str | None:
        caption = self._visible(
            p.get("caption"), p.get("parse_mode"), MAX_CAPTION_LENGTH, "message caption is too long"
        )
        return caption or None

    @staticmethod
    def _markup(p: JSON) -> JSON | None:
        markup = p.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise _bad_request("text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                    raise _bad_request("BUTTON_DATA_INVALID")
                if data is None and not any(k != "text" for k in button):
                    raise _bad_request("text buttons are unallowed in the inline keyboard")
        return copy.deepcopy(markup)

    @staticmethod
    def _reply_to(chat: _Chat, p: JSON) -> int | None:
        parameters = p.get("reply_parameters")
        if isinstance(parameters, dict):
            message_id, allow = (
                parameters.get("message_id"),
                parameters.get("allow_sending_without_reply"),
            )
        else:
            message_id, allow = p.get("reply_to_message_id"), p.get("allow_sending_without_reply")
        if message_id is None:
            return None
        bot_message = chat.bot_messages.get(message_id)
        exists = message_id in chat.user_messages or (
            bot_message is not None and not bot_message.deleted
        )
        if exists:
            return int(message_id)
        if allow:
            return None
        raise _bad_request("message to be replied not found")

    def _input_file(
        self, value: Any, files: dict[str, UploadedFile], field_name: str
    ) -> tuple[bytes, str | None, str | None]:
        """Resolve an upload, attach:// reference or file_id to (bytes, file name, mime)."""
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is None:
                raise _bad_request(f"can't find attached file {value!r}")
        elif value is None:
            upload = files.get(field_name)
            if upload is None:
                raise _bad_request(f"there is no {field_name} in the request")
        else:
            stored = self._files.get(str(value))
            if stored is None:
                raise _bad_request("wrong file identifier/HTTP URL specified")
            if (stored.kind == "photo") != (field_name == "photo"):
                raise _bad_request(f"can't use file of type {stored.kind} as {field_name}")
            return stored.data, stored.file_name, stored.mime_type
        limit = MAX_PHOTO_UPLOAD if field_name == "photo" else MAX_UPLOAD
        if len(upload.data) > limit:
            if field_name == "photo":
                raise _bad_request("PHOTO_SAVE_FILE_INVALID")
            raise _ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request Entity Too Large")
        if not upload.data:
            raise _bad_request("file must be non-empty")
        return upload.data, upload.filename, upload.content_type

    def _photo_sizes(self, data: bytes) -> list[JSON]:
        try:
            width, height = _image_size(data)
            variants = _jpeg_variants(data)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise _bad_request("IMAGE_PROCESS_FAILED") from exc
        if width + height > 10_000 or max(width, height) > 20 * min(width, height):
            raise _bad_request("PHOTO_INVALID_DIMENSIONS")
        return [self._photo_size(variant, w, h) for variant, w, h in variants]

    def _prepare_media(self, item: Any, files: dict[str, UploadedFile]) -> JSON:
        """Validate one InputMedia and return BotMessage fields for it."""
        if not isinstance(item, dict) or item.get("type") not in ("photo", "document"):
            raise _bad_request("the fake server supports only photo and document media")
        kind = item["type"]
        data, name, mime = self._input_file(item.get("media"), files, kind)
        caption = (
            self._visible(
                item.get("caption"),
                item.get("parse_mode"),
                MAX_CAPTION_LENGTH,
                "message caption is too long",
            )
            or None
        )
        if kind == "photo":
            sizes = self._photo_sizes(data)
            return {
                "kind": kind,
                "caption": caption,
                "data": data,
                "file_id": sizes[-1]["file_id"],
                "media": sizes,
            }
        stored = self._store_file("document", data, file_name=name, mime_type=mime)
        return {
            "kind": kind,
            "caption": caption,
            "data": data,
            "file_id": stored.file_id,
            "file_name": name,
            "mime_type": mime,
            "media": self._document_json(stored),
        }

    def _new_message(self, chat: _Chat, kind: str, **fields: Any) -> BotMessage:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        seq = self._bump()
        message = BotMessage(
            chat_id=chat.id,
            message_id=message_id,
            kind=kind,
            seq=seq,
            date=int(time.time()),
            **fields,
        )
        message.versions.append((seq, message.body))
        chat.bot_messages[message_id] = message
        return message

    def _edit(self, message: BotMessage, **changes: Any) -> None:
        for name, value in changes.items():
            setattr(message, name, value)
        seq = self._bump()
        message.edit_count += 1
        message.edit_seq = seq
        message.versions.append((seq, message.body))


# --------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _respond(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    except OSError:  # the client gave up (e.g. a cancelled long poll)
        handler.close_connection = True


def _respond_json(handler: BaseHTTPRequestHandler, status: int, payload: JSON) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    _respond(handler, status, body, "application/json")


class _Handler(BaseHTTPRequestHandler):
    """Routes every request to the owning BotApiServer; keep-alive like Telegram's."""

    protocol_version = "HTTP/1.1"
    server: _HttpServer

    def do_GET(self) -> None:
        self.server.api._serve_http(self)

    def do_POST(self) -> None:
        self.server.api._serve_http(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the API call log is the record."""


class _HttpServer(ThreadingHTTPServer):
    """Threaded server that can close its open keep-alive connections on stop."""

    daemon_threads = True

    def __init__(self, api: BotApiServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api = api
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError):  # disconnects and resets are normal for HTTP clients
            return
        self.api._record_internal_error(traceback.format_exc())
