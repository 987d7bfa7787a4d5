"""The fake Discord's memory: people, channels, messages, interactions, sessions and faults,
ordered by one marker, behind one lock."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.discordapi.errors import DiscordError
from tests.discordapi.records import (
    JSON,
    ApiCall,
    Attachment,
    BotMessage,
    Channel,
    GatewayConnection,
    Guild,
    InteractionRecord,
    User,
)
from tests.discordapi.transcript import transcript

DISCORD_EPOCH_MS = 1_420_070_400_000

#: Gateway intents (Discord's bits) that the fake looks at.
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT
ALL_INTENTS = (1 << 26) - 1  # every bit Discord defines today is below this


class Snowflakes:
    """Discord ids: milliseconds since 2015 in the high bits, so ids sort by time and
    discord.py's ``created_at`` is right; strictly increasing."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        now = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(now, self._last + 1)
        return self._last


@dataclass
class Fault:
    """The answer an injected error or rate limit gives to one call of a route."""

    error: DiscordError | None = None  # None: a 429
    lost: bool = False  # the call takes effect, but ``error`` is answered (the answer lost)
    retry_after: float = 0.0
    is_global: bool = False
    scope: str = "user"


@dataclass
class RateLimitWindow:
    """A route (or everything, if global) answered with 429 until ``until`` (monotonic)."""

    until: float
    is_global: bool
    scope: str


@dataclass
class Outage:
    """Discord unreachable until ``until`` (monotonic): ``mode`` "502" (a proxy's error page),
    "reset" (connections reset) or "refused" (nothing listens); ``gateway`` drops sockets too."""

    until: float = 0.0
    mode: str = "502"
    gateway: bool = False
    hits: int = 0

    def active(self) -> bool:
        return time.monotonic() < self.until


@dataclass
class Session:
    """A gateway session: what was dispatched to it (kept for RESUME) and who listens."""

    id: str
    intents: int
    events: list[JSON] = field(default_factory=list)  # frames with "s" = index + 1
    invalidated: bool = False
    wake: Callable[[], None] | None = None  # set by the connection that serves it

    @property
    def seq(self) -> int:
        return len(self.events)


@dataclass
class ChannelState:
    channel: Channel
    message_ids: list[int] = field(default_factory=list)  # users' and the bot's, in order
    last_user_seq: int = 0  # marker of the latest user action here, the default ``after``


@dataclass
class InteractionState:
    record: InteractionRecord
    payload: JSON  # as dispatched


class Store:
    """All state behind one lock; every change bumps the marker and wakes waiters.

    Hold ``cond`` for any access. It is reentrant, so helpers may nest.
    """

    def __init__(
        self,
        token: str,
        bot_name: str,
        *,
        privileged_intents: int,
        upload_limit: int,
        response_deadline: float,
        token_lifetime: float,
        heartbeat_interval_ms: int,
    ) -> None:
        self.cond = threading.Condition(threading.RLock())
        self.seq = 0
        self.snowflakes = Snowflakes()
        self.token = token
        self.application_id = self.snowflakes.next()
        self.bot = User(self.snowflakes.next(), bot_name, bot=True)
        self.owner = User(self.snowflakes.next(), "owner")
        self.privileged_intents = privileged_intents  # enabled in the developer portal
        self.upload_limit = upload_limit
        self.response_deadline = response_deadline
        self.token_lifetime = token_lifetime
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.base_url = ""  # http://127.0.0.1:port, set when serving
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, ChannelState] = {}
        self.dms: dict[int, int] = {}  # user id -> DM channel id
        self.closed_dms: set[int] = set()  # users who accept no DMs from the bot
        self.user_messages: dict[int, JSON] = {}  # as dispatched, content included
        self.bot_messages: dict[int, BotMessage] = {}
        self.nonces: dict[tuple[int, str], int] = {}  # (channel, enforced nonce) -> message
        self.files: dict[int, Attachment] = {}  # every attachment, for the CDN
        self.downloads: list[int] = []  # attachment ids the bot fetched from the CDN
        self.interactions: dict[int, InteractionState] = {}
        self.tokens: dict[str, int] = {}  # interaction token -> interaction id
        self.commands: dict[int | None, list[JSON]] = {}  # guild id (None: global) -> commands
        self.calls: list[ApiCall] = []
        self.faults: dict[str, list[Fault]] = {}  # route name -> answers for the next calls
        self.limited: dict[str, RateLimitWindow] = {}  # route name ("*": global) -> window
        self.outage = Outage()
        self.sessions: dict[str, Session] = {}
        self.connections: list[GatewayConnection] = []
        self.presences: list[JSON] = []  # the client's presence updates (op 3)
        self.internal_errors: list[str] = []
        self._session_ids = itertools.count(1)

    def bump(self) -> int:
        """Advance the marker and wake every waiter."""
        self.seq += 1
        self.cond.notify_all()
        return self.seq

    def new_id(self) -> int:
        return self.snowflakes.next()

    def new_session_id(self) -> str:
        return f"fake-session-{next(self._session_ids)}"

    # ---- gateway dispatch --------------------------------------------------------------------

    def dispatch(self, event: str, shape: Callable[[Session], JSON | None]) -> int:
        """Queue ``event`` for every live session; ``shape`` builds its data for that session's
        intents, or None where the session must not receive it. Returns how many got it."""
        delivered = 0
        for session in self.sessions.values():
            if session.invalidated:
                continue
            data = shape(session)
            if data is None:
                continue
            session.events.append({"op": 0, "t": event, "s": session.seq + 1, "d": data})
            delivered += 1
            if session.wake is not None:
                session.wake()
        return delivered

    # ---- lookups -----------------------------------------------------------------------------

    def channel_state(self, channel_id: int) -> ChannelState:
        state = self.channels.get(channel_id)
        if state is None:
            raise KeyError(channel_id)
        return state

    def dm_channel(self, user: User) -> Channel:
        """The DM between ``user`` and the bot, opened on first use (the same one the bot
        gets from POST /users/@me/channels)."""
        self.users.setdefault(user.id, user)
        channel_id = self.dms.get(user.id)
        if channel_id is None:
            channel = Channel(self.new_id(), "dm", recipient_id=user.id)
            self.channels[channel.id] = ChannelState(channel)
            self.dms[user.id] = channel.id
            return channel
        return self.channels[channel_id].channel

    def dump(self, channel_id: int | None = None) -> str:
        """Readable transcript of one channel (or all) plus recent calls and gateway life."""
        with self.cond:
            return transcript(self, channel_id)
