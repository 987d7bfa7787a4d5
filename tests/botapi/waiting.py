"""Waiting for what the bot does: probes over the store, polled until they find something.

Every user action and bot message gets an increasing *marker*; ``after=`` (a marker or a
:class:`Sent`) limits a probe to what happened later, and defaults to the chat's latest user
action. On timeout an ``AssertionError`` carries the chat's transcript.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from tests.botapi.records import ApiCall, BotMessage, Sent
from tests.botapi.store import Store

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
_ASYNC_POLL_INTERVAL = 0.02


@dataclass(frozen=True)
class _Probe(Generic[T]):
    """Looks for something in the store (lock held); ``what`` names it for failures."""

    find: Callable[[], T | None]
    what: str
    chat_id: int | None


class Waiting:
    """The ``wait_*`` methods block the thread: for sync tests (e.g. a bot in a subprocess).
    The ``await_*`` ones poll with ``asyncio.sleep``: for a bot on the test's own event loop."""

    _store: Store

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
        """The first bot message sent after the marker that matches; ``contains`` matches any
        version of its text/caption, so fast progress edits cannot be missed."""
        return self._wait_sync(self._message_probe(chat_id, after, contains, kind, where), timeout)

    def wait_for_call(
        self,
        method: str,
        *,
        after: int | Sent | None = None,
        where: Callable[[ApiCall], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> ApiCall:
        """The first answered call of ``method`` after the marker (default: any)."""
        return self._wait_sync(self._call_probe(method, after, where), timeout)

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
        probe = self._message_probe(chat_id, after, contains, kind, where)
        return await self._wait_async(probe, timeout)

    async def await_edit(
        self,
        chat_id: int,
        message_id: int,
        *,
        after: int | Sent | None = None,
        contains: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> BotMessage:
        """The message once edited after the marker (default: any edit) into a body
        containing ``contains``; returns its current state."""
        return await self._wait_async(
            self._edit_probe(chat_id, message_id, after, contains), timeout
        )

    async def await_call(
        self,
        method: str,
        *,
        after: int | Sent | None = None,
        where: Callable[[ApiCall], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> ApiCall:
        """Async :meth:`wait_for_call`."""
        return await self._wait_async(self._call_probe(method, after, where), timeout)

    async def await_button_answer(self, press: Sent) -> str | None:
        """The note the bot showed for a button press (every press must be answered)."""
        call = await self.await_call(
            "answerCallbackQuery",
            after=press,
            where=lambda call: call.params["callback_query_id"] == press.callback_query_id,
        )
        note = call.params.get("text")
        return None if note is None else str(note)

    async def await_no_message(
        self,
        chat_id: int,
        *,
        after: int | Sent | None = None,
        within: float = 0.5,
        contains: str | None = None,
        kind: str | None = None,
    ) -> None:
        """Assert the bot sends no (matching) message for ``within`` seconds."""
        probe = self._message_probe(chat_id, after, contains, kind, None)
        await asyncio.sleep(within)
        with self._store.cond:
            found = probe.find()
            if found is not None:
                raise AssertionError(
                    f"expected no {probe.what.removeprefix('a ')}, but got message "
                    f"{found.message_id}: {found.body!r}\n{self._store.dump(chat_id)}"
                )

    # ---- probes ------------------------------------------------------------------------------

    def _since(self, chat_id: int | None, after: int | Sent | None) -> int:
        if isinstance(after, Sent):
            return after.marker
        if after is not None:
            return after
        with self._store.cond:
            chat = self._store.chats.get(chat_id) if chat_id is not None else None
            return chat.last_user_seq if chat else 0

    def _message_probe(
        self,
        chat_id: int,
        after: int | Sent | None,
        contains: str | None,
        kind: str | None,
        where: Callable[[BotMessage], bool] | None,
    ) -> _Probe[BotMessage]:
        since = self._since(chat_id, after)

        def find() -> BotMessage | None:
            chat = self._store.chats.get(chat_id)
            for message in sorted(chat.bot_messages.values(), key=lambda m: m.seq) if chat else ():
                if message.seq <= since or kind not in (None, message.kind):
                    continue
                if contains is not None and not any(contains in b for _, b in message.versions):
                    continue
                if where is None or where(message):
                    return message.snapshot()
            return None

        what = f"a bot message in chat {chat_id} after marker {since}"
        if kind is not None:
            what += f" of kind {kind!r}"
        if contains is not None:
            what += f" containing {contains!r}"
        return _Probe(find, what, chat_id)

    def _edit_probe(
        self, chat_id: int, message_id: int, after: int | Sent | None, contains: str | None
    ) -> _Probe[BotMessage]:
        since = 0 if after is None else self._since(chat_id, after)

        def find() -> BotMessage | None:
            chat = self._store.chats.get(chat_id)
            message = chat.bot_messages.get(message_id) if chat else None
            if message is None:
                return None
            for seq, body in message.versions[1:]:
                if seq > since and (contains is None or contains in body):
                    return message.snapshot()
            return None

        what = f"an edit of message {message_id} in chat {chat_id} after marker {since}"
        if contains is not None:
            what += f" containing {contains!r}"
        return _Probe(find, what, chat_id)

    def _call_probe(
        self, method: str, after: int | Sent | None, where: Callable[[ApiCall], bool] | None
    ) -> _Probe[ApiCall]:
        since = self._since(None, after)

        def find() -> ApiCall | None:
            for call in self._store.calls:
                if call.seq > since and call.status and call.method.lower() == method.lower():
                    snapshot = dataclasses.replace(call)
                    if where is None or where(snapshot):
                        return snapshot
            return None

        return _Probe(find, f"a {method} call after marker {since}", None)

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
        dump = self._store.dump(probe.chat_id)
        return AssertionError(f"timed out after {timeout:g} s waiting for {probe.what}\n{dump}")
