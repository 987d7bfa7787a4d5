"""The built-in style gallery: twelve public-domain paintings for people with none at hand.

The pictures and their captions ship in ``bot/gallery/`` (``gallery.json`` gives the order,
``SOURCES.md`` where each came from and why it is public domain). Each picture is uploaded
to Telegram once; the file id Telegram gives back is kept in ``DATA_DIR`` and used from then
on, restarts included.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

FOLDER = Path(__file__).resolve().parent / "gallery"
FILE_IDS = "gallery_file_ids.json"


@dataclass(frozen=True)
class Painting:
    file: str
    title: str
    artist: str
    year: str

    @property
    def path(self) -> Path:
        return FOLDER / self.file


class Gallery:
    """The paintings in display order, and the Telegram file id of each one sent before."""

    def __init__(self, data_dir: Path, folder: Path = FOLDER) -> None:
        entries = json.loads((folder / "gallery.json").read_text(encoding="utf-8"))
        self.paintings = [Painting(**entry) for entry in entries]
        self._ids_path = Path(data_dir) / FILE_IDS
        self._file_ids: dict[str, str] = {}
        if self._ids_path.is_file():
            try:
                self._file_ids = json.loads(self._ids_path.read_text(encoding="utf-8"))
            except ValueError:  # a torn write: the pictures are simply uploaded again
                logger.warning("Ignoring an unreadable %s", self._ids_path)

    def __len__(self) -> int:
        return len(self.paintings)

    def __getitem__(self, index: int) -> Painting:
        return self.paintings[index % len(self.paintings)]

    def photo(self, painting: Painting) -> str | bytes:
        """What to send: the file id Telegram gave last time, or the picture itself."""
        return self._file_ids.get(painting.file) or painting.path.read_bytes()

    def sent(self, painting: Painting, file_id: str) -> None:
        """Remember the file id of an uploaded painting (written atomically)."""
        if self._file_ids.get(painting.file) == file_id:
            return
        self._file_ids[painting.file] = file_id
        self._ids_path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=self._ids_path.parent, delete=False, encoding="utf-8"
        ) as file:
            json.dump(self._file_ids, file)
        os.replace(file.name, self._ids_path)
