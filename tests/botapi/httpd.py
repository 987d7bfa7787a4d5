"""HTTP as Telegram speaks it: URL layout, request decoding, keep-alive connections.

Knows nothing of chats: it decodes a request and hands it to a :class:`Backend`.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import json
import socket
import sys
import threading
import traceback
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.botapi.errors import ApiError, bad_request, not_found
from tests.botapi.records import JSON, Files, UploadedFile

# Form and multipart values are strings, and PTB JSON-encodes every parameter that is not a
# string in the Bot API. These are strings there, so "123" must stay text.
_STRING_PARAMS = frozenset(
    {"text", "caption", "parse_mode", "callback_query_id", "file_id", "photo", "document"}
)


_BAD_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class Backend(Protocol):
    """What the HTTP layer serves."""

    token: str

    def call(self, method: str, params: JSON, files: Files) -> tuple[int, JSON]: ...

    def download(self, file_path: str) -> bytes | ApiError | None: ...

    def in_outage(self) -> bool: ...

    def record_internal_error(self, trace: str) -> None: ...


class HttpServer(ThreadingHTTPServer):
    """Serves ``/bot<token>/<method>`` and ``/file/bot<token>/<path>`` on 127.0.0.1."""

    daemon_threads = True

    def __init__(self, backend: Backend) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.backend = backend
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="BotApiServer"
        )
        self._thread.daemon = True

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close every socket, keep-alive connections included."""
        self.shutdown()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.server_close()
        self._thread.join(timeout=5)

    def answer(self, handler: _Handler) -> None:
        if handler.headers.get("Transfer-Encoding"):  # httpx sends PTB's bodies with a length
            handler.close_connection = True  # the unread body would garble the next request
            error = bad_request("chunked requests are not supported by this fake server")
            _respond_json(handler, error.code, error.payload())
            return
        url = urlsplit(handler.path)
        path = unquote(url.path)
        body = _read_body(handler)
        if self.backend.in_outage():  # a proxy in front of Telegram answers, not Telegram
            _respond(handler, HTTPStatus.BAD_GATEWAY, _BAD_GATEWAY_PAGE, "text/html")
            return
        if path.startswith("/file/bot"):
            token, _, file_path = path.removeprefix("/file/bot").partition("/")
            data = self.backend.download(file_path) if token == self.backend.token else None
            if data is None:
                _respond_json(handler, HTTPStatus.NOT_FOUND, not_found().payload())
            elif isinstance(data, ApiError):
                _respond_json(handler, data.code, data.payload())
            else:
                _respond(handler, HTTPStatus.OK, data, "application/octet-stream")
            return
        token, _, method = path.removeprefix("/bot").partition("/")
        if not path.startswith("/bot") or not method or "/" in method:
            _respond_json(handler, HTTPStatus.NOT_FOUND, not_found().payload())
            return
        if token != self.backend.token:
            error = ApiError(HTTPStatus.UNAUTHORIZED, "Unauthorized")
            _respond_json(handler, error.code, error.payload())
            return
        try:
            params, files = _parse_request(handler.headers.get("Content-Type", ""), body, url.query)
        except ApiError as error:
            _respond_json(handler, error.code, error.payload())
            return
        _respond_json(handler, *self.backend.call(method, params, files))

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):  # disconnects and resets are normal
            return
        self.backend.record_internal_error(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like Telegram's
    server: HttpServer

    def do_GET(self) -> None:
        self.server.answer(self)

    def do_POST(self) -> None:
        self.server.answer(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the API call log is the record."""


def _parse_request(content_type: str, body: bytes, query: str) -> tuple[JSON, Files]:
    """Bot API parameters come as a query string, JSON, form-encoded or multipart."""
    raw: dict[str, str] = dict(parse_qsl(query, keep_blank_values=True))
    typed: JSON = {}
    files: Files = {}
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime == "application/json" and body:
        try:
            typed = json.loads(body)
        except ValueError as exc:
            raise bad_request("can't parse JSON object") from exc
        if not isinstance(typed, dict):
            raise bad_request("JSON body must be an object")
    elif mime == "application/x-www-form-urlencoded":
        raw.update(parse_qsl(body.decode(), keep_blank_values=True))
    elif mime == "multipart/form-data":
        for name, value in _multipart(content_type, body):
            if isinstance(value, UploadedFile):
                files[name] = value
            else:
                raw[name] = value
    params = {name: _decode_value(name, value) for name, value in raw.items()}
    return {**params, **typed}, files


def _decode_value(name: str, value: str) -> Any:
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _multipart(content_type: str, body: bytes) -> Iterator[tuple[str, UploadedFile | str]]:
    header = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
    if not message.is_multipart():
        raise bad_request("can't parse multipart/form-data body")
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


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
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
    _respond(handler, status, json.dumps(payload, ensure_ascii=False).encode(), "application/json")
