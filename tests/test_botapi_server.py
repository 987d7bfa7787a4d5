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
from typing import Any

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
    assert fake.internal_errors == []


@contextlib.asynccontextmanager
async def running_bot(
    server: BotApiServer, *handlers: BaseHandler[Any, Any, Any]
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
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
        f"echo: {update.effective_message.text}", reply_markup=keyboard
    )


async def _pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(f"pressed {query.data}")
    await query.edit_message_reply_markup(None)


async def _photo_roundtrip(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download the largest size and send it back both as a photo and as a document."""
    message = update.effective_message
    assert message is not None
    largest = max(message.photo, key=lambda size: size.width * size.height)
    data = bytes(await (await context.bot.get_file(largest.file_id)).download_as_bytearray())
    await message.reply_photo(data, caption=f"got {largest.width}x{largest.height}")
    await message.reply_document(data, filename="original.jpg")


async def test_text_reply_and_button_press(server: BotApiServer) -> None:
    handlers = (
        MessageHandler(filters.TEXT & ~filters.COMMAND, _echo),
        CallbackQueryHandler(_pressed),
    )
    async with running_bot(server, *handlers):
        sent = server.user_sends_text(USER, "hi")
        reply = await server.await_message(USER, after=sent, contains="echo: hi", timeout=5)
        assert reply.buttons == [("Again", "again:1")]

        press = server.user_presses_button(USER, reply.message_id, label="Again")
        assert await server.await_button_answer(press) == "pressed again:1"
        await server.await_call("editMessageReplyMarkup", after=press, timeout=5)
        assert server.message(USER, reply.message_id).buttons == []  # no markup: keyboard gone
        await server.await_no_message(USER, after=press, within=0.2)
    assert [m.body for m in server.messages(USER)] == ["echo: hi"]


async def test_photos_are_resized_downloaded_uploaded_and_replaced(server: BotApiServer) -> None:
    async with running_bot(server, MessageHandler(filters.PHOTO, _photo_roundtrip)) as app:
        sent = server.user_sends_photo(USER, _png(400, 300))
        assert [(s["width"], s["height"]) for s in sent.message["photo"]] == [
            (90, 68),
            (320, 240),
            (400, 300),
        ]
        photo = await server.await_message(USER, after=sent, kind="photo", timeout=5)
        document = await server.await_message(USER, after=sent, kind="document", timeout=5)
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])
        await app.bot.edit_message_caption(
            USER, photo.message_id, caption="new", reply_markup=keyboard
        )
        await app.bot.edit_message_media(InputMediaPhoto(_png(64, 32)), USER, photo.message_id)

    assert photo.caption == "got 400x300"
    assert photo.image().size == (400, 300)
    assert document.file_name == "original.jpg"
    assert document.data == server.file_bytes(sent.message["photo"][-1]["file_id"])
    assert server.downloaded_file_ids() == [sent.message["photo"][-1]["file_id"]]
    replaced = server.message(USER, photo.message_id)
    assert replaced.image().size == (64, 32)
    assert (replaced.caption, replaced.buttons) == (None, [])  # an edit drops what it omits
    assert [body for _, body in replaced.versions] == ["got 400x300", "new", ""]


# PTB's own RetryAfter constructor warns about a coming type change of ``retry_after``.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_telegram_errors_reach_ptb_as_its_exceptions(server: BotApiServer) -> None:
    async with running_bot(server) as app:
        server.user_sends_text(USER, "hello")
        photo = await app.bot.send_photo(USER, _png(40, 40), caption="same")
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await app.bot.edit_message_caption(USER, photo.message_id, caption="same")
        with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
            await app.bot.get_file("no-such-file")
        big = server.user_sends_document(
            USER, b"tiny", "big.png", "image/png", file_size_override=25 * 1024 * 1024
        )
        with pytest.raises(BadRequest, match=r"(?i)file is too big"):
            await app.bot.get_file(big.message["document"]["file_id"])
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await app.bot.send_message(USER, "x" * 4097)
        too_long = InlineKeyboardButton("Go", callback_data="x" * 65)
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            await app.bot.send_message(USER, "go", reply_markup=InlineKeyboardMarkup([[too_long]]))
        with pytest.raises(
            BadRequest, match=r"(?i)parse_mode is not supported by this fake server"
        ):
            await app.bot.send_message(USER, "<b>bold</b>", parse_mode=ParseMode.HTML)
        server.flood_limit("sendMessage", retry_after=1)
        with pytest.raises(RetryAfter):
            await app.bot.send_message(USER, "too fast")
        assert (await app.bot.send_message(USER, "later")).text == "later"
        with pytest.raises(EndPointNotFound):
            await app.bot.do_api_request("noSuchMethod")
    statuses = [call.status for call in server.calls("sendMessage")]
    assert statuses == [400, 400, 400, 429, 200]


async def test_group_commands_and_replies(server: BotApiServer) -> None:
    async with running_bot(server) as app:
        sent = server.user_sends_command(USER, "/start", chat_id=GROUP, chat_type="group")
        assert sent.message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
        mention = server.user_sends_command(
            USER, "/go now", chat_id=GROUP, chat_type="group", mention_bot=True
        )
        assert mention.message["text"] == "/go@stylebot_test_bot now"
        reply = await app.bot.send_message(
            GROUP, "hello group", reply_to_message_id=sent.message_id
        )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.text == "/start"
    assert server.message(GROUP, reply.message_id).reply_to_message_id == sent.message_id


@pytest.mark.parametrize("kind", ["sticker", "voice", "video", "animation"])
def test_media_updates_have_telegrams_shape(server: BotApiServer, kind: Any) -> None:
    sent = server.user_sends_media(USER, kind)
    update = Update.de_json(sent.update, None)
    message = update.effective_message
    assert message is not None
    assert message.effective_attachment is not None
    assert message.effective_attachment is getattr(message, kind)  # PTB reads it as that kind
    assert server.file_bytes(sent.message[kind]["file_id"]) == f"fake {kind}".encode()
    assert (message.document is not None) == (kind == "animation")  # a GIF is both, as on Telegram
    assert f"[{kind}]" in server.dump(USER)


def test_http_contract_and_long_poll(server: BotApiServer) -> None:
    """Raw HTTP: error shapes, offsets, and long polls (the newer one ends the older)."""

    def call(method: str, token: str = TOKEN, **params: object) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            f"{server.base_url}{token}/{method}",
            data=json.dumps(params).encode(),
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
    server.user_sends_text(USER, "hi")
    assert call("sendMessage", chat_id=USER, text="*hi*", parse_mode="MarkdownV2") == (
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: parse_mode is not supported by this fake server",
        },
    )

    results: list[tuple[int, dict[str, Any]]] = []
    polls = [
        threading.Thread(target=lambda: results.append(call("getUpdates", offset=2, timeout=2)))
        for _ in range(2)
    ]
    started = time.monotonic()
    polls[0].start()
    time.sleep(0.1)
    polls[1].start()  # Telegram answers the older poll 409 Conflict
    time.sleep(0.1)
    sent = server.user_sends_text(USER, "wake up")
    for poll in polls:
        poll.join(timeout=3)
    assert time.monotonic() - started < 1.5
    (conflict, _), (status, body) = results
    assert (conflict, status) == (409, 200)
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
