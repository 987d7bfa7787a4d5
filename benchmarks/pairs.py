"""The benchmark's content/style pairs and where their images live."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from engine import load_image

DEFAULT_IMAGES = Path(__file__).resolve().parent.parent.parent / "shared" / "images"
PAIRS: dict[str, tuple[str, str]] = {
    "tubingen+starry_night": ("tubingen.jpg", "starry_night.jpg"),
    "tubingen+the_scream": ("tubingen.jpg", "the_scream.jpg"),
    "boston+starry_night": ("boston.jpg", "starry_night.jpg"),
}


class MissingImages(Exception):
    """The image folder lacks a file a pair needs; the message says which and where."""


@dataclass(frozen=True)
class Pair:
    name: str
    content_path: Path
    style_path: Path

    def load(self) -> tuple[Image.Image, Image.Image]:
        return load_image(self.content_path), load_image(self.style_path)


def resolve(names: list[str], folder: Path) -> list[Pair]:
    """Check every file exists before any minute is spent measuring."""
    unknown = [name for name in names if name not in PAIRS]
    if unknown:
        raise ValueError(f"unknown pair(s) {', '.join(unknown)}; choose from {', '.join(PAIRS)}")
    pairs = [Pair(n, folder / PAIRS[n][0], folder / PAIRS[n][1]) for n in names]
    missing = sorted(
        {str(p) for pair in pairs for p in (pair.content_path, pair.style_path) if not p.is_file()}
    )
    if missing:
        raise MissingImages(
            f"benchmark images not found: {', '.join(missing)}. Pass --images DIR pointing at "
            "a folder with tubingen.jpg, boston.jpg, starry_night.jpg and the_scream.jpg."
        )
    return pairs
