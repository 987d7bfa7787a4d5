"""Files on the fake Telegram's side: ids, download paths, and photos re-encoded like Telegram's."""

from __future__ import annotations

import io
import itertools
import mimetypes
from dataclasses import dataclass
from pathlib import PurePosixPath

from PIL import Image

from tests.botapi.records import JSON

_PHOTO_SIDES = (90, 320, 800, 1280)  # Telegram's standard thumbnail sides
_MAX_PHOTO_SIDE = 2560


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_size: int
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None

    def json(self) -> JSON:
        """The fields every Telegram file object has."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        }

    def document_json(self) -> JSON:
        document = self.json()
        if self.file_name:
            document["file_name"] = self.file_name
        if self.mime_type:
            document["mime_type"] = self.mime_type
        return document


class FileStore:
    """Every file a user or the bot sent, by id and by download path (not thread-safe)."""

    def __init__(self) -> None:
        self._numbers = itertools.count(1)
        self.by_id: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}
        self.downloads: list[str] = []  # file ids, in download order

    def add(
        self,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        number = next(self._numbers)
        suffix = (
            (PurePosixPath(file_name).suffix if file_name else "")
            or (mimetypes.guess_extension(mime_type) if mime_type else None)
            or ".bin"
        )
        stored = StoredFile(
            file_id=f"{kind}-{number:04d}",
            file_unique_id=f"u{number:04d}",
            kind=kind,
            data=data,
            file_size=len(data),
            file_path=f"{kind}s/file_{number}{suffix}",
            file_name=file_name,
            mime_type=mime_type,
        )
        self.by_id[stored.file_id] = stored
        self.by_path[stored.file_path] = stored
        return stored

    def add_photo(self, data: bytes) -> list[JSON]:
        """Telegram's ``PhotoSize`` list for an image, smallest first; ValueError if undecodable."""
        try:
            variants = _jpeg_variants(data)
        except (OSError, Image.DecompressionBombError) as exc:
            raise ValueError(f"not an image Pillow can decode: {exc}") from exc
        sizes = []
        for jpeg, width, height in variants:
            stored = self.add("photo", jpeg, mime_type="image/jpeg")
            sizes.append({**stored.json(), "width": width, "height": height})
        return sizes


def _jpeg_variants(data: bytes) -> list[tuple[bytes, int, int]]:
    """Re-encode like Telegram: JPEG thumbnails of the standard sides, then the full image."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        rgb = image.convert("RGB")
    longest = max(rgb.size)
    sides = [side for side in _PHOTO_SIDES if side < longest] + [min(longest, _MAX_PHOTO_SIDE)]
    variants = []
    for side in sides:
        variant = rgb
        if side < longest:
            variant = rgb.copy()
            variant.thumbnail((side, side))
        buffer = io.BytesIO()
        variant.save(buffer, "JPEG", quality=87)
        variants.append((buffer.getvalue(), variant.width, variant.height))
    return variants
