"""A messenger that fails the test on any call: a fake for one part of the chat subclasses it
and writes only the calls that part should make, so a stray send or edit is a failure."""

from __future__ import annotations

from bot.messenger import Keyboard, Photo, Place, Posted


class Unexpected:
    """Every call of ``bot.messenger.Messenger``, each an ``AssertionError`` naming itself."""

    async def send_text(self, place: Place, text: str, keyboard: Keyboard | None = None) -> Posted:
        raise AssertionError(f"unexpected send_text: {text!r}")

    async def send_photo(
        self, place: Place, photo: Photo, caption: str, keyboard: Keyboard | None = None
    ) -> Posted:
        raise AssertionError(f"unexpected send_photo: {caption!r}")

    async def send_file(
        self,
        place: Place,
        data: bytes,
        filename: str,
        caption: str,
        keyboard: Keyboard | None = None,
    ) -> Posted:
        raise AssertionError(f"unexpected send_file: {filename!r}")

    async def send_film(self, place: Place, data: bytes, filename: str, caption: str) -> Posted:
        raise AssertionError(f"unexpected send_film: {filename!r}")

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None
    ) -> None:
        raise AssertionError(f"unexpected edit_text: {text!r}")

    async def edit_caption(
        self, chat_id: int, message_id: int, caption: str, keyboard: Keyboard | None = None
    ) -> None:
        raise AssertionError(f"unexpected edit_caption: {caption!r}")

    async def edit_photo(
        self,
        chat_id: int,
        message_id: int,
        photo: Photo,
        caption: str,
        keyboard: Keyboard | None = None,
    ) -> Posted:
        raise AssertionError(f"unexpected edit_photo: {caption!r}")

    async def edit_keyboard(
        self, chat_id: int, message_id: int, keyboard: Keyboard | None = None
    ) -> None:
        raise AssertionError("unexpected edit_keyboard")
