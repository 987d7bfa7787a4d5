"""The fake Discord: the store, its HTTP and gateway front and the test-facing methods."""

from __future__ import annotations

import copy
import dataclasses
import time
from http import HTTPStatus
from typing import Literal

from tests.discordapi.dispatch import RestApi
from tests.discordapi.errors import DiscordError
from tests.discordapi.gateway import INVALID_SESSION, RECONNECT, Gateway
from tests.discordapi.httpd import API_PREFIX, HttpServer
from tests.discordapi.records import (
    JSON,
    ApiCall,
    BotMessage,
    Channel,
    GatewayConnection,
    InteractionRecord,
    Sent,
    User,
)
from tests.discordapi.rest import route_name
from tests.discordapi.store import Fault, Store
from tests.discordapi.users import Users
from tests.discordapi.waiting import Waiting

OutageMode = Literal["502", "reset", "refused"]


class DiscordApiServer(Users, Waiting):
    """Fake Discord on 127.0.0.1 plus the simulated users; all public methods are
    thread-safe."""

    def __init__(
        self,
        token: str = "MTAwMDAwMDAwMDAwMDAwMDAw.fake.discord-bot-token",
        *,
        bot_name: str = "Style Test Bot",
        privileged_intents: int = 0,
        upload_limit: int = 10 * 1024 * 1024,
        response_deadline: float = 3.0,
        token_lifetime: float = 15 * 60.0,
        heartbeat_interval_ms: int = 41_250,
    ) -> None:
        """``privileged_intents``: the intents "enabled in the developer portal" (none by
        default: asking for one closes the gateway with 4014). ``upload_limit``: bytes per
        file (the 10 MiB of a server without boosts). ``response_deadline``: seconds to the
        first interaction callback; ``token_lifetime``: the interaction token's."""
        self.token = token
        self._store = Store(
            token,
            bot_name,
            privileged_intents=privileged_intents,
            upload_limit=upload_limit,
            response_deadline=response_deadline,
            token_lifetime=token_lifetime,
            heartbeat_interval_ms=heartbeat_interval_ms,
        )
        self._rest = RestApi(self._store)
        self._gateway = Gateway(self._store)
        self._httpd: HttpServer | None = None

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> DiscordApiServer:
        """Bind a free port and serve in a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("DiscordApiServer already started")
        self._httpd = HttpServer(self._store, self._rest, self._gateway)
        self._httpd.start()
        with self._store.cond:
            self._store.base_url = f"http://127.0.0.1:{self._httpd.port}"
        return self

    def stop(self) -> None:
        """Close every websocket (1001) and connection, stop serving."""
        if self._httpd is not None:
            self._httpd.stop()
            self._httpd = None

    def __enter__(self) -> DiscordApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _server(self) -> HttpServer:
        if self._httpd is None:
            raise RuntimeError("DiscordApiServer is not started")
        return self._httpd

    @property
    def api_base(self) -> str:
        """For discord.py's ``discord.http.Route.BASE`` (Discord's: https://discord.com/api/v10)."""
        return f"http://127.0.0.1:{self._server().port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """For ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (Discord's:
        wss://gateway.discord.gg/); GET /gateway/bot answers it too."""
        return f"ws://127.0.0.1:{self._server().port}/gateway"

    @property
    def application_id(self) -> int:
        return self._store.application_id

    @property
    def bot_user(self) -> User:
        return self._store.bot

    # ---- faults ------------------------------------------------------------------------------

    def inject_error(
        self,
        route: str,
        status: int = HTTPStatus.INTERNAL_SERVER_ERROR,
        *,
        code: int = 0,
        message: str | None = None,
        errors: JSON | None = None,
        times: int = 1,
        lost: bool = False,
    ) -> None:
        """Answer the next ``times`` calls of ``route`` (a name such as "create_message" or
        "cdn_download", or discord.py's key "POST /channels/{channel_id}/messages") with this
        error in Discord's JSON shape. ``lost``: each call takes effect all the same (a
        message is sent), as when an answer is lost on its way back; a client that tries
        again must not make a second one (Discord's ``enforce_nonce``)."""
        text = message or f"{int(status)}: {HTTPStatus(status).phrase}"
        fault = Fault(error=DiscordError(status, code, text, errors), lost=lost)
        with self._store.cond:
            self._store.faults.setdefault(route_name(route), []).extend([fault] * times)

    def rate_limit(
        self,
        route: str,
        retry_after: float,
        *,
        times: int = 1,
        is_global: bool = False,
        scope: str = "user",
    ) -> None:
        """Answer the next ``times`` calls of ``route`` with 429, ``retry_after`` in the body
        and Retry-After/X-RateLimit-* headers; a retry before ``retry_after`` has passed is
        limited again (``is_global``: every route is)."""
        fault = Fault(retry_after=retry_after, is_global=is_global, scope=scope)
        with self._store.cond:
            self._store.faults.setdefault(route_name(route), []).extend([fault] * times)

    def outage(self, seconds: float, *, mode: OutageMode = "502", gateway: bool = False) -> None:
        """Discord unreachable for ``seconds``: every REST and CDN request answered with a
        proxy's 502 page ("502"), its connection reset ("reset"), or nothing listening on
        the port ("refused"). ``gateway``: the websockets drop too and cannot reconnect."""
        server = self._server()
        with self._store.cond:
            outage = self._store.outage
            outage.until, outage.mode, outage.gateway = time.monotonic() + seconds, mode, gateway
        if gateway:
            server.run(server.drop_gateway())
        if mode == "refused":
            server.run(server.refuse(seconds, gateway=gateway))

    @property
    def outage_hits(self) -> int:
        """Requests that met the outage so far."""
        with self._store.cond:
            return self._store.outage.hits

    def expire_interaction(self, sent: Sent) -> None:
        """The interaction's token expires now, as after 15 minutes: callbacks answer 404
        10062, its webhook 401 50027."""
        with self._store.cond:
            self._store.interactions[sent.interaction_id].record.expired = True
            self._store.bump()

    def close_gateway(self, code: int = 4000, reason: str = "Unknown error") -> None:
        """Close every open websocket with ``code`` (4000: the client may RESUME)."""
        server = self._server()
        for link in list(self._gateway.links):
            server.run(self._gateway.close(link, code, reason, by="server"))

    def drop_gateway(self) -> None:
        """Cut every websocket without a close frame, as a network failure does."""
        server = self._server()
        server.run(server.drop_gateway())

    def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: the client should close and RESUME."""
        server = self._server()
        for link in list(self._gateway.links):
            server.run(self._gateway.send_op(link, RECONNECT))

    def invalidate_session(self) -> None:
        """End the sessions (op 9 INVALID_SESSION, not resumable): the client must IDENTIFY
        again, and what happened meanwhile is lost to it."""
        server = self._server()
        with self._store.cond:
            for session in self._store.sessions.values():
                session.invalidated = True
        for link in list(self._gateway.links):
            server.run(self._gateway.send_op(link, INVALID_SESSION, False))

    def ack_heartbeats(self, enabled: bool) -> None:
        """Stop (or resume) answering heartbeats, so the client believes the link a zombie."""
        self._gateway.ack_heartbeats = enabled

    # ---- what happened -----------------------------------------------------------------------

    @property
    def internal_errors(self) -> list[str]:
        """Bugs of this fake (tracebacks); a test that sees any should fail."""
        with self._store.cond:
            return list(self._store.internal_errors)

    def messages(self, channel: Channel | int) -> list[BotMessage]:
        """The bot's messages in a channel, oldest first, as they look now (deleted ones
        included, marked)."""
        channel_id = channel if isinstance(channel, int) else channel.id
        with self._store.cond:
            state = self._store.channels.get(channel_id)
            ids = state.message_ids if state else []
            return [
                self._store.bot_messages[i].snapshot() for i in ids if i in self._store.bot_messages
            ]

    def message(self, message_id: int) -> BotMessage:
        """One bot message as it looks now, with every version."""
        with self._store.cond:
            message = self._store.bot_messages.get(message_id)
            if message is None:
                raise AssertionError(f"no bot message {message_id}\n{self._store.dump()}")
            return message.snapshot()

    def user_message(self, message_id: int) -> JSON:
        """A user's message as dispatched (content included)."""
        with self._store.cond:
            return copy.deepcopy(self._store.user_messages[message_id])

    def interaction(self, sent: Sent) -> InteractionRecord:
        """An interaction and how it was answered so far."""
        with self._store.cond:
            return copy.deepcopy(self._store.interactions[sent.interaction_id].record)

    def calls(self, route: str | None = None) -> list[ApiCall]:
        """The call log (snapshots), optionally for one route."""
        name = None if route is None else route_name(route)
        with self._store.cond:
            return [
                dataclasses.replace(call)
                for call in self._store.calls
                if name is None or call.route == name
            ]

    def commands(self, guild: int | None = None) -> list[JSON]:
        """The application commands registered globally, or for a guild id."""
        with self._store.cond:
            return copy.deepcopy(self._store.commands.get(guild, []))

    def command(self, name: str, guild: int | None = None) -> JSON:
        for command in self.commands(guild):
            if command["name"] == name:
                return command
        raise AssertionError(f"no command {name!r} registered for {guild or 'everyone'}")

    def downloads(self) -> list[int]:
        """Attachment ids the bot fetched from the CDN, in order."""
        with self._store.cond:
            return list(self._store.downloads)

    def connections(self) -> list[GatewayConnection]:
        """Every gateway websocket so far, oldest first."""
        with self._store.cond:
            return [dataclasses.replace(c) for c in self._store.connections]

    def presences(self) -> list[JSON]:
        """The client's presence updates (op 3), oldest first."""
        with self._store.cond:
            return copy.deepcopy(self._store.presences)

    @property
    def marker(self) -> int:
        """The current marker: pass it as ``after=`` to wait for what happens from now."""
        with self._store.cond:
            return self._store.seq

    def dump(self, channel: Channel | int | None = None) -> str:
        """Readable transcript of one channel (or all) plus recent calls and the gateway."""
        channel_id = channel.id if isinstance(channel, Channel) else channel
        return self._store.dump(channel_id)
