"""The fake Bot API server: the store, its HTTP front and the test-facing methods together."""

from __future__ import annotations

import copy
import dataclasses
import random
import time
from collections.abc import Iterable
from http import HTTPStatus

from tests.botapi.dispatch import BotApi
from tests.botapi.errors import ApiError
from tests.botapi.httpd import HttpServer
from tests.botapi.methods import commands_key
from tests.botapi.records import JSON, ApiCall, BotMessage
from tests.botapi.store import Flaky, Store
from tests.botapi.users import Users
from tests.botapi.waiting import Waiting


class BotApiServer(Users, Waiting):
    """Fake Bot API on 127.0.0.1 plus the simulated users; all public methods are thread-safe."""

    def __init__(
        self,
        token: str = "123456:TEST",
        *,
        bot_username: str = "stylebot_test_bot",
        bot_name: str = "Style Test Bot",
        max_poll_timeout: float = 2.0,
    ) -> None:
        """``max_poll_timeout`` caps long polls so shutdowns stay fast."""
        self.token = token
        self._store = Store(token, bot_username, bot_name, max_poll_timeout)
        self._api = BotApi(self._store)
        self._httpd: HttpServer | None = None

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> BotApiServer:
        """Bind a free port and serve in a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("BotApiServer already started")
        with self._store.cond:
            self._store.stopping = False
        self._httpd = HttpServer(self._api)
        self._httpd.start()
        return self

    def stop(self) -> None:
        """Release long polls, stop serving and close every socket."""
        with self._store.cond:
            self._store.stopping = True
            self._store.cond.notify_all()
        if self._httpd is not None:
            self._httpd.stop()
            self._httpd = None

    def __enter__(self) -> BotApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder.base_url``; PTB appends the token."""
        return f"http://127.0.0.1:{self._port()}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder.base_file_url``; PTB appends the token and file path."""
        return f"http://127.0.0.1:{self._port()}/file/bot"

    def _port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("BotApiServer is not started")
        return self._httpd.port

    # ---- faults ------------------------------------------------------------------------------

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
        with self._store.cond:
            faults = self._store.faults.setdefault(method.lower(), [])
            faults.extend(ApiError(code, description, parameters) for _ in range(times))

    def flood_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 and ``retry_after``."""
        self.inject_error(
            method,
            HTTPStatus.TOO_MANY_REQUESTS,
            f"Too Many Requests: retry after {retry_after}",
            times=times,
            parameters={"retry_after": retry_after},
        )

    def unreliable(self, rate: float, methods: Iterable[str], *, seed: int = 0) -> None:
        """From now on fail ``rate`` of the calls of ``methods`` with a 500 or a 429
        (``retry_after`` 1), at random but repeatably (``seed``); ``rate`` 0 ends it. The
        method ``download`` stands for file downloads."""
        with self._store.cond:
            names = frozenset(method.lower() for method in methods)
            self._store.flaky = Flaky(rate, names, random.Random(seed)) if rate else None

    def outage(self, seconds: float, *, after_next_update: bool = False) -> None:
        """Every call, file downloads and polls included, answered with a proxy's 502 HTML
        page for ``seconds``: from now, or from right after the next poll that hands the bot
        an update (so that update's answer falls in the outage)."""
        with self._store.cond:
            outage = self._store.outage
            if after_next_update:
                outage.pending = seconds
            else:
                outage.until = time.monotonic() + seconds

    @property
    def outage_hits(self) -> int:
        """Calls answered with the outage's 502 page so far."""
        with self._store.cond:
            return self._store.outage.hits

    # ---- what happened -----------------------------------------------------------------------

    @property
    def internal_errors(self) -> list[str]:
        """Bugs of this fake (tracebacks); a test that sees any should fail."""
        with self._store.cond:
            return list(self._store.internal_errors)

    def messages(self, chat_id: int) -> list[BotMessage]:
        """The bot's messages in a chat, oldest first, as they look now."""
        with self._store.cond:
            chat = self._store.chats.get(chat_id)
            found = sorted(chat.bot_messages.values(), key=lambda m: m.message_id) if chat else []
            return [message.snapshot() for message in found]

    def message(self, chat_id: int, message_id: int) -> BotMessage:
        """One bot message as it looks now."""
        with self._store.cond:
            chat = self._store.chats.get(chat_id)
            if chat is None or message_id not in chat.bot_messages:
                raise AssertionError(
                    f"no bot message {message_id} in chat {chat_id}\n{self.dump(chat_id)}"
                )
            return chat.bot_messages[message_id].snapshot()

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """The API call log (snapshots), optionally for one method."""
        with self._store.cond:
            return [
                dataclasses.replace(call)
                for call in self._store.calls
                if method is None or call.method.lower() == method.lower()
            ]

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """What ``setMyCommands`` stored for this scope and language."""
        with self._store.cond:
            return copy.deepcopy(self._store.commands.get(commands_key(scope, language_code), []))

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes behind a file id (user or bot file)."""
        with self._store.cond:
            return self._store.files.by_id[file_id].data

    def downloaded_file_ids(self) -> list[str]:
        """File ids the bot downloaded through base_file_url, in order."""
        with self._store.cond:
            return list(self._store.files.downloads)

    def pending_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._store.cond:
            return len(self._store.updates)

    def dump(self, chat_id: int | None = None) -> str:
        """Readable transcript of one chat (or all) plus the recent API calls."""
        return self._store.dump(chat_id)
