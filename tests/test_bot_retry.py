"""Sending through passing trouble, on its own: which calls are retried, how long, how loud;
and Telegram's errors as the conversation's kinds of trouble."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot import retry
from bot.messenger import Gone, Refused, SlowDown, TooBig, Unchanged, Unreachable
from bot.retry import persist, with_retries
from bot.telegram.requests import PatientRateLimiter, QuietRequest
from bot.telegram.trouble import is_passing, trouble_of

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


class Flaky:
    """A call that fails with ``errors`` one after the other, then succeeds."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {"ok": True}


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Pauses are recorded, not slept, and the clock moves by them."""
    waited: list[float] = []
    clock = [1000.0]

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(retry, "sleep", sleep)
    monkeypatch.setattr(retry, "monotonic", lambda: clock[0])
    return waited


async def limited(limiter: PatientRateLimiter, endpoint: str, call: Flaky) -> object:
    await limiter.initialize()
    try:
        return await limiter.process_request(call, (), {}, endpoint, {"chat_id": 1}, None)
    finally:
        await limiter.shutdown()


async def test_a_reply_waits_out_5xx_timeouts_and_flood_limits(no_waiting: list[float], caplog):
    call = Flaky(NetworkError("Bad Gateway"), TimedOut(), RetryAfter(7), NetworkError("502"))
    with caplog.at_level(logging.WARNING, logger="bot.retry"):
        assert await limited(PatientRateLimiter(max_retries=0), "sendMessage", call) == {"ok": True}
    assert call.calls == 5
    assert no_waiting == [1.0, 2.0, 7.0, 4.0]  # growing pauses; the flood limit as asked
    lines = [r for r in caplog.records if r.name == "bot.retry"]
    assert len(lines) == 4 and all(r.levelno == logging.WARNING and not r.exc_info for r in lines)
    assert lines[0].getMessage() == "The sendMessage call failed (Bad Gateway); trying again in 1 s"


async def test_a_reply_gives_up_after_two_minutes_with_the_last_error(no_waiting: list[float]):
    call = Flaky(*[NetworkError("Bad Gateway") for _ in range(100)])
    with pytest.raises(NetworkError):
        await limited(PatientRateLimiter(max_retries=0), "sendPhoto", call)
    assert sum(no_waiting) <= retry.REPLY_GIVE_UP_SECONDS
    assert sum(no_waiting) > retry.REPLY_GIVE_UP_SECONDS - retry.MAX_PAUSE
    assert max(no_waiting) == retry.MAX_PAUSE


@pytest.mark.parametrize("final", [BadRequest("chat not found"), Forbidden("blocked")])
async def test_a_refusal_is_not_retried(final: Exception, no_waiting: list[float]):
    call = Flaky(final)
    with pytest.raises(type(final)):
        await limited(PatientRateLimiter(max_retries=0), "sendMessage", call)
    assert call.calls == 1 and no_waiting == []


@pytest.mark.parametrize("endpoint", ["editMessageCaption", "answerCallbackQuery", "getUpdates"])
async def test_calls_that_only_inform_are_left_to_their_callers(endpoint: str):
    call = Flaky(NetworkError("Bad Gateway"))
    with pytest.raises(NetworkError):
        await limited(PatientRateLimiter(max_retries=0), endpoint, call)
    assert call.calls == 1


async def test_persist_hands_back_what_the_call_returned():
    assert await persist(Flaky(Unreachable("Timed out")), 10, "test call") == {"ok": True}


def test_an_html_error_page_is_an_error_without_a_logged_traceback(caplog):
    with caplog.at_level(logging.DEBUG), pytest.raises(TelegramError) as raised:
        QuietRequest.parse_json_payload(b"<html><h1>502 Bad Gateway</h1></html>")
    assert str(raised.value) == "Invalid server response"
    assert not [r for r in caplog.records if r.exc_info]
    assert QuietRequest.parse_json_payload(b'{"ok": true}') == {"ok": True}
    assert QuietRequest.parse_json_payload(b'{"text": "caf\xe9"}') == {"text": "caf\ufffd"}


async def test_a_result_send_that_gives_up_says_so_and_returns_nothing(caplog):
    with caplog.at_level(logging.WARNING, logger="bot.retry"):
        assert await with_retries(Flaky(Gone("blocked")), 60, "result file") is None
        assert (
            await with_retries(Flaky(*[Unreachable("Timed out")] * 99), 60, "result photo") is None
        )
    lines = [r.getMessage() for r in caplog.records]
    assert [line for line in lines if "Gave up" in line] == [
        "Gave up on the result file: blocked",
        "Gave up on the result photo after 60 s of failures: Timed out",
    ]
    assert lines[1] == "The result photo failed (Timed out); trying again in 1 s", "each try"
    assert await with_retries(Flaky(Unreachable("502")), 60, "result") == {"ok": True}


def test_what_passes_by_itself():
    assert is_passing(NetworkError("Bad Gateway")) and is_passing(TimedOut())
    assert is_passing(RetryAfter(3)) and is_passing(SlowDown("wait", 3))
    assert not is_passing(BadRequest("chat not found"))
    assert not is_passing(Forbidden("blocked")) and not is_passing(ValueError())


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (BadRequest("Message is not modified: specified new message content ..."), Unchanged),
        (BadRequest("Message to edit not found"), Gone),
        (BadRequest("Chat not found"), Gone),
        (Forbidden("Forbidden: bot was blocked by the user"), Gone),
        (BadRequest("File is too big"), TooBig),
        (BadRequest("Message caption is too long"), Refused),
        (NetworkError("Bad Gateway"), Unreachable),
        (TimedOut(), Unreachable),
        (TelegramError("Invalid server response"), Refused),
    ],
)
def test_telegrams_errors_are_the_conversations_kinds_of_trouble(error, kind):
    trouble = trouble_of(error)
    assert type(trouble) is kind
    assert str(trouble) == error.message


def test_a_flood_limit_is_a_pause_of_the_seconds_telegram_asks():
    trouble = trouble_of(RetryAfter(7))
    assert isinstance(trouble, SlowDown) and trouble.seconds == 7.0


def test_brief_keeps_a_log_line_short():
    page = "Bad Gateway (502). Parsing the server response b'<html>" + "x" * 500 + "' failed"
    assert retry.brief(NetworkError(page)) == "Bad Gateway (502)"
    assert len(retry.brief(NetworkError("y" * 500))) == 121
    assert retry.brief(NetworkError("y" * 120)) == "y" * 120, "a line at the limit is whole"
