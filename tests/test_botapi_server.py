"""Self-test of the fake Bot API: the real PTB Application must work against it unchanged."""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator

import pytest
from PIL import Image
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, EndPointNotFound, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.botapi import BotApiServer

TOKEN = "123456:TEST"
USER = 42
GROUP = -1001


def _png(width: int, height: int, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def server() -> Iterator[BotApiServer]:
    with BotApiServer(token=TOKEN) as fake:
        yield fake


@contextlib.asynccontextmanager
async def running_bot(server: BotApiServer, *handlers: BaseHandler) -> AsyncIterator[Application]:
    """A real Application polling the fake server, stopped cleanly afterwards."""
    app = (
        ApplicationBuilder()
        .token(server.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )
    app.add_handlers(list(handlers))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Again", callback_data="again:1")]])
    await update.effective_message.reply_text(
        f"echo: <b>{update.effective_message.text}</b>",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
    )


async def _pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("ok")
    await query.edit_message_text(f"pressed {query.data}")


async def _photo_roundtrip(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download the largest size and send it back both as a photo and as a document."""
    message = update.effective_message
    assert message is not None
    largest = max(message.photo, key=lambda size: size.width * size.height)
    data = bytes(await (await context.bot.get_file(largest.file_id)).download_as_bytearray())
    await message.reply_photo(data, caption=f"got {largest.width}x{largest.height}")
    await message.reply_document(data, filename="original.jpg")


@pytest.mark.asyncio
async def test_text_reply_and_button_press(server: BotApiServer) -> None:
    handlers = (
        MessageHandler(filters.TEXT & ~filters.COMMAND, _echo),
        CallbackQueryHandler(_pressed),
    )
    async with running_bot(server, *handlers):
        sent = server.user_sends_text(USER, "hi")
        reply = await server.await_message(USER, after=sent, contains="echo: hi", timeout=5)
        assert reply.text == "echo: hi"  # HTML rendered like Telegram
        assert reply.raw_text == "echo: <b>hi</b>"
        assert reply.buttons == [("Again", "again:1")]

        press = server.user_presses_button(USER, reply.message_id, "again:1")
        edited = await server.await_edit(USER, reply.message_id, contains="pressed again:1")
        assert edited.buttons == []  # editing without reply_markup drops the keyboard
        answer = await server.await_call(
            "answerCallbackQuery",
            where=lambda call: call.params["callback_query_id"] == press.callback_query_id,
            timeout=5,
        )
        assert answer.params["text"] == "ok"
        await server.await_no_message(USER, after=press, within=0.2)
    assert [m.body for m in server.messages(USER)] == ["pressed again:1"]


@pytest.mark.asyncio
async def test_photo_is_downloaded_and_uploads_are_recorded(server: BotApiServer) -> None:
    async with running_bot(server, MessageHandler(filters.PHOTO, _photo_roundtrip)):
        sent = server.user_sends_photo(USER, _png(400, 300))
        assert [(s["width"], s["height"]) for s in sent.message["photo"]] == [
            (90, 68),
            (320, 240),
            (400, 300),
        ]
        photo = await server.await_message(USER, after=sent, kind="photo", timeout=5)
        document = await server.await_message(USER, after=sent, kind="document", timeout=5)
    assert photo.caption == "got 400x300"
    assert photo.image().size == (400, 300)
    assert document.file_name == "original.jpg"
    assert document.data == server.file_bytes(sent.message["photo"][-1]["file_id"])
    assert server.downloaded_file_ids() == [sent.message["photo"][-1]["file_id"]]


@pytest.mark.asyncio
async def test_telegram_errors_reach_ptb_as_its_exceptions(server: BotApiServer) -> None:
    async with running_bot(server) as app:
        server.user_sends_text(USER, "hello")
        message = await app.bot.send_message(USER, "same")
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await app.bot.edit_message_text("same", chat_id=USER, message_id=message.message_id)
        with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
            await app.bot.get_file("no-such-file")
        big = server.user_sends_document(
            USER, b"tiny", "big.png", "image/png", file_size_override=25 * 1024 * 1024
        )
        with pytest.raises(BadRequest, match=r"(?i)file is too big"):
            await app.bot.get_file(big.message["document"]["file_id"])
        with pytest.raises(BadRequest, match=r"(?i)can.t parse entities"):
            await app.bot.send_message(USER, "1 < 2", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)reserved"):
            await app.bot.send_message(USER, "Done.", parse_mode=ParseMode.MARKDOWN_V2)
        server.flood_limit("sendMessage", retry_after=1)
        with pytest.raises(RetryAfter):
            await app.bot.send_message(USER, "too fast")
        assert (await app.bot.send_message(USER, "later")).text == "later"
        with pytest.raises(EndPointNotFound):
            await app.bot.do_api_request("noSuchMethod")
    statuses = [call.status for call in server.calls("sendMessage")]
    assert statuses == [200, 400, 400, 429, 200]


@pytest.mark.asyncio
async def test_media_group_and_group_chat(server: BotApiServer) -> None:
    async with running_bot(server) as app:
        sent = server.user_sends_command(USER, "/start", chat_id=GROUP, chat_type="group")
        assert sent.message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
        album = [InputMediaPhoto(_png(64, 64), caption="one"), InputMediaPhoto(_png(32, 48))]
        await app.bot.send_media_group(GROUP, album)
    first, second = server.messages(GROUP)
    assert first.media_group_id == second.media_group_id is not None
    assert (first.caption, second.caption) == ("one", None)
    assert second.image().size == (32, 48)


def test_http_contract_and_long_poll(server: BotApiServer) -> None:
    """Raw HTTP: error shapes, offsets, and a long poll that returns as soon as a user acts."""

    def call(method: str, token: str = TOKEN, **params: object) -> tuple[int, dict]:
        body = json.dumps(params).encode()
        request = urllib.request.Request(
            f"{server.base_url}{token}/{method}",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.load(error)

    assert call("getMe", token="1:WRONG") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert call("fooBar") == (404, {"ok": False, "error_code": 404, "description": "Not Found"})

    result: list[tuple[int, dict]] = []
    poller = threading.Thread(target=lambda: result.append(call("getUpdates", timeout=2)))
    started = time.monotonic()
    poller.start()
    time.sleep(0.1)
    sent = server.user_sends_text(USER, "wake up")
    poller.join(timeout=3)
    assert time.monotonic() - started < 1.5
    status, body = result[0]
    assert status == 200
    assert [u["update_id"] for u in body["result"]] == [sent.update["update_id"]]

    offset = sent.update["update_id"] + 1
    assert call("getUpdates", offset=offset, timeout=0)[1]["result"] == []
    assert server.pending_updates() == 0

    assert call("sendMessage", chat_id=USER, text="pong")[0] == 200
    assert server.wait_for_message(USER, after=sent, timeout=2).text == "pong"


def test_wait_timeout_explains_the_chat(server: BotApiServer) -> None:
    server.user_sends_text(USER, "anyone there?")
    with pytest.raises(AssertionError) as failure:
        server.wait_for_message(USER, contains="never", timeout=0.1)
    text = str(failure.value)
    assert "timed out after 0.1 s" in text
    assert "'anyone there?'" in text
