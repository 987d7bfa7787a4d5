"""The fake Telegram's memory: chats, updates, files and calls, ordered by one marker."""

from __future__ import annotations

import copy
import itertools
import random
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus

from tests.botapi.errors import ApiError
from tests.botapi.files import FileStore
from tests.botapi.records import JSON, ApiCall, BotMessage, Sent
from tests.botapi.transcript import transcript


@dataclass
class Flaky:
    """Fail a share of the calls of some methods at random, like a bad day at Telegram."""

    rate: float
    methods: frozenset[str]  # lower-case
    random: random.Random

    def error(self, method: str) -> ApiError | None:
        if method.lower() not in self.methods or self.random.random() >= self.rate:
            return None
        if self.random.random() < 0.5:
            return ApiError(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal Server Error")
        return ApiError(
            HTTPStatus.TOO_MANY_REQUESTS,
            "Too Many Requests: retry after 1",
            {"retry_after": 1},
        )


@dataclass
class Outage:
    """Telegram unreachable behind its proxy: every call gets a 502 HTML page until ``until``
    (monotonic). ``pending`` seconds start right after the next poll that returns updates:
    the bot has an update in hand and cannot answer it."""

    until: float = 0.0
    pending: float | None = None
    hits: int = 0  # calls answered with the 502 page

    def now(self) -> bool:
        """Whether this call falls in the outage (and is counted)."""
        if time.monotonic() >= self.until:
            return False
        self.hits += 1
        return True

    def updates_delivered(self) -> None:
        if self.pending is not None:
            self.until, self.pending = time.monotonic() + self.pending, None


@dataclass
class Chat:
    id: int  # a private chat's id is its user's id
    type: str  # "private" | "group" | "supergroup"
    title: str | None = None
    next_message_id: int = 1
    user_messages: dict[int, JSON] = field(default_factory=dict)
    bot_messages: dict[int, BotMessage] = field(default_factory=dict)
    last_user_seq: int = 0  # marker of the latest user action, the default ``after``

    def take_message_id(self) -> int:
        """Users' and the bot's messages share one sequence of ids per chat, as in Telegram."""
        self.next_message_id += 1
        return self.next_message_id - 1


class Store:
    """All state behind one lock; every change bumps the marker and wakes waiters.

    Hold ``cond`` for any access. It is reentrant, and ``cond.wait`` releases it, so a long
    poll waiting for updates does not block the users' side.
    """

    def __init__(
        self, token: str, bot_username: str, bot_name: str, max_poll_timeout: float
    ) -> None:
        self.token = token
        self.max_poll_timeout = max_poll_timeout  # caps long polls so shutdowns stay fast
        self.bot_user: JSON = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.cond = threading.Condition(threading.RLock())
        self.seq = 0
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, Chat] = {}
        self.updates: list[JSON] = []  # not yet confirmed by a getUpdates offset
        self.poll_generation = 0  # counts getUpdates calls: a newer one ends older ones
        self._update_ids = itertools.count(1)
        self.callback_queries: dict[str, bool] = {}  # id -> answered
        self.files = FileStore()
        self.calls: list[ApiCall] = []
        self.faults: dict[str, list[ApiError]] = {}  # lower-case method -> errors to answer
        self.flaky: Flaky | None = None  # random failures, for tests of resilience
        self.outage = Outage()  # every call answered by a proxy's 502 page, for a while
        self.commands: dict[tuple[str, str], list[JSON]] = {}  # (scope, language) -> commands
        self.internal_errors: list[str] = []
        self.stopping = False

    def bump(self) -> int:
        """Advance the marker and wake every waiter."""
        self.seq += 1
        self.cond.notify_all()
        return self.seq

    def user(self, user_id: int) -> JSON:
        """A user's JSON; users are created on first use."""
        user = self.users.setdefault(
            user_id,
            {
                "id": user_id,
                "is_bot": False,
                "first_name": f"User{user_id}",
                "username": f"user{user_id}",
                "language_code": "en",
            },
        )
        return copy.deepcopy(user)

    def chat_json(self, chat: Chat) -> JSON:
        if chat.type == "private":
            user = self.user(chat.id)
            return {
                "id": chat.id,
                "type": "private",
                "first_name": user["first_name"],
                "username": user["username"],
            }
        return {"id": chat.id, "type": chat.type, "title": chat.title}

    def enqueue(self, chat: Chat, payload: JSON) -> Sent:
        """Queue an update for getUpdates."""
        update = {**copy.deepcopy(payload), "update_id": next(self._update_ids)}
        self.updates.append(update)
        chat.last_user_seq = self.bump()
        return Sent(update=copy.deepcopy(update), marker=chat.last_user_seq)

    def message_json(self, message: BotMessage, with_reply: bool = True) -> JSON:
        """A bot message as Telegram returns and forwards it."""
        chat = self.chats[message.chat_id]
        result: JSON = {
            "message_id": message.message_id,
            "from": copy.deepcopy(self.bot_user),
            "chat": self.chat_json(chat),
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
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            result["reply_markup"] = copy.deepcopy(message.reply_markup)
        if with_reply and message.reply_to_message_id is not None:
            replied = self.replied_json(chat, message.reply_to_message_id)
            if replied is not None:
                result["reply_to_message"] = replied
        return result

    def replied_json(self, chat: Chat, message_id: int) -> JSON | None:
        """A user or bot message as it appears inside ``reply_to_message`` (not nested)."""
        if message_id in chat.user_messages:
            replied = copy.deepcopy(chat.user_messages[message_id])
            replied.pop("reply_to_message", None)
            return replied
        message = chat.bot_messages.get(message_id)
        return None if message is None else self.message_json(message, with_reply=False)

    def dump(self, chat_id: int | None = None) -> str:
        """Readable transcript of one chat (or all) plus the recent API calls."""
        with self.cond:
            return transcript(self.chats, chat_id, self.calls, self.seq, self.internal_errors)
