"""Waiting for what the bot does: probes over the store, polled until they find something.

Every user action, bot message, edit, call and gateway step gets an increasing *marker*;
``after=`` (a marker or a :class:`Sent`) limits a probe to what happened later, and defaults
to the channel's latest user action. On timeout an ``AssertionError`` carries the transcript.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from tests.discordapi.records import (
    ApiCall,
    BotMessage,
    Channel,
    GatewayConnection,
    InteractionRecord,
    Sent,
)
from tests.discordapi.rest import route_name
from tests.discordapi.store import Store

T = TypeVar("T")

DEFAULT_TIMEOUT = 15.0
_ASYNC_POLL_INTERVAL = 0.02

ChannelLike = Channel | int
After = int | Sent | None


@dataclass(frozen=True)
class _Probe(Generic[T]):
    """Looks for something in the store (lock held); ``what`` names it for failures."""

    find: Callable[[], T | None]
    what: str
    channel_id: int | None


def _channel_id(channel: ChannelLike) -> int:
    return channel if isinstance(channel, int) else channel.id


class Waiting:
    """``wait_*`` block the thread (a bot in another thread or process); ``await_*`` poll
    with ``asyncio.sleep`` and so let a bot on the test's own event loop run."""

    _store: Store

    # ---- blocking ----------------------------------------------------------------------------

    def wait_message(
        self,
        channel: ChannelLike,
        *,
        after: After = None,
        contains: str | None = None,
        where: Callable[[BotMessage], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> BotMessage:
        """The first bot message in ``channel`` sent after the marker that matches;
        ``contains`` matches any version of its content, so fast edits cannot be missed."""
        probe = self._message_probe(_channel_id(channel), after, contains, where)
        return self._wait_sync(probe, timeout)

    def wait_edit(
        self,
        channel: ChannelLike,
        message_id: int,
        *,
        after: After = None,
        contains: str | None = None,
        where: Callable[[BotMessage], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> BotMessage:
        """The message once edited after the marker (default: any edit) into content holding
        ``contains``; returns its current state."""
        probe = self._edit_probe(_channel_id(channel), message_id, after, contains, where)
        return self._wait_sync(probe, timeout)

    def wait_interaction_response(
        self, sent: Sent, *, timeout: float = DEFAULT_TIMEOUT
    ) -> InteractionRecord:
        """The interaction once the bot answered its callback."""
        return self._wait_sync(self._interaction_probe(sent), timeout)

    def wait_call(
        self,
        route: str,
        *,
        after: After = None,
        where: Callable[[ApiCall], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> ApiCall:
        """The first answered call of ``route`` (a name or discord.py key) after the marker."""
        return self._wait_sync(self._call_probe(route, after, where), timeout)

    def wait_ready(
        self, *, after: After = None, resumed: bool | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> GatewayConnection:
        """The first connection after the marker (default: any) that got READY (or RESUMED
        if ``resumed``)."""
        return self._wait_sync(self._ready_probe(after, resumed), timeout)

    # ---- async -------------------------------------------------------------------------------

    async def await_message(
        self,
        channel: ChannelLike,
        *,
        after: After = None,
        contains: str | None = None,
        where: Callable[[BotMessage], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> BotMessage:
        """Async :meth:`wait_message`."""
        probe = self._message_probe(_channel_id(channel), after, contains, where)
        return await self._wait_async(probe, timeout)

    async def await_edit(
        self,
        channel: ChannelLike,
        message_id: int,
        *,
        after: After = None,
        contains: str | None = None,
        where: Callable[[BotMessage], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> BotMessage:
        """Async :meth:`wait_edit`."""
        probe = self._edit_probe(_channel_id(channel), message_id, after, contains, where)
        return await self._wait_async(probe, timeout)

    async def await_interaction_response(
        self, sent: Sent, *, timeout: float = DEFAULT_TIMEOUT
    ) -> InteractionRecord:
        """Async :meth:`wait_interaction_response`."""
        return await self._wait_async(self._interaction_probe(sent), timeout)

    async def await_call(
        self,
        route: str,
        *,
        after: After = None,
        where: Callable[[ApiCall], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> ApiCall:
        """Async :meth:`wait_call`."""
        return await self._wait_async(self._call_probe(route, after, where), timeout)

    async def await_ready(
        self, *, after: After = None, resumed: bool | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> GatewayConnection:
        """Async :meth:`wait_ready`."""
        return await self._wait_async(self._ready_probe(after, resumed), timeout)

    async def await_no_message(
        self,
        channel: ChannelLike,
        *,
        after: After = None,
        within: float = 0.5,
        contains: str | None = None,
    ) -> None:
        """Assert the bot sends no (matching) message in ``channel`` for ``within`` seconds."""
        channel_id = _channel_id(channel)
        probe = self._message_probe(channel_id, after, contains, None)
        await asyncio.sleep(within)
        with self._store.cond:
            found = probe.find()
            if found is not None:
                raise AssertionError(
                    f"expected no {probe.what.removeprefix('a ')}, but got message "
                    f"{found.id}: {found.content!r}\n{self._store.dump(channel_id)}"
                )

    # ---- probes ------------------------------------------------------------------------------

    def _since(self, channel_id: int | None, after: After) -> int:
        if isinstance(after, Sent):
            return after.marker
        if after is not None:
            return after
        with self._store.cond:
            state = self._store.channels.get(channel_id) if channel_id is not None else None
            return state.last_user_seq if state else 0

    def _message_probe(
        self,
        channel_id: int,
        after: After,
        contains: str | None,
        where: Callable[[BotMessage], bool] | None,
    ) -> _Probe[BotMessage]:
        since = self._since(channel_id, after)

        def find() -> BotMessage | None:
            state = self._store.channels.get(channel_id)
            for message_id in state.message_ids if state else ():
                message = self._store.bot_messages.get(message_id)
                if message is None or message.seq <= since:
                    continue
                if contains is not None and not any(
                    contains in v.content for v in message.versions
                ):
                    continue
                snapshot = message.snapshot()
                if where is None or where(snapshot):
                    return snapshot
            return None

        what = f"a bot message in channel {channel_id} after marker {since}"
        if contains is not None:
            what += f" containing {contains!r}"
        return _Probe(find, what, channel_id)

    def _edit_probe(
        self,
        channel_id: int,
        message_id: int,
        after: After,
        contains: str | None,
        where: Callable[[BotMessage], bool] | None,
    ) -> _Probe[BotMessage]:
        since = 0 if after is None else self._since(channel_id, after)

        def find() -> BotMessage | None:
            message = self._store.bot_messages.get(message_id)
            if message is None or message.channel_id != channel_id:
                return None
            for version in message.versions[1:]:
                if version.marker > since and (contains is None or contains in version.content):
                    snapshot = message.snapshot()
                    if where is None or where(snapshot):
                        return snapshot
            return None

        what = f"an edit of message {message_id} in channel {channel_id} after marker {since}"
        if contains is not None:
            what += f" containing {contains!r}"
        return _Probe(find, what, channel_id)

    def _interaction_probe(self, sent: Sent) -> _Probe[InteractionRecord]:
        interaction_id = sent.interaction_id

        def find() -> InteractionRecord | None:
            state = self._store.interactions.get(interaction_id)
            if state is None or not state.record.responded:
                return None
            return copy.deepcopy(state.record)

        return _Probe(find, f"a response to interaction {interaction_id}", sent.channel_id)

    def _call_probe(
        self, route: str, after: After, where: Callable[[ApiCall], bool] | None
    ) -> _Probe[ApiCall]:
        name = route_name(route)
        since = self._since(None, after)

        def find() -> ApiCall | None:
            for call in self._store.calls:
                if call.seq > since and call.status and call.route == name:
                    snapshot = dataclasses.replace(call)
                    if where is None or where(snapshot):
                        return snapshot
            return None

        return _Probe(find, f"a {name} call after marker {since}", None)

    def _ready_probe(self, after: After, resumed: bool | None) -> _Probe[GatewayConnection]:
        since = self._since(None, after)

        def find() -> GatewayConnection | None:
            for connection in self._store.connections:
                if connection.ready_marker is None or connection.ready_marker <= since:
                    continue
                if resumed is None or connection.resumed == resumed:
                    return dataclasses.replace(connection)
            return None

        kind = {None: "READY or RESUMED", True: "RESUMED", False: "READY"}[resumed]
        return _Probe(find, f"a gateway connection with {kind} after marker {since}", None)

    # ---- polling -----------------------------------------------------------------------------

    def _wait_sync(self, probe: _Probe[T], timeout: float) -> T:
        deadline = time.monotonic() + timeout
        with self._store.cond:
            while (found := probe.find()) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._timeout(probe, timeout)
                self._store.cond.wait(remaining)
            return found

    async def _wait_async(self, probe: _Probe[T], timeout: float) -> T:
        deadline = time.monotonic() + timeout
        while True:
            with self._store.cond:
                found = probe.find()
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise self._timeout(probe, timeout)
            await asyncio.sleep(_ASYNC_POLL_INTERVAL)

    def _timeout(self, probe: _Probe[T], timeout: float) -> AssertionError:
        dump = self._store.dump(probe.channel_id)
        return AssertionError(f"timed out after {timeout:g} s waiting for {probe.what}\n{dump}")
