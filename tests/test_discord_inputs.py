"""Everything a user might send in a DM besides a picture we take, and what the bot makes of
it: a short, exact answer and what it still needs; the photo sent before is still the content
of the next pair. What can be told without the bytes (the type, the announced size) is
never downloaded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import texts
from bot.i18n import ENGLISH
from pictures import ImageProblem
from tests.discord_chat import (
    PHOTO,
    STYLE,
    RecordingPainter,
    bot_on,
    fake_discord,
    press,
    result_after,
)
from tests.discordapi import DiscordApiServer, Upload
from tests.pictures import encode, gradient

#: An HEIC file's first box, as an iPhone writes it; Pillow here cannot decode the rest.
HEIC_BYTES = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200)
LIMIT_MB = 2  # MAX_DOWNLOAD_MB in these tests
UNREADABLE = texts.IMAGE_PROBLEMS[ImageProblem.UNREADABLE]


@pytest.fixture
def server() -> Iterator[DiscordApiServer]:
    with fake_discord() as fake:
        yield fake


#: What is sent (None: a text message), the answer's reason, and whether the bot may look
#: at the bytes to tell.
REFUSED: dict[str, tuple[Upload | None, str, bool]] = {
    "text": (None, texts.NOT_A_PICTURE, False),
    "pdf": (
        Upload("notes.pdf", b"%PDF-1.4 notes", "application/pdf"),
        texts.NOT_AN_IMAGE_FILE,
        False,
    ),
    "zip": (
        Upload("pictures.zip", b"PK\x03\x04 zipped", "application/zip"),
        texts.NOT_AN_IMAGE_FILE,
        False,
    ),
    "gif": (Upload("cat.gif", encode(gradient(), "GIF"), "image/gif"), texts.ANIMATION, False),
    "heic-by-type": (Upload("IMG_0001.jpeg", HEIC_BYTES, "image/heic"), texts.HEIC, False),
    "heic-by-name": (  # a type that tells nothing: the name does
        Upload("IMG_0001.HEIC", HEIC_BYTES, "binary/octet-stream"),
        texts.HEIC,
        False,
    ),
    "heic-named-.jpg": (Upload("IMG_0001.jpg", HEIC_BYTES, "image/jpeg"), texts.HEIC, True),
    "video": (Upload("clip.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4"), texts.VIDEO, False),
    "audio": (Upload("song.mp3", b"ID3\x03 music", "audio/mpeg"), texts.AUDIO, False),
    "too-big": (  # as Discord announces it; the bytes themselves are small
        Upload("huge.png", STYLE.data, "image/png", claimed_size=LIMIT_MB * 1024 * 1024 + 1),
        texts.too_big(ENGLISH, LIMIT_MB),
        False,
    ),
    "broken-image": (
        Upload("broken.png", b"\x89PNG\r\n\x1a\n broken", "image/png"),
        UNREADABLE,
        True,
    ),
    "text-named-.png": (Upload("notes.png", b"just some notes", "image/png"), UNREADABLE, True),
    "tiny-image": (
        Upload("tiny.png", encode(gradient(16, 16)), "image/png"),
        "This image is too small (16×16); it needs at least 32 pixels on each side.",
        True,
    ),
}


@pytest.mark.parametrize("kind", REFUSED)
async def test_anything_else_gets_a_clear_answer_and_the_photo_is_kept(
    server: DiscordApiServer, tmp_path: Path, kind: str
):
    upload, reason, looks = REFUSED[kind]
    alice = server.add_user("alice")
    dm = server.dm(alice)
    painter = RecordingPainter()
    async with bot_on(server, tmp_path, painter, max_download_mb=LIMIT_MB):
        sent = server.user_sends_message(alice, dm, attachments=[PHOTO])
        await server.await_message(dm, after=sent, contains=texts.GOT_CONTENT)

        attachments = [] if upload is None else [upload]
        sent = server.user_sends_message(
            alice, dm, "paint it blue" if upload is None else "", attachments=attachments
        )
        answer = await server.await_message(dm, after=sent)
        assert answer.content == texts.with_hint(reason, texts.NEED_STYLE)
        await server.await_no_message(dm, after=answer.seq, within=0.1)
        bad = {int(a["id"]) for a in sent.payload["attachments"]}
        if not looks:
            assert not bad & set(server.downloads()), "told without downloading it"

        sent = server.user_sends_message(alice, dm, attachments=[STYLE])
        pair = await server.await_message(dm, after=sent, contains=texts.PAIR_READY)
        await result_after(server, dm, press(server, alice, pair, "Light"))

    assert painter.seen == [(PHOTO.data, STYLE.data)], "the photo sent before is kept"


async def test_an_unknown_command_typed_in_a_dm_points_to_help(
    server: DiscordApiServer, tmp_path: Path
):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    async with bot_on(server, tmp_path):
        sent = server.user_sends_message(alice, dm, "/paint")
        answer = await server.await_message(dm, after=sent)

    assert answer.content == texts.with_hint(texts.UNKNOWN_COMMAND, texts.NEED_CONTENT)


async def test_a_picture_beside_a_file_is_taken_and_the_file_ignored(
    server: DiscordApiServer, tmp_path: Path
):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    notes = Upload("notes.pdf", b"%PDF-1.4 notes", "application/pdf")
    async with bot_on(server, tmp_path):
        sent = server.user_sends_message(alice, dm, attachments=[notes, PHOTO])
        got = await server.await_message(dm, after=sent)
        await server.await_no_message(dm, after=got.seq, within=0.2)

    assert got.content == texts.GOT_CONTENT


async def test_a_picture_that_cannot_be_downloaded_is_asked_for_again(
    server: DiscordApiServer, tmp_path: Path
):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    async with bot_on(server, tmp_path):
        server.inject_error("cdn_download", 404)
        sent = server.user_sends_message(alice, dm, attachments=[PHOTO])
        answer = await server.await_message(dm, after=sent)

    assert answer.content == texts.with_hint(texts.DOWNLOAD_FAILED, texts.NEED_CONTENT)
    assert "Telegram" not in answer.content


@pytest.mark.parametrize("status", [503, 429])
async def test_a_download_waits_out_passing_cdn_trouble(
    server: DiscordApiServer, tmp_path: Path, status: int
):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    async with bot_on(server, tmp_path):
        if status == 429:
            server.rate_limit("cdn_download", retry_after=0.5)
        else:
            server.inject_error("cdn_download", status)
        sent = server.user_sends_message(alice, dm, attachments=[PHOTO])
        answer = await server.await_message(dm, after=sent)

    assert answer.content == texts.GOT_CONTENT
    assert [c.status for c in server.calls("cdn_download")] == [status, 200]
