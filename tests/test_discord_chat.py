"""The conversation in a Discord DM, end to end: the real discord.py client against the fake
Discord. A photo, a style, a strength; one job card edited in place; the result as a picture
and a lossless PNG with its buttons; Swap, Cancel, Lighter, Stronger, New pair, Making-of.

One test paints with the real (tiny) engine; the others with test painters, as the painting
itself is not their point.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat

from bot import texts
from jobqueue import Strength
from tests.discord_chat import (
    PHOTO,
    STYLE,
    RecordingPainter,
    bot_on,
    discord_bot,
    fake_discord,
    labels,
    note_for,
    png,
    press,
    progress_after,
    result_after,
    results_after,
    send_pair,
)
from tests.discordapi import DiscordApiServer, Upload
from tests.painters import SteppedPainter
from tests.pictures import checkerboard, encode, gradient, noise, stripes, waves

RESULT_TIMEOUT = 60
#: A tiny GIF: what a painter's making-of is.
FILM = encode(gradient(16, 16), "GIF")


@pytest.fixture
def server() -> Iterator[DiscordApiServer]:
    with fake_discord() as fake:
        yield fake


def inverted(upload: Upload) -> Image.Image:
    """What the recording painter makes of a content picture."""
    with Image.open(io.BytesIO(upload.data)) as image:
        return ImageOps.invert(image.convert("RGB"))


async def test_a_dm_pair_painted_by_the_engine_and_delivered(
    server: DiscordApiServer, tmp_path: Path
):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    async with discord_bot(server, tmp_path / "data"):
        sent = server.user_sends_message(alice, dm, attachments=[PHOTO])
        got = await server.await_message(dm, after=sent, contains=texts.GOT_CONTENT)
        assert labels(got) == [texts.GALLERY_BUTTON]
        sent = server.user_sends_message(alice, dm, attachments=[STYLE])
        pair = await server.await_message(dm, after=sent, contains=texts.PAIR_READY)
        assert pair.attachments, "the pair preview is a picture"
        assert labels(pair) == ["Light", "• Medium", "Strong", texts.SWAP_BUTTON, "✕ Cancel"]

        pressed = press(server, alice, pair, "Light")
        progress = await progress_after(server, dm, pressed)
        await server.await_edit(dm, progress.id, contains="%", timeout=RESULT_TIMEOUT)
        done = await server.await_edit(dm, progress.id, contains="Done", timeout=RESULT_TIMEOUT)
        assert done.buttons == [], "the job card's Stop button is taken away"
        photo, file = await result_after(server, dm, pressed, timeout=RESULT_TIMEOUT)

    assert photo.content.startswith("Light style · ")
    assert file.content == texts.RESULT_FILE
    assert [a.filename for a in file.attachments] == ["stylized-light.png"]
    lossless = file.image()
    assert lossless.format == "PNG"
    assert lossless.size == photo.image().size
    assert labels(file) == [texts.STRONGER_BUTTON, texts.NEW_PAIR_BUTTON, texts.MAKING_OF_BUTTON]
    assert len(results_after(server, dm, pressed.marker)) == 2, "one result, sent once"


async def test_a_result_over_the_upload_limit_comes_as_a_full_size_jpeg_with_its_buttons(
    tmp_path: Path,
):
    noisy = noise(128, 128)  # its PNG (49 kB) is over the limit, the best JPEG (40 kB) not
    with fake_discord(upload_limit=45_000) as server:
        alice = server.add_user("alice")
        dm = server.dm(alice)
        async with bot_on(server, tmp_path):
            pair = await send_pair(server, alice, png("noise.png", noisy))
            pressed = press(server, alice, pair, "Light")
            photo, file = await result_after(server, dm, pressed, timeout=RESULT_TIMEOUT)
            stronger = press(server, alice, file, texts.STRONGER_BUTTON)  # its buttons work
            _, medium = await result_after(server, dm, stronger, timeout=RESULT_TIMEOUT)

    assert photo.content.startswith("Light style · 128×128 px")
    assert file.content == texts.RESULT_FILE_JPEG
    assert [a.filename for a in file.attachments] == ["stylized-light.jpg"]
    picture = file.image()
    assert (picture.format, picture.size) == ("JPEG", (128, 128))
    painted = ImageOps.invert(noisy.convert("RGB"))  # what the test painter makes of it
    assert max(ImageStat.Stat(ImageChops.difference(picture, painted)).mean) < 5  # q95, 4:4:4
    assert labels(file) == [texts.STRONGER_BUTTON, texts.NEW_PAIR_BUTTON]
    assert len(results_after(server, dm, pressed.marker)) == 4, "each result sent once"
    assert [a.filename for a in medium.attachments] == ["stylized-medium.jpg"]


async def test_one_job_card_edited_in_place_from_queued_to_percent_to_done(
    server: DiscordApiServer, tmp_path: Path
):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    painter = SteppedPainter(steps=4, preview_at=2, film=FILM)
    async with bot_on(server, tmp_path, painter, preview_interval=0.01):
        pair = await send_pair(server, alice)
        pressed = press(server, alice, pair, "Medium")
        assert (await note_for(server, pressed)).content == texts.QUEUED_NOTE
        progress = await progress_after(server, dm, pressed)
        assert progress.content in ("Queued — you're next.", texts.STARTING)
        assert progress.attachments[0].data == pair.attachments[0].data, "the card shows the pair"
        assert labels(progress) == [texts.STOP_BUTTON]

        painter.allow()
        quarter = await server.await_edit(dm, progress.id, contains="Painting… 25%")
        assert quarter.content.endswith("· stage 1 of 1 · about 0 s left")
        assert labels(quarter) == [texts.STOP_BUTTON]
        painter.allow()
        preview = await server.await_edit(
            dm, progress.id, where=lambda m: m.attachments[0].data == b"jpeg-2"
        )
        assert "50%" in preview.content and labels(preview) == [texts.STOP_BUTTON]
        painter.allow(2)
        done = await server.await_edit(dm, progress.id, contains="Done in ")
        photo, file = await result_after(server, dm, pressed)

    cards = [
        m.id
        for m in server.messages(dm)
        if any("Queued" in v.content or "Painting" in v.content for v in m.versions)
    ]
    assert cards == [progress.id], "one job card, edited in place"
    assert done.buttons == []
    assert photo.content.startswith("Medium style · 8×8 px")
    assert [a.filename for a in file.attachments] == ["stylized-medium.png"]
    assert labels(file) == [
        texts.LIGHTER_BUTTON,
        texts.STRONGER_BUTTON,
        texts.NEW_PAIR_BUTTON,
        texts.MAKING_OF_BUTTON,
    ]


async def test_lighter_and_stronger_paint_the_same_pair_again(
    server: DiscordApiServer, tmp_path: Path
):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    painter = RecordingPainter()
    async with bot_on(server, tmp_path, painter):
        pair = await send_pair(server, alice)
        pressed = press(server, alice, pair, "Medium")
        _, medium = await result_after(server, dm, pressed)

        stronger = press(server, alice, medium, texts.STRONGER_BUTTON)
        _, strong = await result_after(server, dm, stronger)
        assert [a.filename for a in strong.attachments] == ["stylized-strong.png"]
        assert labels(strong)[:2] == [texts.LIGHTER_BUTTON, texts.NEW_PAIR_BUTTON]

        lighter = press(server, alice, medium, texts.LIGHTER_BUTTON)
        _, light = await result_after(server, dm, lighter)
        assert [a.filename for a in light.attachments] == ["stylized-light.png"]

    assert [order.strength for order in painter.painted] == [
        Strength.MEDIUM,
        Strength.STRONG,
        Strength.LIGHT,
    ]
    assert {pictures for pictures in painter.seen} == {(PHOTO.data, STYLE.data)}


async def test_the_making_of_is_sent_under_its_result(server: DiscordApiServer, tmp_path: Path):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    painter = SteppedPainter(steps=1, film=FILM)
    painter.allow(1)
    async with bot_on(server, tmp_path, painter):
        pair = await send_pair(server, alice)
        _, result = await result_after(server, dm, press(server, alice, pair, "Strong"))
        assert labels(result) == [texts.LIGHTER_BUTTON, texts.NEW_PAIR_BUTTON, "🎬 Making-of"]

        asked = press(server, alice, result, "Making-of")
        film = await server.await_message(dm, after=asked, where=lambda m: bool(m.attachments))

    assert film.content == texts.MAKING_OF_CAPTION
    assert [(a.filename, a.data) for a in film.attachments] == [("making-of.gif", FILM)]
    sent = [c for c in server.calls("create_message") if c.response["id"] == str(film.id)]
    assert int(sent[0].params["message_reference"]["message_id"]) == result.id, "under it"


async def test_new_pair_forgets_the_pictures_and_asks_for_a_photo(
    server: DiscordApiServer, tmp_path: Path
):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    painter = RecordingPainter()
    async with bot_on(server, tmp_path, painter):
        pair = await send_pair(server, alice)
        _, result = await result_after(server, dm, press(server, alice, pair, "Light"))

        asked = press(server, alice, result, texts.NEW_PAIR_BUTTON)
        await server.await_message(dm, after=asked, contains=texts.NEW_PAIR)
        sent = server.user_sends_message(alice, dm, attachments=[png("next.png", noise())])
        await server.await_message(dm, after=sent, contains=texts.GOT_CONTENT)
        old_pair = press(server, alice, pair, "Strong")  # the old pair's buttons are stale
        assert (await note_for(server, old_pair)).content == texts.STALE_BUTTON

    assert len(painter.painted) == 1


async def test_swap_shows_the_pair_swapped_in_place_and_paints_it_so(
    server: DiscordApiServer, tmp_path: Path
):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    painter = RecordingPainter()
    async with bot_on(server, tmp_path, painter):
        pair = await send_pair(server, alice)
        swapped = press(server, alice, pair, texts.SWAP_BUTTON)
        assert (await note_for(server, swapped)).content == texts.SWAPPED_NOTE
        shown = await server.await_edit(dm, pair.id, contains=texts.PAIR_SWAPPED)
        assert shown.attachments[0].data != pair.attachments[0].data, "a new picture"
        assert labels(shown) == labels(pair)

        _, result = await result_after(server, dm, press(server, alice, shown, "Light"))

    assert painter.seen == [(STYLE.data, PHOTO.data)]
    assert result.image().convert("RGB").tobytes() == inverted(STYLE).tobytes()


async def test_cancel_on_the_pair_forgets_both_pictures(server: DiscordApiServer, tmp_path: Path):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    painter = RecordingPainter()
    async with bot_on(server, tmp_path, painter):
        pair = await send_pair(server, alice)
        dropped = press(server, alice, pair, "✕ Cancel")
        await server.await_message(dm, after=dropped, contains=texts.PAIR_DROPPED)
        bare = await server.await_edit(dm, pair.id, where=lambda m: m.buttons == [])
        assert bare.content == pair.content

        sent = server.user_sends_message(alice, dm, attachments=[png("again.png", waves())])
        await server.await_message(dm, after=sent, contains=texts.GOT_CONTENT)

    assert painter.seen == []


async def test_cancel_on_the_job_card_stops_the_job(server: DiscordApiServer, tmp_path: Path):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    painter = SteppedPainter(steps=3)
    async with bot_on(server, tmp_path, painter):
        pair = await send_pair(server, alice)
        pressed = press(server, alice, pair, "Light")
        card = await progress_after(server, dm, pressed)
        painter.allow()
        await server.await_edit(dm, card.id, contains="%")

        stopped = press(server, alice, card, texts.STOP_BUTTON)
        assert (await note_for(server, stopped)).content == texts.STOPPING_NOTE
        ended = await server.await_edit(dm, card.id, contains=texts.CANCELLED)
        assert ended.buttons == []
        await server.await_no_message(dm, after=stopped, within=0.5, contains="Done")

    assert painter.cancelled.is_set() and painter.painted == []
    assert results_after(server, dm, pressed.marker) == []


async def test_a_second_style_replaces_the_first(server: DiscordApiServer, tmp_path: Path):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    painter = RecordingPainter()
    second = png("second.png", checkerboard())
    async with bot_on(server, tmp_path, painter):
        await send_pair(server, alice)
        sent = server.user_sends_message(alice, dm, attachments=[second])
        replaced = await server.await_message(dm, after=sent, contains=texts.STYLE_REPLACED)
        await result_after(server, dm, press(server, alice, replaced, "Medium"))

    assert painter.seen == [(PHOTO.data, second.data)]


async def test_two_images_in_one_message_make_a_pair(server: DiscordApiServer, tmp_path: Path):
    alice = server.add_user("alice")
    dm = server.dm(alice)
    painter = RecordingPainter()
    style = png("style.png", stripes(48, 48))
    async with bot_on(server, tmp_path, painter):
        sent = server.user_sends_message(alice, dm, attachments=[PHOTO, style])
        pair = await server.await_message(dm, after=sent, contains=texts.PAIR_READY)
        await result_after(server, dm, press(server, alice, pair, "Strong"))

    assert painter.seen == [(PHOTO.data, style.data)]
