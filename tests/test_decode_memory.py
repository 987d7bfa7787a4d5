"""Decoding is bounded in memory: per picture (``pictures``' budget, reduced before converted)
and in number (the bot decodes at most ``DECODES_AT_ONCE`` pictures at a time).

The peak is measured in a fresh process, as its maximum resident set size after the
imports and one small picture, then after the big one: what decoding that picture at the
bot's size added at its peak, whatever it freed afterwards.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from bot import media
from tests.pictures import big_png, encode, gradient

#: What decoding a 7000×7000 RGBA PNG (49 MP, about 480 KB) at the bot's size may add to the
#: peak memory: its decoded pixels (196 MB: PNG cannot be decoded at a reduced scale) and a
#: little for the bands it is reduced in. Measured 216 MB; it was 980 MB when the picture
#: was converted at full size (RGBA copy, white background, composite, RGB).
PEAK_BOUND_BYTES = 300_000_000

MEASURE = """
import io, json, resource, sys
from pathlib import Path
from PIL import Image
import pictures

def peak() -> int:
    kilobytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kilobytes * (1 if sys.platform == "darwin" else 1024)  # macOS says bytes

side = int(sys.argv[2])
small = io.BytesIO()
Image.new("RGBA", (64, 64)).save(small, "PNG")
pictures.load_image(small.getvalue(), max_side=side)  # the plugins, loaded before measuring
data = Path(sys.argv[1]).read_bytes()
before = peak()
image = pictures.load_image(data, max_side=side)
print(json.dumps({"grew": peak() - before, "size": image.size}))
"""


@pytest.fixture(scope="module")
def huge_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("huge") / "huge.png"
    path.write_bytes(big_png(7000, 7000))
    return path


def test_a_huge_png_is_decoded_within_the_memory_bound(huge_png: Path):
    assert huge_png.stat().st_size < 1_000_000  # small to send, 196 MB decoded
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(huge_png), str(media.DECODE_SIDE)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parent.parent,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout)
    assert measured["size"] == [1167, 1167]  # taken: 7000 px reduced 6 times, about 1024
    grew = measured["grew"]
    assert grew < PEAK_BOUND_BYTES, f"decoding it took {grew / 1e6:.0f} MB at its peak"


async def test_the_bot_decodes_at_most_a_few_pictures_at_once(monkeypatch, tmp_path: Path):
    lock = threading.Lock()
    running, most = 0, 0

    def slow_decode(data: bytes) -> Image.Image:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.1)
        with lock:
            running -= 1
        return gradient()

    monkeypatch.setattr(media, "_validated_thumbnail", slow_decode)
    data = encode(gradient())
    pictures = [media.store_picture(data, tmp_path / f"{index}.png") for index in range(6)]
    await asyncio.gather(*pictures)
    assert most == media.DECODES_AT_ONCE == 2
