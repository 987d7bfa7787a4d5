"""The gallery, as someone without a painting at hand meets it: browse, choose, paint."""

from __future__ import annotations

import json

import pytest

from bot import texts
from bot.gallery import FOLDER
from bot.i18n import ENGLISH
from bot.telegram.context import BotApplication
from tests.botapi import BotApiServer, BotMessage
from tests.chat import ALICE, BOB, StartBot, press_strength
from tests.pictures import encode, gradient

pytestmark = pytest.mark.slow
RESULT_TIMEOUT = 120
ENTRIES = json.loads((FOLDER / "gallery.json").read_text(encoding="utf-8"))


def caption(index: int) -> str:
    entry = ENTRIES[index]
    return texts.painting_caption(
        ENGLISH, entry["title"], entry["artist"], entry["year"], index + 1, len(ENTRIES)
    )


def uploads_of_photos(telegram: BotApiServer) -> int:
    """Photos the bot uploaded (not re-sent by file id), in sends and edits."""
    count = 0
    for call in telegram.calls():
        if call.method == "sendPhoto" and "photo" in call.files:
            count += 1
        if call.method == "editMessageMedia" and call.files:
            count += 1
    return count


async def test_browse_choose_paint_lighter_and_swap(bot: BotApplication, telegram: BotApiServer):
    sent = telegram.user_sends_photo(ALICE, encode(gradient(72, 40)))
    got = await telegram.await_message(ALICE, after=sent)
    assert got.body == texts.GOT_CONTENT
    assert [label for label, _ in got.buttons] == [texts.GALLERY_BUTTON]

    press = telegram.user_presses_button(ALICE, got.message_id, label=texts.GALLERY_BUTTON)
    shown = await telegram.await_message(ALICE, after=press, kind="photo")
    assert shown.body == caption(0)
    assert [label for label, _ in shown.buttons] == ["◀", "▶", texts.USE_PAINTING_BUTTON]

    press = telegram.user_presses_button(ALICE, shown.message_id, label="▶")
    second = await telegram.await_edit(ALICE, shown.message_id, contains=caption(1))
    assert second.image().size != shown.image().size  # another picture in the same message
    press = telegram.user_presses_button(ALICE, shown.message_id, label="◀")
    await telegram.await_edit(ALICE, shown.message_id, after=press, contains=caption(0))
    press = telegram.user_presses_button(ALICE, shown.message_id, label="◀")  # round the end
    await telegram.await_edit(ALICE, shown.message_id, after=press, contains=caption(11))

    press = telegram.user_presses_button(ALICE, shown.message_id, label="Use this one")
    assert await telegram.await_button_answer(press) == texts.PAINTING_CHOSEN_NOTE
    pair = await telegram.await_message(ALICE, after=press, kind="photo")
    assert pair.body == texts.PAIR_READY  # as if the user had sent the painting

    await press_strength(telegram, ALICE, pair, "Medium")
    result = await telegram.await_message(ALICE, kind="document", timeout=RESULT_TIMEOUT)
    press = telegram.user_presses_button(ALICE, result.message_id, label="Lighter")
    assert await telegram.await_button_answer(press) == texts.QUEUED_NOTE
    lighter = await telegram.await_message(
        ALICE, after=result.seq, kind="document", timeout=RESULT_TIMEOUT
    )
    assert lighter.file_name == "stylized-light.png"

    press = telegram.user_presses_button(ALICE, pair.message_id, label="Swap")
    assert await telegram.await_button_answer(press) == texts.SWAPPED_NOTE
    await telegram.await_edit(ALICE, pair.message_id, contains=texts.PAIR_SWAPPED)


async def test_styles_any_time_and_each_painting_is_uploaded_once(
    start_bot: StartBot, telegram: BotApiServer
):
    async with start_bot():
        first = await open_gallery(telegram, ALICE)
        uploaded = uploads_of_photos(telegram)
        again = await open_gallery(telegram, BOB)  # another user: by file id now
        assert uploads_of_photos(telegram) == uploaded
        assert again.image().size == first.image().size

    async with start_bot():  # the file ids are kept in DATA_DIR
        await open_gallery(telegram, BOB)
        assert uploads_of_photos(telegram) == uploaded


async def test_a_painting_chosen_before_the_photo_waits_for_it(
    bot: BotApplication, telegram: BotApiServer
):
    shown = await open_gallery(telegram, ALICE)
    press = telegram.user_presses_button(ALICE, shown.message_id, label="Use this one")
    kept = await telegram.await_message(ALICE, after=press)
    assert kept.body == texts.PAINTING_KEPT
    sent = telegram.user_sends_photo(ALICE, encode(gradient()))
    pair = await telegram.await_message(ALICE, after=sent, kind="photo")
    assert pair.body == texts.PAIR_READY


async def test_use_this_one_takes_the_painting_shown(bot: BotApplication, telegram: BotApiServer):
    shown = await open_gallery(telegram, ALICE)
    for index in (1, 2):
        press = telegram.user_presses_button(ALICE, shown.message_id, label="▶")
        await telegram.await_edit(ALICE, shown.message_id, after=press, contains=caption(index))
    press = telegram.user_presses_button(ALICE, shown.message_id, label="Use this one")
    kept = await telegram.await_message(ALICE, after=press)
    assert kept.body == texts.PAINTING_KEPT

    style = bot.bot_data.sessions.get(ALICE, ALICE).style
    assert style is not None
    assert style.path.read_bytes() == bot.bot_data.gallery[2].path.read_bytes()


async def open_gallery(telegram: BotApiServer, user: int) -> BotMessage:
    sent = telegram.user_sends_command(user, "/styles")
    shown = await telegram.await_message(user, after=sent, kind="photo")
    assert shown.body == caption(0)
    return shown
