"""The gateway websocket: HELLO, IDENTIFY (token and intents checked), heartbeats, READY and
GUILD_CREATE, then dispatches; RESUME replays what a dropped connection missed.

Each connection runs on the server's event loop: a reader for the client's opcodes and a
sender that forwards its session's events (queued by the store from any thread). Frames are
JSON text, or one zlib stream (``Z_SYNC_FLUSH`` per message, binary frames) when the URL asks
``compress=zlib-stream`` as discord.py does; any other ``compress`` gets plain text, which
discord.py also reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import WSCloseCode, WSMsgType, web

from tests.discordapi.payloads import guild_create_json, member_json
from tests.discordapi.records import JSON, GatewayConnection
from tests.discordapi.store import ALL_INTENTS, GUILDS, PRIVILEGED_INTENTS, Session, Store

logger = logging.getLogger(__name__)

# Opcodes (Discord's values).
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE_UPDATE, VOICE_STATE_UPDATE = 0, 1, 2, 3, 4
RESUME, RECONNECT, REQUEST_GUILD_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 6, 7, 8, 9, 10, 11

# Close codes (Discord's values).
UNKNOWN_ERROR, UNKNOWN_OPCODE, DECODE_ERROR, NOT_AUTHENTICATED = 4000, 4001, 4002, 4003
AUTHENTICATION_FAILED, ALREADY_AUTHENTICATED, INVALID_SHARD = 4004, 4005, 4010
INVALID_API_VERSION, INVALID_INTENTS, DISALLOWED_INTENTS = 4012, 4013, 4014


@dataclass(eq=False)
class Link:
    """One open websocket, as the server loop sees it."""

    ws: web.WebSocketResponse
    request: web.Request
    record: GatewayConnection
    compressor: zlib._Compress | None
    session: Session | None = None
    sent: int = 0  # how many of the session's events this socket has sent
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    notify: Callable[[], None] | None = None  # what the session calls to wake this socket


class Gateway:
    """Serves ``/gateway`` and ``/resume`` (the READY's ``resume_gateway_url``)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.links: list[Link] = []  # open ones; touched on the server loop only
        self.ack_heartbeats = True

    async def serve(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        compress = query.get("compress")
        with self.store.cond:
            record = GatewayConnection(
                seq=self.store.bump(),
                path=request.path,
                query=query,
                compress="zlib-stream" if compress == "zlib-stream" else None,
            )
            self.store.connections.append(record)
        compressor = zlib.compressobj() if record.compress else None
        link = Link(ws, request, record, compressor)
        self.links.append(link)
        sender = asyncio.create_task(self._sender(link))
        try:
            if query.get("v") != "10" or query.get("encoding", "json") != "json":
                await self.close(link, INVALID_API_VERSION, "Invalid API version", by="server")
                return ws
            await self._send(
                link, {"op": HELLO, "d": {"heartbeat_interval": self.store.heartbeat_interval_ms}}
            )
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    await self.close(link, DECODE_ERROR, "Decode error", by="server")
                    break
                try:
                    frame = json.loads(message.data)
                except ValueError:
                    await self.close(link, DECODE_ERROR, "Decode error", by="server")
                    break
                await self._receive(link, frame)
        except Exception:  # a bug of this fake
            with self.store.cond:
                self.store.internal_errors.append(traceback.format_exc())
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            self._closed(link)
        return ws

    # ---- from the client ---------------------------------------------------------------------

    async def _receive(self, link: Link, frame: JSON) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == HEARTBEAT:
            with self.store.cond:
                link.record.heartbeats += 1
                self.store.bump()
            if self.ack_heartbeats:
                await self._send(link, {"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(link, data or {})
        elif op == RESUME:
            await self._resume(link, data or {})
        elif link.session is None:
            await self.close(link, NOT_AUTHENTICATED, "Not authenticated.", by="server")
        elif op == PRESENCE_UPDATE:
            with self.store.cond:
                self.store.presences.append(copy.deepcopy(dict(data or {})))
        elif op == REQUEST_GUILD_MEMBERS:
            await self._members(link, data or {})
        elif op != VOICE_STATE_UPDATE:
            await self.close(link, UNKNOWN_OPCODE, "Unknown opcode.", by="server")

    async def _identify(self, link: Link, data: JSON) -> None:
        store = self.store
        if link.session is not None:
            await self.close(link, ALREADY_AUTHENTICATED, "Already authenticated.", by="server")
            return
        with store.cond:
            link.record.kind = "identify"
            link.record.identify = copy.deepcopy(data)
            store.bump()
        intents = data.get("intents")
        if data.get("token") != store.token:
            await self.close(link, AUTHENTICATION_FAILED, "Authentication failed.", by="server")
            return
        if not isinstance(intents, int) or intents < 0 or intents & ~ALL_INTENTS:
            await self.close(link, INVALID_INTENTS, "Invalid intent(s).", by="server")
            return
        if intents & PRIVILEGED_INTENTS & ~store.privileged_intents:
            await self.close(link, DISALLOWED_INTENTS, "Disallowed intent(s).", by="server")
            return
        if data.get("shard") not in (None, [0, 1]):
            await self.close(link, INVALID_SHARD, "Invalid shard.", by="server")
            return
        with store.cond:
            session = Session(store.new_session_id(), intents)
            store.sessions[session.id] = session
            link.record.session_id = session.id
            self._attach(link, session, sent=0)
            guilds = list(store.guilds.values())
            ready: JSON = {
                "v": 10,
                "user": {**store.bot.json(), "verified": True, "mfa_enabled": False, "flags": 0},
                "guilds": [{"id": str(guild.id), "unavailable": True} for guild in guilds],
                "session_id": session.id,
                "resume_gateway_url": store.base_url.replace("http://", "ws://", 1) + "/resume",
                "application": {"id": str(store.application_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "session_type": "normal",
            }
            if "shard" in data:
                ready["shard"] = data["shard"]
            store.dispatch("READY", _only(session, ready))
            for guild in guilds if intents & GUILDS else ():
                store.dispatch("GUILD_CREATE", _only(session, guild_create_json(store, guild)))
            link.record.ready_marker = store.bump()

    async def _resume(self, link: Link, data: JSON) -> None:
        store = self.store
        with store.cond:
            link.record.kind = "resume"
            link.record.session_id = data.get("session_id")
            link.record.resume_seq = data.get("seq")
            session = store.sessions.get(str(data.get("session_id")))
            valid = (
                session is not None
                and not session.invalidated
                and data.get("token") == store.token
                and isinstance(data.get("seq"), int)
                and 0 <= data["seq"] <= session.seq
            )
            if valid:
                assert session is not None
                link.record.resumed = True
                self._attach(link, session, sent=int(data["seq"]))
                store.dispatch("RESUMED", _only(session, {}))
                link.record.ready_marker = store.bump()
            else:
                store.bump()
        if not valid:  # the client must IDENTIFY afresh
            await self._send(link, {"op": INVALID_SESSION, "d": False})

    async def _members(self, link: Link, data: JSON) -> None:
        store = self.store
        with store.cond:
            guild = store.guilds.get(int(data.get("guild_id", 0)))
            if guild is None:
                return
            query = str(data.get("query") or "").lower()
            members = [
                member_json(guild, user)
                for user in [store.bot, *store.users.values()]
                if user.name.lower().startswith(query)
            ]
            chunk: JSON = {
                "guild_id": str(guild.id),
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
            }
            if "nonce" in data:
                chunk["nonce"] = data["nonce"]
            if link.session is not None:
                store.dispatch("GUILD_MEMBERS_CHUNK", _only(link.session, chunk))

    def _attach(self, link: Link, session: Session, *, sent: int) -> None:
        """Make ``link`` the socket that carries ``session`` (lock held)."""
        loop = asyncio.get_running_loop()
        link.session = session
        link.sent = sent

        def notify() -> None:
            loop.call_soon_threadsafe(link.wake.set)

        link.notify = session.wake = notify
        link.wake.set()

    # ---- to the client -----------------------------------------------------------------------

    async def _sender(self, link: Link) -> None:
        while not link.ws.closed:
            await link.wake.wait()
            link.wake.clear()
            with self.store.cond:
                session = link.session
                frames = [] if session is None else copy.deepcopy(session.events[link.sent :])
                link.sent += len(frames)
            for frame in frames:
                await self._send(link, frame)

    async def _send(self, link: Link, frame: JSON) -> None:
        frame = {"op": frame["op"], "d": frame.get("d"), "s": frame.get("s"), "t": frame.get("t")}
        text = json.dumps(frame, ensure_ascii=False)
        async with link.send_lock:  # one zlib stream: compress and send in the same order
            if link.ws.closed:
                return
            try:
                if link.compressor is None:
                    await link.ws.send_str(text)
                else:
                    data = link.compressor.compress(text.encode())
                    data += link.compressor.flush(zlib.Z_SYNC_FLUSH)
                    await link.ws.send_bytes(data)
            except (ConnectionError, RuntimeError):
                pass  # the socket went away meanwhile; the reader sees it

    async def close(self, link: Link, code: int, reason: str, *, by: str) -> None:
        with self.store.cond:
            if link.record.closed_by is None:
                link.record.closed_by = by
                link.record.closed_code = code
        await link.ws.close(code=code, message=reason.encode())

    async def send_op(self, link: Link, op: int, data: object = None) -> None:
        await self._send(link, {"op": op, "d": data})

    def abort(self, link: Link) -> None:
        """Drop the connection without a close frame, as a network failure does."""
        with self.store.cond:
            if link.record.closed_by is None:
                link.record.closed_by = "server"
                link.record.closed_code = WSCloseCode.ABNORMAL_CLOSURE
        transport = link.request.transport
        if transport is not None:
            transport.abort()

    def _closed(self, link: Link) -> None:
        with contextlib.suppress(ValueError):
            self.links.remove(link)
        with self.store.cond:
            record = link.record
            record.open = False
            if record.closed_by is None:
                record.closed_by = "client"
                record.closed_code = link.ws.close_code
            session = link.session
            if session is not None:
                if session.wake is link.notify:
                    session.wake = None  # events wait in the session for a RESUME
                if record.closed_by == "client" and record.closed_code in (1000, 1001):
                    session.invalidated = True  # a clean close ends the session
            self.store.bump()


def _only(session: Session, data: JSON) -> Callable[[Session], JSON | None]:
    """A dispatch shape for one session only."""
    return lambda candidate: data if candidate is session else None
