"""The users' side: what people do in a chat, turned into the updates Telegram would send."""

from __future__ import annotations

import copy
import mimetypes
import time
from typing import Literal

from tests.botapi.records import JSON, Sent
from tests.botapi.store import Chat, Store

MediaKind = Literal["sticker", "voice", "video", "animation"]

# Each kind's fields besides file_id/file_unique_id/file_size, as Telegram sends them.
_MEDIA: dict[MediaKind, JSON] = {
    "sticker": {
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "🙂",
    },
    "voice": {"duration": 2, "mime_type": "audio/ogg"},
    "video": {
        "width": 640,
        "height": 360,
        "duration": 3,
        "file_name": "video.mp4",
        "mime_type": "video/mp4",
    },
    "animation": {
        "width": 320,
        "height": 240,
        "duration": 2,
        "file_name": "animation.gif.mp4",
        "mime_type": "video/mp4",
    },
}


class Users:
    """Simulated users. Their private chat's id is their user id; a group message needs
    ``chat_id`` and ``chat_type="group"``. Each action returns a :class:`Sent`."""

    _store: Store

    def user_sends_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
    ) -> Sent:
        return self._user_message(user_id, {"text": text}, chat_id, chat_type, reply_to_message_id)

    def user_sends_command(
        self,
        user_id: int,
        command: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        mention_bot: bool = False,
    ) -> Sent:
        """A command such as "/start" or "/style 3", with Telegram's bot_command entity."""
        if not command.startswith("/"):
            raise ValueError(f"a command starts with '/': {command!r}")
        name, space, args = command.partition(" ")
        if mention_bot and "@" not in name:
            name = f"{name}@{self._store.bot_user['username']}"
        length = len(name.encode("utf-16-le")) // 2  # Telegram counts UTF-16 code units
        fields = {
            "text": name + space + args,
            "entities": [{"type": "bot_command", "offset": 0, "length": length}],
        }
        return self._user_message(user_id, fields, chat_id, chat_type)

    def user_sends_photo(
        self,
        user_id: int,
        image_bytes: bytes,
        *,
        media_group_id: str | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
    ) -> Sent:
        """A photo; like Telegram's, delivered as re-encoded JPEG sizes, smallest first."""
        with self._store.cond:
            try:
                fields: JSON = {"photo": self._store.files.add_photo(image_bytes)}
            except ValueError as exc:
                raise ValueError(
                    "user_sends_photo needs bytes Pillow can decode (Telegram only delivers "
                    "re-encoded photos); use user_sends_document for arbitrary bytes"
                ) from exc
        if media_group_id is not None:
            fields["media_group_id"] = media_group_id
        return self._user_message(user_id, fields, chat_id, chat_type, reply_to_message_id)

    def user_sends_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str = "file.bin",
        mime_type: str | None = None,
        *,
        file_size_override: int | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
    ) -> Sent:
        """A file sent "as document"; ``file_size_override`` claims a size (e.g. 25 MB)."""
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        with self._store.cond:
            stored = self._store.files.add("document", data, file_name=file_name, mime_type=mime)
            if file_size_override is not None:
                stored.file_size = file_size_override
        return self._user_message(user_id, {"document": stored.document_json()}, chat_id, chat_type)

    def user_sends_media(
        self,
        user_id: int,
        kind: MediaKind,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
    ) -> Sent:
        """A sticker, voice note, video or GIF (whose message also carries a "document",
        as Telegram's does); the file's bytes are a placeholder."""
        shape = _MEDIA[kind]
        with self._store.cond:
            stored = self._store.files.add(
                kind,
                f"fake {kind}".encode(),
                file_name=shape.get("file_name"),
                mime_type=shape.get("mime_type"),
            )
        fields: JSON = {kind: {**stored.json(), **shape}}
        if kind == "animation":
            fields["document"] = stored.document_json()
        return self._user_message(user_id, fields, chat_id, chat_type)

    def user_presses_button(
        self,
        user_id: int,
        message_id: int,
        callback_data: str | None = None,
        *,
        label: str | None = None,
        chat_id: int | None = None,
        check: bool = True,
    ) -> Sent:
        """Press an inline button of a bot message, by exact callback_data or by label text.

        ``check`` asserts the button is really on the message now (as in a real client);
        turn it off to forge stale or unknown callback data.
        """
        if (callback_data is None) == (label is None):
            raise ValueError("pass exactly one of callback_data and label")
        store = self._store
        with store.cond:
            chat = store.chats.get(user_id if chat_id is None else chat_id)
            message = chat.bot_messages.get(message_id) if chat else None
            if chat is None or message is None:
                raise AssertionError(
                    f"no bot message {message_id} in chat {chat_id or user_id}\n{store.dump()}"
                )
            if label is not None:
                matches = [data for text, data in message.buttons if label in text]
                if not matches:
                    raise AssertionError(
                        f"message {message_id} has no button labelled {label!r}: "
                        f"{message.buttons}\n{store.dump(chat.id)}"
                    )
                callback_data = matches[0]
            if check and callback_data not in [data for _, data in message.buttons]:
                raise AssertionError(
                    f"message {message_id} has no button with callback_data {callback_data!r} "
                    f"(buttons {message.buttons})\n{store.dump(chat.id)}"
                )
            query_id = str(4_000_000_001 + len(store.callback_queries))
            store.callback_queries[query_id] = False
            query = {
                "id": query_id,
                "from": store.user(user_id),
                "message": store.message_json(message),
                "chat_instance": str(chat.id),
                "data": callback_data,
            }
            return store.enqueue(chat, {"callback_query": query})

    def _user_message(
        self,
        user_id: int,
        fields: JSON,
        chat_id: int | None,
        chat_type: str,
        reply_to_message_id: int | None = None,
    ) -> Sent:
        store = self._store
        with store.cond:
            chat = self._chat(user_id, chat_id, chat_type)
            message: JSON = {
                "message_id": chat.take_message_id(),
                "from": store.user(user_id),
                "chat": store.chat_json(chat),
                "date": int(time.time()),
                **copy.deepcopy(fields),
            }
            if reply_to_message_id is not None:
                replied = store.replied_json(chat, reply_to_message_id)
                if replied is None:
                    raise ValueError(f"no message {reply_to_message_id} in chat {chat.id}")
                message["reply_to_message"] = replied
            chat.user_messages[message["message_id"]] = message
            return store.enqueue(chat, {"message": message})

    def _chat(self, user_id: int, chat_id: int | None, chat_type: str) -> Chat:
        """The chat the user writes in, created on first use."""
        if chat_type == "private":
            if chat_id not in (None, user_id):
                raise ValueError(
                    f"a private chat's id is the user's id ({user_id}), not {chat_id}; "
                    "pass chat_type='group' for a group"
                )
            chat_id = user_id
        elif chat_type not in ("group", "supergroup"):
            raise ValueError(f"unsupported chat_type {chat_type!r}")
        elif chat_id is None:
            raise ValueError(f"a {chat_type} message needs chat_id")
        chat = self._store.chats.setdefault(
            chat_id,
            Chat(chat_id, chat_type, None if chat_type == "private" else f"Test group {chat_id}"),
        )
        if chat.type != chat_type:
            raise ValueError(f"chat {chat_id} is a {chat.type} chat, not {chat_type}")
        return chat
