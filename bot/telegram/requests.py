"""How the bot talks HTTP to Telegram: PTB's rate limiter, made patient with replies, and
PTB's HTTP client, made quiet about error pages (see ``bot.retry`` for the promises)."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import TelegramError
from telegram.ext import AIORateLimiter
from telegram.request import HTTPXRequest

from ..messenger import Trouble
from ..retry import REPLY_GIVE_UP_SECONDS, persist
from .trouble import translated

JSONDict = dict[str, Any]
#: Bot API methods that answer a user: retried by :class:`PatientRateLimiter`.
REPLIES = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "sendAnimation", "sendMediaGroup", "getFile"}
)


class PatientRateLimiter(AIORateLimiter):
    """PTB's rate limiter, which also sees every reply through passing trouble (see
    :data:`REPLIES`); other calls are left to their callers. Its callers get PTB's own
    errors, as from any call."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        limited = super().process_request
        if endpoint not in REPLIES:
            return await limited(callback, args, kwargs, endpoint, data, rate_limit_args)

        async def send() -> bool | JSONDict | list[JSONDict]:
            with translated():
                return await limited(callback, args, kwargs, endpoint, data, rate_limit_args)

        try:
            return await persist(send, REPLY_GIVE_UP_SECONDS, f"{endpoint} call")
        except Trouble as trouble:  # PTB's own error again, as any other call raises
            cause = trouble.__cause__
            assert isinstance(cause, TelegramError)
            raise cause from cause.__cause__


class QuietRequest(HTTPXRequest):
    """PTB's HTTP client, except that an answer that is not JSON (a proxy's error page during
    an outage) is an error to retry, not a logged traceback: the library logs one per call."""

    @staticmethod
    def parse_json_payload(payload: bytes) -> JSONDict:
        try:
            parsed: JSONDict = json.loads(payload.decode("utf-8", "replace"))
        except ValueError as error:
            raise TelegramError("Invalid server response") from error
        return parsed
