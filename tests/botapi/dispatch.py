"""One Bot API call from HTTP to answer: logged, checked, failed on request, or run."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from http import HTTPStatus

from tests.botapi import methods, updates
from tests.botapi.errors import ApiError, bad_request, not_found
from tests.botapi.records import JSON, ApiCall, Files
from tests.botapi.store import Store

_Method = Callable[[Store, JSON, Files], object]

# Only what the bot calls; any other method is a 404, as an unknown one is on Telegram.
_METHODS: dict[str, _Method] = {
    "getMe": methods.get_me,
    "setMyCommands": methods.set_my_commands,
    "deleteWebhook": updates.delete_webhook,
    "setWebhook": methods.set_webhook,
    "getUpdates": updates.get_updates,
    "sendMessage": methods.send_message,
    "sendPhoto": methods.send_photo,
    "sendDocument": methods.send_document,
    "sendAnimation": methods.send_animation,
    "editMessageText": methods.edit_message_text,
    "editMessageCaption": methods.edit_message_caption,
    "editMessageMedia": methods.edit_message_media,
    "editMessageReplyMarkup": methods.edit_message_reply_markup,
    "answerCallbackQuery": methods.answer_callback_query,
    "getFile": methods.get_file,
}
_BY_LOWER_NAME = {name.lower(): name for name in _METHODS}  # Telegram ignores the case


class BotApi:
    """What the HTTP layer serves: method calls, file downloads, and its own failures."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.token = store.token

    def call(self, method: str, params: JSON, files: Files) -> tuple[int, JSON]:
        """Run ``method`` under the store's lock; the HTTP status and Telegram's answer."""
        name = _BY_LOWER_NAME.get(method.lower(), method)
        store = self.store
        with store.cond:
            call = ApiCall(store.bump(), name, params, files)
            store.calls.append(call)
            error: ApiError | None = None
            try:
                call.result = self._run(name, params, files)
            except ApiError as refused:
                error = refused
            except Exception:  # a bug in this fake: answer 500, keep serving, tell the test
                trace = traceback.format_exc()
                store.internal_errors.append(f"{method}: {trace}")
                error = ApiError(HTTPStatus.INTERNAL_SERVER_ERROR, f"fake server bug\n{trace}")
            store.bump()
            if error is not None:
                call.status, call.description = error.code, error.description
                return call.status, error.payload()
            call.status = HTTPStatus.OK.value
            return call.status, {"ok": True, "result": call.result}

    def _run(self, name: str, params: JSON, files: Files) -> object:
        if name not in _METHODS:
            raise not_found()
        media = params.get("media")
        if params.get("parse_mode") or (isinstance(media, dict) and media.get("parse_mode")):
            # The bot sends plain text; checking formatting would need Telegram's parsers.
            raise bad_request("parse_mode is not supported by this fake server")
        faults = self.store.faults.get(name.lower())
        if faults:
            raise faults.pop(0)
        flaky = self.store.flaky.error(name) if self.store.flaky else None
        if flaky is not None:
            raise flaky
        return _METHODS[name](self.store, params, files)

    def download(self, file_path: str) -> bytes | ApiError | None:
        """A file's bytes for ``base_file_url``, None if there is no such path, or the error
        injected or a flaky day answers. Logged as a call of the method ``download``."""
        store = self.store
        with store.cond:
            stored = store.files.by_path.get(file_path)
            if stored is None:
                return None
            call = ApiCall(store.bump(), "download", {"file_path": file_path}, {})
            store.calls.append(call)
            faults = store.faults.get("download")
            error = faults.pop(0) if faults else None
            if error is None and store.flaky is not None:
                error = store.flaky.error("download")
            if error is not None:
                call.status, call.description = error.code, error.description
                return error
            call.status = HTTPStatus.OK.value
            store.files.downloads.append(stored.file_id)
            return stored.data

    def in_outage(self) -> bool:
        with self.store.cond:
            return self.store.outage.now()

    def record_internal_error(self, trace: str) -> None:
        with self.store.cond:
            self.store.internal_errors.append(trace)
