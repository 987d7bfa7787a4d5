"""The conversation up to the strength buttons, as a user drives it (no painting here)."""

from __future__ import annotations

from PIL import Image

from bot import texts
from bot.i18n import ENGLISH
from bot.telegram.context import BotApplication
from tests.botapi import BotApiServer
from tests.chat import (
    ALICE,
    BOB,
    GROUP,
    SendPair,
    StartBot,
    assert_no_reply,
    in_group,
    labels,
    sealed,
)
from tests.pictures import checkerboard, encode, gradient, noise, stripes, waves

PAIR_BUTTONS = ["Light", "• Medium", "Strong", "⇄ Swap", "✕ Cancel"]  # the default marked


# ---- commands -------------------------------------------------------------------------------


async def test_start_and_help_say_exactly_what_to_send(bot: BotApplication, telegram: BotApiServer):
    sent = telegram.user_sends_command(ALICE, "/start")
    reply = await telegram.await_message(ALICE, after=sent)
    assert reply.body == texts.INTRO

    sent = telegram.user_sends_command(ALICE, "/help")
    assert (await telegram.await_message(ALICE, after=sent)).body == texts.INTRO
    assert [c["command"] for c in telegram.commands()] == [
        "start",
        "help",
        "status",
        "cancel",
        "styles",
        "settings",
        "language",
    ]


async def test_status_and_cancel_with_nothing_going_on(bot: BotApplication, telegram: BotApiServer):
    sent = telegram.user_sends_command(ALICE, "/status")
    reply = await telegram.await_message(ALICE, after=sent)
    assert reply.body == f"{texts.STATUS_IDLE} {texts.NEED_CONTENT}"

    sent = telegram.user_sends_command(ALICE, "/cancel")
    reply = await telegram.await_message(ALICE, after=sent)
    assert reply.body == f"{texts.NOTHING_TO_CANCEL} {texts.NEED_CONTENT}"


# ---- pictures in ----------------------------------------------------------------------------


async def test_photo_then_style_shows_the_pair_with_strength_buttons(
    bot: BotApplication, telegram: BotApiServer
):
    sent = telegram.user_sends_photo(ALICE, encode(gradient(480, 270)))
    reply = await telegram.await_message(ALICE, after=sent)
    assert reply.body == texts.GOT_CONTENT
    sizes = sent.message["photo"]
    assert len(sizes) > 1 and telegram.downloaded_file_ids() == [sizes[-1]["file_id"]]  # largest

    sent = telegram.user_sends_photo(ALICE, encode(stripes()))
    pair = await telegram.await_message(ALICE, after=sent)
    assert pair.kind == "photo"
    assert pair.body == texts.PAIR_READY
    assert labels(pair) == PAIR_BUTTONS
    preview = pair.image()
    assert preview.width > 1.8 * preview.height  # content and style side by side

    sent = telegram.user_sends_command(ALICE, "/start")
    assert (await telegram.await_message(ALICE, after=sent)).body.endswith(texts.READY)


async def test_image_files_work_and_a_third_picture_replaces_the_style(
    bot: BotApplication, telegram: BotApiServer
):
    sent = telegram.user_sends_document(ALICE, encode(gradient()), "photo.png")
    assert (await telegram.await_message(ALICE, after=sent)).body == texts.GOT_CONTENT

    sent = telegram.user_sends_document(ALICE, encode(waves(), "WEBP"), "style.webp")
    first_pair = await telegram.await_message(ALICE, after=sent, kind="photo")
    assert first_pair.body == texts.PAIR_READY

    sent = telegram.user_sends_document(ALICE, encode(checkerboard(), "JPEG"), "other.jpg")
    second_pair = await telegram.await_message(ALICE, after=sent, kind="photo")
    assert second_pair.body == texts.STYLE_REPLACED

    _, old_medium = first_pair.buttons[1]
    press = telegram.user_presses_button(ALICE, first_pair.message_id, old_medium)
    assert await telegram.await_button_answer(press) == texts.STALE_BUTTON
    await assert_no_reply(telegram, ALICE, press)


async def test_an_album_of_two_is_content_then_style(bot: BotApplication, telegram: BotApiServer):
    telegram.user_sends_photo(ALICE, encode(gradient()), media_group_id="album-1")
    sent = telegram.user_sends_photo(ALICE, encode(stripes()), media_group_id="album-1")
    pair = await telegram.await_message(ALICE, after=sent, kind="photo")
    assert pair.body == texts.PAIR_READY
    assert [m.body for m in telegram.messages(ALICE)] == [texts.GOT_CONTENT, texts.PAIR_READY]


RED, BLUE = (220, 30, 30), (30, 40, 210)


def sides(preview: Image.Image) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The colours at the centres of the preview's left and right square cells."""
    middle, cell = preview.height // 2, preview.height
    left = preview.getpixel((cell // 2, middle))
    right = preview.getpixel((preview.width - cell // 2, middle))
    assert isinstance(left, tuple) and isinstance(right, tuple)
    return left, right


def near(colour: tuple[int, ...], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(colour, expected, strict=False))


async def test_the_pair_shows_the_photo_left_and_swap_turns_it_round_in_place(
    bot: BotApplication, telegram: BotApiServer, send_pair: SendPair
):
    photo, painting = Image.new("RGB", (64, 48), RED), Image.new("RGB", (48, 64), BLUE)
    pair = await send_pair(ALICE, encode(photo), encode(painting))
    left, right = sides(pair.image())
    assert near(left, RED) and near(right, BLUE)  # as the caption says: photo left, style right

    press = telegram.user_presses_button(ALICE, pair.message_id, label="Swap")
    assert await telegram.await_button_answer(press) == texts.SWAPPED_NOTE
    swapped = await telegram.await_edit(ALICE, pair.message_id, contains=texts.PAIR_SWAPPED)
    left, right = sides(swapped.image())
    assert near(left, BLUE) and near(right, RED)
    assert labels(swapped) == PAIR_BUTTONS
    assert swapped.buttons != pair.buttons  # a new pair id: the old buttons are stale

    press = telegram.user_presses_button(ALICE, pair.message_id, pair.buttons[1][1], check=False)
    assert await telegram.await_button_answer(press) == texts.STALE_BUTTON


async def test_cancel_forgets_the_pair_and_a_new_photo_starts_over(
    bot: BotApplication, telegram: BotApiServer, send_pair: SendPair
):
    pair = await send_pair(ALICE)
    press = telegram.user_presses_button(ALICE, pair.message_id, label="Cancel")
    reply = await telegram.await_message(ALICE, after=press)
    assert reply.body == texts.PAIR_DROPPED
    assert telegram.message(ALICE, pair.message_id).buttons == []

    sent = telegram.user_sends_photo(ALICE, encode(noise()))
    assert (await telegram.await_message(ALICE, after=sent)).body == texts.GOT_CONTENT

    sent = telegram.user_sends_command(ALICE, "/cancel")
    assert (await telegram.await_message(ALICE, after=sent)).body == texts.PICTURES_DROPPED


# ---- buttons that are not what they seem ----------------------------------------------------


async def test_forged_and_stale_buttons_are_answered_and_do_nothing(
    bot: BotApplication, telegram: BotApiServer, send_pair: SendPair
):
    pair = await send_pair(ALICE)
    press = telegram.user_presses_button(ALICE, pair.message_id, "rm -rf /", check=False)
    assert await telegram.await_button_answer(press) == texts.UNKNOWN_BUTTON

    press = telegram.user_presses_button(
        ALICE, pair.message_id, sealed(ALICE, "paint:0123456789ab:strong"), check=False
    )
    assert await telegram.await_button_answer(press) == texts.STALE_BUTTON

    press = telegram.user_presses_button(
        ALICE, pair.message_id, sealed(ALICE, "stop:0123456789ab"), check=False
    )
    assert await telegram.await_button_answer(press) == texts.NOTHING_TO_STOP
    await assert_no_reply(telegram, ALICE, press)


# ---- groups ---------------------------------------------------------------------------------


async def test_in_a_group_each_user_has_a_pair_and_only_replies_count(
    bot: BotApplication, telegram: BotApiServer
):
    group = in_group(GROUP)
    sent = telegram.user_sends_photo(ALICE, encode(gradient()), **group)
    telegram.user_sends_text(ALICE, "nice weather", **group)
    await assert_no_reply(telegram, ALICE, sent, group=GROUP)  # not addressed: ignored

    sent = telegram.user_sends_command(ALICE, "/start", mention_bot=True, **group)
    intro = await telegram.await_message(GROUP, after=sent)
    assert intro.body == f"{texts.INTRO}\n\n{texts.GROUP_NOTE}"
    assert intro.reply_to_message_id == sent.message_id

    sent = telegram.user_sends_photo(
        ALICE, encode(gradient()), reply_to_message_id=intro.message_id, **group
    )
    got_alice = await telegram.await_message(GROUP, after=sent)
    assert got_alice.body == texts.GOT_CONTENT
    assert got_alice.reply_to_message_id == sent.message_id

    sent = telegram.user_sends_photo(
        BOB, encode(noise()), reply_to_message_id=intro.message_id, **group
    )
    assert (await telegram.await_message(GROUP, after=sent)).body == texts.GOT_CONTENT  # Bob's own

    sent = telegram.user_sends_photo(
        ALICE, encode(stripes()), reply_to_message_id=got_alice.message_id, **group
    )
    pair = await telegram.await_message(GROUP, after=sent, kind="photo")
    assert pair.body == texts.PAIR_READY
    assert pair.reply_to_message_id == sent.message_id  # answers Alice's style photo

    press = telegram.user_presses_button(BOB, pair.message_id, label="Medium", chat_id=GROUP)
    assert await telegram.await_button_answer(press) == texts.NOT_YOUR_BUTTON  # Alice's pair
    await assert_no_reply(telegram, BOB, press, group=GROUP)


async def test_a_download_telegram_refuses_is_explained(
    bot: BotApplication, telegram: BotApiServer
):
    telegram.inject_error("getFile", description="Bad Request: file is too big")
    sent = telegram.user_sends_photo(ALICE, encode(gradient()))
    assert (await telegram.await_message(ALICE, after=sent)).body.startswith(
        texts.too_big(ENGLISH, 20)
    )

    telegram.inject_error("getFile", description="Bad Request: wrong file_id")
    sent = telegram.user_sends_photo(ALICE, encode(gradient()))
    reply = await telegram.await_message(ALICE, after=sent)
    assert reply.body == f"{texts.DOWNLOAD_FAILED} {texts.NEED_CONTENT}"

    # Passing trouble is waited out: the picture is taken, nothing to send again.
    telegram.inject_error("getFile", code=502, description="Bad Gateway", times=2)
    sent = telegram.user_sends_photo(ALICE, encode(gradient()))
    assert (await telegram.await_message(ALICE, after=sent)).body == texts.GOT_CONTENT


async def test_the_download_limit_is_the_configured_one(
    start_bot: StartBot, telegram: BotApiServer
):
    refused = texts.with_hint(texts.too_big(ENGLISH, 1), texts.NEED_CONTENT)
    async with start_bot(max_download_mb=1):
        announced_big = telegram.user_sends_document(
            ALICE, encode(gradient()), "big.png", file_size_override=1_500_000
        )
        assert (await telegram.await_message(ALICE, after=announced_big)).body == refused
        assert telegram.calls("getFile") == []  # refused before downloading

        big = encode(noise(700, 700))  # Telegram said it was small; the download says not
        assert len(big) > 1024 * 1024
        sent = telegram.user_sends_document(ALICE, big, "noise.png", file_size_override=1000)
        assert (await telegram.await_message(ALICE, after=sent)).body == refused

        sent = telegram.user_sends_document(ALICE, encode(gradient()), "small.png")
        assert (await telegram.await_message(ALICE, after=sent)).body == texts.GOT_CONTENT
