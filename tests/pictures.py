"""Small procedural images for tests: no test may depend on files outside the repo."""

from __future__ import annotations

import io
import math
import random
import struct
import zlib
from collections.abc import Callable

from PIL import Image

RGB = tuple[int, int, int]


def paint(width: int, height: int, colour_at: Callable[[int, int], RGB]) -> Image.Image:
    """An RGB image whose pixel (x, y) is ``colour_at(x, y)``."""
    image = Image.new("RGB", (width, height))
    image.putdata([colour_at(x, y) for y in range(height) for x in range(width)])
    return image


def gradient(width: int = 64, height: int = 48) -> Image.Image:
    """A smooth photo-like picture: colour ramps with a soft disc."""

    def colour_at(x: int, y: int) -> RGB:
        disc = 80 if (x - width / 2) ** 2 + (y - height / 2) ** 2 < (height / 3) ** 2 else 0
        return int(255 * x / width), int(255 * y / height), 60 + disc

    return paint(width, height, colour_at)


def stripes(width: int = 64, height: int = 64, period: int = 8) -> Image.Image:
    """A bold 'painting': diagonal red/yellow/blue stripes."""
    palette = [(200, 30, 30), (240, 200, 40), (30, 60, 180)]
    return paint(width, height, lambda x, y: palette[((x + y) // period) % len(palette)])


def checkerboard(width: int = 64, height: int = 64, cell: int = 8) -> Image.Image:
    def colour_at(x: int, y: int) -> RGB:
        on = (x // cell + y // cell) % 2
        return (230, 230, 230) if on else (20, 20, 20)

    return paint(width, height, colour_at)


def noise(width: int = 64, height: int = 64, seed: int = 0) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes(
        "RGB", (width, height), bytes(rng.randrange(256) for _ in range(width * height * 3))
    )


def waves(width: int = 64, height: int = 64) -> Image.Image:
    """Swirls: a second, different style."""

    def colour_at(x: int, y: int) -> RGB:
        value = math.sin(x / 3.0 + 2 * math.sin(y / 5.0))
        return int(40 + 60 * value), int(120 + 100 * value), 200

    return paint(width, height, colour_at)


def encode(image: Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def ramp(width: int = 64, height: int = 48) -> Image.Image:
    """A grey ramp, black at the left edge to white at the right: shows a wrong tone curve."""
    image = Image.new("L", (width, height))
    image.putdata([round(255 * x / (width - 1)) for _ in range(height) for x in range(width)])
    return image


def halves(size: tuple[int, int], first: RGB, second: RGB, *, across: bool = False) -> Image.Image:
    """Two colours: ``first`` on the left half (on the top half if ``across``), ``second``
    on the other: shows a picture turned or mirrored."""
    width, height = size
    image = Image.new("RGB", size, second)
    image.paste(first, (0, 0, width, height // 2) if across else (0, 0, width // 2, height))
    return image


def png_claiming(width: int, height: int) -> bytes:
    """A valid 1-bit PNG whose header claims ``width``×``height`` over a tiny body: the
    shape of a decompression bomb, cheap to make and harmless unless decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    body = zlib.compress(b"\x00" * (1 + width // 8) * 16)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small progressive 4:4:4 JPEG whose frame header claims ``width``×``height``:
    decoding it would fail, but first libjpeg would hold 6 bytes of coefficients a pixel."""
    data = bytearray(encode(gradient(), "JPEG", progressive=True, subsampling=0))
    at = 2  # after the start-of-image marker, walk the segments to the frame header
    while data[at : at + 2] != b"\xff\xc2":
        at += 2 + struct.unpack(">H", data[at + 2 : at + 4])[0]
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)  # after length and precision
    return bytes(data)


def webp_claiming(width: int, height: int) -> bytes:
    """A small lossy WebP whose key frame claims ``width``×``height``: decoding it would
    fail, but first libwebp and Pillow would hold 16 bytes a pixel of frame buffers."""
    data = bytearray(encode(gradient(), "WEBP"))
    start = data.index(b"\x9d\x01\x2a")  # the VP8 key frame's start code; its size follows
    data[start + 3 : start + 7] = struct.pack("<HH", width, height)
    return bytes(data)


def big_png(width: int, height: int, *, noisy_side: int = 256, seed: int = 0) -> bytes:
    """An opaque orange RGBA PNG with a square of noise in its corner (so it is a few
    hundred KB, not a few KB), written a row at a time: the test process never holds the
    ``width`` × ``height`` × 4 bytes that decoding it takes."""
    rng = random.Random(seed)
    orange = b"\xff\x80\x00\xff"
    plain_row = b"\x00" + orange * width  # each row starts with its filter type, 0: none
    compressor = zlib.compressobj()
    body = []
    for y in range(height):
        if y < noisy_side:
            row = b"\x00" + rng.randbytes(4 * noisy_side) + orange * (width - noisy_side)
        else:
            row = plain_row
        body.append(compressor.compress(row))
    body.append(compressor.flush())

    def chunk(kind: bytes, content: bytes) -> bytes:
        crc = zlib.crc32(kind + content) & 0xFFFFFFFF
        return struct.pack(">I", len(content)) + kind + content + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(body)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks
