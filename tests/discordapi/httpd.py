"""HTTP as Discord speaks it, on 127.0.0.1 in a background thread with its own event loop:
REST under ``/api/v10``, the CDN under ``/cdn`` (and ``/media``), the gateway's websockets,
and outages (a proxy's 502 page, reset connections, or nobody listening).

Knows nothing of chats: it decodes a request and hands it to the REST table or the gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
import traceback
from collections.abc import Coroutine
from typing import Any, TypeVar

from aiohttp import BodyPartReader, web

from tests.discordapi.dispatch import RestApi, download
from tests.discordapi.errors import DiscordError
from tests.discordapi.gateway import Gateway
from tests.discordapi.messages import Body
from tests.discordapi.records import JSON, UploadedFile
from tests.discordapi.rest import Reply, Request
from tests.discordapi.store import Store

T = TypeVar("T")

API_PREFIX = "/api/v10"
_GATEWAY_PATHS = ("/gateway", "/resume")
_MAX_REQUEST = 64 * 1024 * 1024  # above any upload limit, so that limit answers, not aiohttp
_BAD_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class HttpServer:
    """Serves the fake on a free port of 127.0.0.1 until :meth:`stop`."""

    def __init__(self, store: Store, rest: RestApi, gateway: Gateway) -> None:
        self.store = store
        self.rest = rest
        self.gateway = gateway
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="FakeDiscord", daemon=True)

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        self._started.wait(timeout=10)
        if self._failure is not None:
            raise RuntimeError("the fake Discord did not start") from self._failure

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(RuntimeError, TimeoutError):
            self.run(self._shutdown(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        """Run ``coroutine`` on the server's loop from another thread and wait for it."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._startup())
        except BaseException as exc:
            self._failure = exc
            self._started.set()
            return
        self._started.set()
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    async def _startup(self) -> None:
        app = web.Application(client_max_size=_MAX_REQUEST)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await self.listen()

    async def listen(self) -> None:
        """Bind 127.0.0.1 (a free port, then the same one again after a refusal)."""
        assert self._runner is not None and self._runner.server is not None
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(128)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._listener = await self.loop.create_server(self._runner.server, sock=sock)

    async def refuse(self, seconds: float, *, gateway: bool) -> None:
        """Stop listening for ``seconds``, resetting open connections (gateway ones too if
        ``gateway``)."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._reset_connections(gateway=gateway)
        self.loop.call_later(seconds, lambda: self.loop.create_task(self._reopen()))

    async def _reopen(self) -> None:
        if self._stopping:
            return
        try:
            await self.listen()
        except OSError:  # someone took the port meanwhile: the test cannot go on
            with self.store.cond:
                self.store.internal_errors.append(traceback.format_exc())

    async def drop_gateway(self) -> None:
        for link in list(self.gateway.links):
            self.gateway.abort(link)

    def _reset_connections(self, *, gateway: bool) -> None:
        assert self._runner is not None and self._runner.server is not None
        keep = set() if gateway else {id(link.request.transport) for link in self.gateway.links}
        for handler in list(self._runner.server.connections):
            transport = handler.transport
            if transport is not None and id(transport) not in keep:
                _reset(transport)

    async def _shutdown(self) -> None:
        self._stopping = True
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for link in list(self.gateway.links):
            with contextlib.suppress(Exception):
                await self.gateway.close(link, 1001, "Going away", by="server")
        if self._runner is not None:
            self._reset_connections(gateway=True)
            await self._runner.cleanup()

    # ---- requests ----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._answer(request)
        except (ConnectionError, asyncio.CancelledError):
            raise
        except Exception:  # a bug of this fake: the test must fail
            with self.store.cond:
                self.store.internal_errors.append(traceback.format_exc())
            return _json(Reply(500, {"message": "500: Internal Server Error", "code": 0}))

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        is_gateway = path in _GATEWAY_PATHS
        with self.store.cond:
            outage = self.store.outage
            down = outage.active() and (outage.gateway or not is_gateway)
            if down:
                outage.hits += 1
                self.store.bump()
            mode = outage.mode
        if down:
            if mode == "502":
                return web.Response(status=502, body=_BAD_GATEWAY_PAGE, content_type="text/html")
            if request.transport is not None:
                _reset(request.transport)
            return web.Response(status=502)  # never arrives: the connection is gone
        if is_gateway:
            return await self.gateway.serve(request)
        if path.startswith(("/cdn/", "/media/")):
            return _raw(download(self.rest, path, dict(request.query)))
        if not path.startswith(API_PREFIX + "/"):
            return _json(Reply(404, {"message": "404: Not Found", "code": 0}))
        try:
            body = await _body(request)
        except DiscordError as error:
            return _json(Reply(error.status, error.payload()))
        decoded = Request(
            method=request.method,
            path=path.removeprefix(API_PREFIX),
            query=dict(request.query),
            authorization=request.headers.get("Authorization"),
            body=body,
        )
        return _json(self.rest.handle(decoded))


async def _body(request: web.Request) -> Body:
    """JSON, or multipart with ``payload_json`` and ``files[n]``. A JSON array (a bulk
    overwrite of commands) arrives as ``{"_": [...]}``."""
    if request.content_type == "multipart/form-data":
        params: JSON = {}
        files: list[UploadedFile] = []
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue  # a nested multipart: Discord takes none
            data = await part.read()
            name = part.name or ""
            if part.filename is not None:
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                files.append(UploadedFile(name, part.filename, content_type, bytes(data)))
            elif name == "payload_json":
                params.update(_parse_json(bytes(data)))
            else:
                params[name] = bytes(data).decode()
        return Body(params, files)
    raw = await request.read()
    if not raw:
        return Body({}, [])
    parsed = _parse_json(raw)
    return Body(parsed, [])


def _parse_json(raw: bytes) -> JSON:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise DiscordError(400, 50109, "The request body contains invalid JSON.") from exc
    return value if isinstance(value, dict) else {"_": value}


def _json(reply: Reply) -> web.Response:
    headers = {"Via": "1.1 google", **reply.headers}
    if reply.payload is None:
        return web.Response(status=reply.status, headers=headers)
    body = json.dumps(reply.payload, ensure_ascii=False).encode()
    # exactly "application/json": discord.py compares the header, a charset would make it text
    headers["Content-Type"] = "application/json"
    return web.Response(status=reply.status, body=body, headers=headers)


def _raw(reply: Reply) -> web.Response:
    if not isinstance(reply.payload, bytes):  # an injected error or a 429: Discord's JSON
        return _json(reply)
    return web.Response(status=reply.status, body=reply.payload, headers=reply.headers)


def _reset(transport: asyncio.BaseTransport) -> None:
    """Close with a TCP RST (linger 0), as a failing load balancer does."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if isinstance(transport, asyncio.Transport | asyncio.WriteTransport):
        transport.abort()
    else:
        transport.close()
