"""Everything a user might send besides a plain photo, and what the bot makes of it.

One corpus in three tables. REFUSED: a short, exact answer plus what the bot still needs.
ACCEPTED: the picture becomes the style, and the pair shows it as the user sees it (upright,
opaque, in its own colours). IGNORED: not meant for the bot, so no answer at all and nothing
downloaded. In every case nothing is lost: the photo sent just before is still the content of
the next pair.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from PIL import Image, ImageChops, ImageStat
from telegram import Update
from telegram.ext import TypeHandler

from bot import media, texts
from bot.i18n import ENGLISH
from bot.telegram.context import BotApplication, Context
from tests.botapi import BotApiServer, Sent
from tests.chat import ALICE, BOB, GROUP, assert_no_reply, in_group, press_strength
from tests.pictures import (
    encode,
    gradient,
    halves,
    png_claiming,
    ramp,
    stripes,
    waves,
    webp_claiming,
)

TOO_BIG = 25 * 1024 * 1024
HELPER_BOT = 5005  # another bot's account
CHANNEL = -1009009
RED, BLUE, WHITE = (220, 30, 30), (30, 40, 210), (255, 255, 255)

CONTENT = gradient()  # the photo sent before each case: it must still be there afterwards
STYLE = waves(64, 48)  # what most accepted cases send as the style

#: An HEIC file's first box, as an iPhone writes it; Pillow here cannot decode the rest.
HEIC_BYTES = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200)
UNREADABLE = "I could not read this image. Please send a JPEG, PNG or WebP picture."

Action = Callable[[BotApiServer], Sent]


def sixteen_bit_ramp() -> Image.Image:
    """``ramp()`` as a 16-bit greyscale PNG holds it (mode I;16, 0 to 65535)."""
    deep = Image.new("I;16", (64, 48))
    deep.putdata([round(65535 * x / 63) for _ in range(48) for x in range(64)])
    return deep


def half_transparent() -> Image.Image:
    """Left half fully transparent (black underneath), right half opaque blue."""
    image = Image.new("RGBA", (64, 48), (0, 0, 0, 0))
    image.paste((*BLUE, 255), (32, 0, 64, 48))
    return image


def turned_jpeg() -> bytes:
    """A camera JPEG stored lying down (red left, blue right, 64×48), with the EXIF
    orientation 6 ("turn 90° clockwise to display"): upright it is tall, red on top."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(halves((64, 48), RED, BLUE), "JPEG", quality=95, exif=exif.tobytes())


def sent_as_png(fmt: str) -> Action:
    """The style in ``fmt``, sent as a file that calls itself a PNG: only JPEG, PNG and WebP
    are decoded, whatever the sender says."""
    return lambda t: t.user_sends_document(ALICE, encode(STYLE, fmt), "style.png", "image/png")


# ---- refused: a short answer, then what the bot still needs ---------------------------------

REFUSED: dict[str, tuple[Action, str]] = {
    "text": (lambda t: t.user_sends_text(ALICE, "paint it blue please"), texts.NOT_A_PICTURE),
    "sticker": (lambda t: t.user_sends_media(ALICE, "sticker"), texts.STICKER),
    "voice": (lambda t: t.user_sends_media(ALICE, "voice"), texts.AUDIO),
    "music file": (lambda t: t.user_sends_media(ALICE, "audio"), texts.AUDIO),
    "video": (lambda t: t.user_sends_media(ALICE, "video"), texts.VIDEO),
    "round video note": (lambda t: t.user_sends_media(ALICE, "video_note"), texts.VIDEO),
    "gif": (lambda t: t.user_sends_media(ALICE, "animation"), texts.ANIMATION),
    "location": (lambda t: t.user_shares(ALICE, "location"), texts.NOT_A_PICTURE),
    "contact": (lambda t: t.user_shares(ALICE, "contact"), texts.NOT_A_PICTURE),
    "poll": (lambda t: t.user_shares(ALICE, "poll"), texts.NOT_A_PICTURE),
    "dice": (lambda t: t.user_shares(ALICE, "dice"), texts.NOT_A_PICTURE),
    "unknown command": (lambda t: t.user_sends_command(ALICE, "/paint"), texts.UNKNOWN_COMMAND),
    "pdf": (
        lambda t: t.user_sends_document(ALICE, b"%PDF-1.4 not a picture", "notes.pdf"),
        texts.NOT_AN_IMAGE_FILE,
    ),
    "tiff file": (
        lambda t: t.user_sends_document(ALICE, encode(STYLE, "TIFF"), "scan.tiff"),
        texts.NOT_AN_IMAGE_FILE,
    ),
    "tiff sent as image/png": (sent_as_png("TIFF"), UNREADABLE),  # judged by content
    "bmp sent as image/png": (sent_as_png("BMP"), UNREADABLE),
    "gif sent as image/png": (sent_as_png("GIF"), UNREADABLE),
    "heic file": (
        lambda t: t.user_sends_document(ALICE, HEIC_BYTES, "IMG_0001.HEIC", "image/heic"),
        texts.HEIC,
    ),
    "heic named .jpg": (
        lambda t: t.user_sends_document(ALICE, HEIC_BYTES, "IMG_0001.jpg"),
        texts.HEIC,
    ),
    "broken png": (
        lambda t: t.user_sends_document(ALICE, b"\x89PNG\r\n\x1a\n broken", "broken.png"),
        UNREADABLE,
    ),
    "text named .jpg": (
        lambda t: t.user_sends_document(ALICE, b"just some notes, honestly", "notes.jpg"),
        UNREADABLE,
    ),
    "empty file": (lambda t: t.user_sends_document(ALICE, b"", "empty.png"), UNREADABLE),
    "tiny photo": (
        lambda t: t.user_sends_photo(ALICE, encode(gradient(16, 16))),
        "This image is too small (16×16); it needs at least 32 pixels on each side.",
    ),
    "one pixel wide": (
        lambda t: t.user_sends_document(ALICE, encode(Image.new("RGB", (1, 100))), "line.png"),
        "This image is too small (1×100); it needs at least 32 pixels on each side.",
    ),
    "10000×100 strip": (
        lambda t: t.user_sends_document(
            ALICE, encode(Image.new("RGB", (10_000, 100), RED)), "strip.png"
        ),
        "This image is too long and thin (10000×100); one side can be at most 10 times "
        "the other. Please crop it.",
    ),
    "64 megapixels": (
        lambda t: t.user_sends_document(ALICE, png_claiming(8000, 8000), "huge.png"),
        "This image is too large (8000×8000); please send one under 50 megapixels.",
    ),
    "16 MP webp": (  # WebP decodes through 16 bytes a pixel: over the memory budget
        lambda t: t.user_sends_document(ALICE, webp_claiming(4000, 4000), "big.webp"),
        "This image is too large (4000×4000); please send one under 12 megapixels.",
    ),
    "decompression bomb": (
        lambda t: t.user_sends_document(ALICE, png_claiming(60_000, 60_000), "bomb.png"),
        "This image is too large; please send one under 50 megapixels.",
    ),
    "file over 20 MB": (
        lambda t: t.user_sends_document(
            ALICE, encode(STYLE), "huge.png", file_size_override=TOO_BIG
        ),
        texts.too_big(ENGLISH, 20),
    ),
}


@pytest.mark.parametrize("kind", REFUSED)
async def test_anything_else_gets_a_short_answer_and_the_photo_is_kept(
    kind: str, bot: BotApplication, telegram: BotApiServer
):
    send, reason = REFUSED[kind]
    await send_content(telegram)

    sent = send(telegram)
    reply = await telegram.await_message(ALICE, after=sent)
    assert reply.body == texts.with_hint(reason, texts.NEED_STYLE)  # and what it still needs

    await assert_content_kept(telegram)


async def test_a_file_over_the_limit_is_never_downloaded(
    bot: BotApplication, telegram: BotApiServer
):
    sent = telegram.user_sends_document(
        ALICE, encode(gradient()), "huge.png", file_size_override=TOO_BIG
    )
    await telegram.await_message(ALICE, after=sent, contains="too big")
    assert telegram.calls("getFile") == []
    assert telegram.downloaded_file_ids() == []


async def test_an_heic_file_is_answered_without_downloading_it(
    bot: BotApplication, telegram: BotApiServer
):
    sent = telegram.user_sends_document(ALICE, HEIC_BYTES, "IMG_0002.heic", "image/heic")
    assert (await telegram.await_message(ALICE, after=sent)).body.startswith(texts.HEIC)
    assert telegram.downloaded_file_ids() == []


# ---- accepted: the picture becomes the style, shown as the user sees it ---------------------

ACCEPTED: dict[str, tuple[Action, Image.Image]] = {
    "16-bit png": (
        lambda t: t.user_sends_document(ALICE, encode(sixteen_bit_ramp()), "deep.png"),
        ramp(),
    ),
    "greyscale jpeg": (
        lambda t: t.user_sends_document(ALICE, encode(ramp(), "JPEG", quality=95), "grey.jpg"),
        ramp(),
    ),
    "transparent png": (  # flattened onto white, as any viewer shows it, not onto black
        lambda t: t.user_sends_document(ALICE, encode(half_transparent()), "cutout.png"),
        halves((64, 48), WHITE, BLUE),
    ),
    "cmyk jpeg": (
        lambda t: t.user_sends_document(
            ALICE, encode(STYLE.convert("CMYK"), "JPEG", quality=95), "print.jpg"
        ),
        STYLE,
    ),
    "progressive jpeg": (
        lambda t: t.user_sends_document(
            ALICE, encode(STYLE, "JPEG", quality=95, progressive=True), "web.jpg"
        ),
        STYLE,
    ),
    "exif-rotated jpeg": (
        lambda t: t.user_sends_document(ALICE, turned_jpeg(), "camera.jpg"),
        halves((48, 64), RED, BLUE, across=True),  # tall, red on top
    ),
    "png named .jpg": (lambda t: t.user_sends_document(ALICE, encode(STYLE), "x.jpg"), STYLE),
    "10:1 panorama": (
        lambda t: t.user_sends_document(ALICE, encode(waves(320, 32)), "pano.png"),
        waves(320, 32),
    ),
    "photo with a caption": (
        lambda t: t.user_sends_photo(ALICE, encode(STYLE), caption="make it look like this!"),
        STYLE,
    ),
    "forwarded photo": (
        lambda t: t.user_sends_photo(ALICE, encode(STYLE), forwarded_from=BOB),
        STYLE,
    ),
}


@pytest.mark.parametrize("kind", ACCEPTED)
async def test_odd_but_usable_pictures_are_taken_as_the_user_sees_them(
    kind: str, bot: BotApplication, telegram: BotApiServer
):
    send, seen = ACCEPTED[kind]
    await send_content(telegram)

    sent = send(telegram)
    pair = await telegram.await_message(ALICE, after=sent)
    assert (pair.kind, pair.body) == ("photo", texts.PAIR_READY)
    preview = pair.image()
    assert_shows(preview, 0, CONTENT)  # the photo is kept
    assert_shows(preview, 1, seen)


@pytest.mark.slow
async def test_a_rotated_camera_photo_is_painted_upright(
    bot: BotApplication, telegram: BotApiServer
):
    sent = telegram.user_sends_document(ALICE, turned_jpeg(), "camera.jpg")
    assert (await telegram.await_message(ALICE, after=sent)).body == texts.GOT_CONTENT
    sent = telegram.user_sends_photo(ALICE, encode(STYLE))
    pair = await telegram.await_message(ALICE, after=sent, kind="photo")

    await press_strength(telegram, ALICE, pair, "Medium")
    result = await telegram.await_message(ALICE, after=sent, kind="document", timeout=120)
    painted = result.image().convert("RGB")
    assert painted.size == (48, 64)  # tall, as the camera held it
    top, bottom = painted.getpixel((24, 8)), painted.getpixel((24, 56))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > top[2] and bottom[2] > bottom[0]  # still red above blue, though painted


# ---- ignored: not meant for the bot, so no answer and nothing downloaded --------------------

Step = Callable[[BotApiServer, Sent], Awaitable[Sent]]


def doing(action: Action) -> Step:
    """A case that is one plain user action (the content photo's message is not needed)."""

    async def step(telegram: BotApiServer, content: Sent) -> Sent:
        return action(telegram)

    return step


async def edit_the_photo(telegram: BotApiServer, content: Sent) -> Sent:
    """Alice swaps her photo for another picture in Telegram's editor: not a second picture."""
    return telegram.user_edits_message(ALICE, content.message_id, photo=encode(STYLE))


async def edit_the_caption(telegram: BotApiServer, content: Sent) -> Sent:
    return telegram.user_edits_message(ALICE, content.message_id, caption="sunset, 2019")


async def edit_a_text(telegram: BotApiServer, content: Sent) -> Sent:
    sent = telegram.user_sends_text(ALICE, "paint it blue please")
    await telegram.await_message(ALICE, after=sent, contains=texts.NOT_A_PICTURE)
    return telegram.user_edits_message(ALICE, sent.message_id, text="paint it red please")


async def another_bot_replies_with_a_photo(telegram: BotApiServer, content: Sent) -> Sent:
    """Bots never see each other's messages on Telegram; if one did, it is still ignored."""
    sent = telegram.user_sends_command(ALICE, "/start", mention_bot=True, **in_group(GROUP))
    intro = await telegram.await_message(GROUP, after=sent)
    return telegram.user_sends_photo(
        HELPER_BOT,
        encode(STYLE),
        from_bot=True,
        reply_to_message_id=intro.message_id,
        **in_group(GROUP),
    )


IGNORED: dict[str, Step] = {
    "edited photo": edit_the_photo,
    "edited caption": edit_the_caption,
    "edited text": edit_a_text,
    "channel photo": doing(lambda t: t.channel_posts(CHANNEL, photo=encode(STYLE))),
    "channel command naming the bot": doing(
        lambda t: t.channel_posts(CHANNEL, text="/start@stylebot_test_bot")
    ),
    "photo from another bot": another_bot_replies_with_a_photo,
    "group photo not addressed": doing(
        lambda t: t.user_sends_photo(ALICE, encode(STYLE), **in_group(GROUP))
    ),
    "group command for another bot": doing(
        lambda t: t.user_sends_command(ALICE, "/start@other_bot", **in_group(GROUP))
    ),
}


Handled = Callable[[Sent], Awaitable[None]]


@pytest.fixture
def handled(bot: BotApplication) -> Handled:
    """``await handled(sent)`` returns once the bot is done with that update, whatever it did.

    ``assert_no_reply``'s barrier proves this only for the barrier's own user: the bot handles
    different users' updates side by side, and a channel post has no user at all. A handler
    in a group after all others sees each update once the bot's own handlers have finished.
    """
    seen: set[int] = set()

    async def note(update: Update, context: Context) -> None:
        seen.add(update.update_id)

    bot.add_handler(TypeHandler(Update, note), group=1000)

    async def wait(sent: Sent) -> None:
        update_id = sent.update["update_id"]
        for _ in range(500):  # 10 s
            if update_id in seen:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"the bot never finished with update {update_id}")

    return wait


@pytest.mark.parametrize("kind", IGNORED)
async def test_what_is_not_for_the_bot_gets_no_answer_and_changes_nothing(
    kind: str, bot: BotApplication, telegram: BotApiServer, handled: Handled
):
    content = await send_content(telegram)
    downloaded = telegram.downloaded_file_ids()

    sent = await IGNORED[kind](telegram, content)
    await handled(sent)
    await assert_no_reply(telegram, ALICE, sent)
    if sent.chat_id != ALICE:  # a group or a channel: quiet there too
        later = [m.body for m in telegram.messages(sent.chat_id) if m.seq > sent.marker]
        assert later == [], f"answered in chat {sent.chat_id}"
    assert telegram.downloaded_file_ids() == downloaded  # nothing fetched, so nothing kept

    await assert_content_kept(telegram)  # an edited photo did not replace it either


def test_the_corpus_has_at_least_25_distinct_cases():
    names = [*REFUSED, *ACCEPTED, *IGNORED]
    assert len(set(names)) == len(names) >= 25


# ---- helpers --------------------------------------------------------------------------------


async def send_content(telegram: BotApiServer) -> Sent:
    """Alice sends her photo; the bot takes it as the content."""
    sent = telegram.user_sends_photo(ALICE, encode(CONTENT))
    assert (await telegram.await_message(ALICE, after=sent)).body == texts.GOT_CONTENT
    return sent


async def assert_content_kept(telegram: BotApiServer) -> None:
    """Alice's next picture makes the pair, with her photo from before on the left."""
    sent = telegram.user_sends_photo(ALICE, encode(stripes()))
    pair = await telegram.await_message(ALICE, after=sent)
    assert (pair.kind, pair.body) == ("photo", texts.PAIR_READY)
    assert_shows(pair.image(), 0, CONTENT)


def assert_shows(preview: Image.Image, index: int, expected: Image.Image) -> None:
    """Cell ``index`` of the pair preview (0: the photo, 1: the style) shows ``expected``:
    same size and orientation (the bot centres each picture in a square cell), same colours
    give or take JPEG's rounding."""
    side = media.THUMBNAIL_SIDE
    width, height = expected.size
    left = index * (side + media.PREVIEW_GAP) + (side - width) // 2
    top = (side - height) // 2
    shown = preview.convert("RGB").crop((left, top, left + width, top + height))
    difference = ImageChops.difference(shown, expected.convert("RGB"))
    mean = sum(ImageStat.Stat(difference).mean) / 3
    assert mean < 8, f"cell {index} differs from the picture sent by {mean:.1f} on average"
