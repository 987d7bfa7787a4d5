"""Pictures in and out: download and validate what a user sent, make previews.

Decoding and encoding run in worker threads (``asyncio.to_thread``): a 20 MB photo must not
stall other chats. Validation is ``pictures.load_image`` (Pillow only: the chat side never
loads torch), which refuses undecodable, tiny and huge images and any format but JPEG, PNG
and WebP (``ImageError``); its ``code`` and ``params`` are worded here in the user's language
(``texts.image_problem``). A decode may take up to ``pictures.DECODE_BUDGET_BYTES``, so at
most ``DECODES_AT_ONCE`` run at once, however many people send huge pictures together.
"""

from __future__ import annotations

import asyncio
import io
import logging
import weakref
from pathlib import Path

import aiofiles
from PIL import Image

from pictures import ImageError, is_heif, load_image

from . import texts
from .i18n import Translator
from .messenger import TooBig, Trouble
from .sessions import Picture
from .turns import IncomingImage

logger = logging.getLogger(__name__)

#: Image files accepted as files (documents, attachments), with the suffix they are stored under.
IMAGE_MIME_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
DECODE_SIDE = 1024  # pictures are decoded or reduced to about this size: fast, still faithful
THUMBNAIL_SIDE = 320
PREVIEW_GAP = 8
JPEG_QUALITY = 90
#: Pictures decoded at the same time: each may hold up to pictures.DECODE_BUDGET_BYTES
#: (200 MB) while it is reduced, so this bounds the bot's decoding memory at about 400 MB;
#: two keep a second user from waiting behind one huge picture.
DECODES_AT_ONCE = 2
#: One semaphore per event loop (an asyncio one belongs to the loop that first waits on it).
_decode_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


class PictureRefused(Exception):
    """A picture the bot cannot use; the message says why, in the user's language."""


async def fetch_picture(image: IncomingImage, path: Path, limit_mb: int, t: Translator) -> Picture:
    """Download, validate and store one picture at ``path``, or raise PictureRefused. The
    front-end's download waits out passing trouble, as a reply would: the user sent the
    picture once, and should not have to send it again."""
    limit = limit_mb * 1024 * 1024
    if image.size is not None and image.size > limit:
        raise PictureRefused(texts.too_big(t, limit_mb))  # the platform would refuse: don't try
    try:
        data = await image.download()
    except TooBig as error:  # the size was not announced
        logger.info("Download refused: %s", error)
        raise PictureRefused(texts.too_big(t, limit_mb)) from error
    except Trouble as error:
        logger.warning("Download failed: %s", error)
        raise PictureRefused(t(texts.DOWNLOAD_FAILED)) from error
    if len(data) > limit:
        raise PictureRefused(texts.too_big(t, limit_mb))
    if is_heif(data):  # an iPhone photo under a .jpg name, say: tell the user what it is
        raise PictureRefused(t(texts.HEIC))
    try:
        return await store_picture(data, path)
    except ImageError as error:
        raise PictureRefused(texts.image_problem(t, error.code, error.params)) from error


async def store_picture(data: bytes, path: Path) -> Picture:
    """Validate ``data`` as an image (raises ``ImageError``), then write it and its thumbnail."""
    picture = Picture(path)
    async with _decode_slot():
        thumbnail = await asyncio.to_thread(_validated_thumbnail, data)
    await asyncio.to_thread(thumbnail.save, picture.thumbnail_path, "PNG")
    async with aiofiles.open(path, "wb") as file:
        await file.write(data)
    return picture


def _decode_slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _decode_slots.get(loop)
    if slots is None:
        slots = _decode_slots[loop] = asyncio.Semaphore(DECODES_AT_ONCE)
    return slots


def _validated_thumbnail(data: bytes) -> Image.Image:
    image = load_image(data, max_side=DECODE_SIDE)
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    return image


async def pair_preview(content: Picture, style: Picture) -> bytes:
    """Content and style side by side, as a JPEG."""
    return await asyncio.to_thread(_side_by_side, content, style)


def _side_by_side(*pictures: Picture) -> bytes:
    # Each picture is centred in a square cell, so any aspect ratio makes a sendable photo.
    cell = THUMBNAIL_SIDE
    canvas = Image.new("RGB", (2 * cell + PREVIEW_GAP, cell), (255, 255, 255))
    for index, picture in enumerate(pictures):
        with Image.open(picture.thumbnail_path) as thumbnail:
            x = index * (cell + PREVIEW_GAP) + (cell - thumbnail.width) // 2
            canvas.paste(thumbnail, (x, (cell - thumbnail.height) // 2))
    return _encode(canvas, "JPEG", quality=JPEG_QUALITY)


async def photo_of(png: bytes) -> bytes:
    """A JPEG of a finished picture, for the photo shown in the chat."""
    return await _jpeg_of(png, quality=JPEG_QUALITY)


async def full_jpeg(png: bytes) -> bytes:
    """A finished picture as close as a JPEG gets (quality 95, colour at full resolution), for
    a chat whose upload limit the PNG is over."""
    return await _jpeg_of(png, quality=95, subsampling=0)


async def _jpeg_of(png: bytes, **params: object) -> bytes:
    def convert() -> bytes:
        with Image.open(io.BytesIO(png)) as image:
            return _encode(image.convert("RGB"), "JPEG", **params)

    return await asyncio.to_thread(convert)


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()
