"""The users' side: what people do in a chat, turned into the updates Telegram would send."""

from __future__ import annotations

import copy
import mimetypes
import time
from typing import Literal

from tests.botapi.records import JSON, Sent
from tests.botapi.store import Chat, Store

MediaKind = Literal["sticker", "voice", "audio", "video", "video_note", "animation"]
ShareKind = Literal["location", "contact", "poll", "dice"]

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
    "audio": {
        "duration": 180,
        "performer": "Test Band",
        "title": "Test Song",
        "file_name": "song.mp3",
        "mime_type": "audio/mpeg",
    },
    "video": {
        "width": 640,
        "height": 360,
        "duration": 3,
        "file_name": "video.mp4",
        "mime_type": "video/mp4",
    },
    "video_note": {"length": 240, "duration": 3},  # the round videos
    "animation": {
        "width": 320,
        "height": 240,
        "duration": 2,
        "file_name": "animation.gif.mp4",
        "mime_type": "video/mp4",
    },
}

# Messages that carry no file at all: each kind's field, as Telegram sends it.
_SHARES: dict[ShareKind, JSON] = {
    "location": {"latitude": 48.5216, "longitude": 9.0576},
    "contact": {"phone_number": "+4970710000", "first_name": "Tina", "user_id": 1999},
    "poll": {
        "id": "5000000001",
        "question": "Light or Strong?",
        "options": [
            {"persistent_id": "1", "text": "Light", "voter_count": 0},
            {"persistent_id": "2", "text": "Strong", "voter_count": 0},
        ],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
        "allows_revoting": True,
        "members_only": False,
    },
    "dice": {"emoji": "🎲", "value": 4},
}


class Users:
    """Simulated users. Their private chat's id is their user id; a group message needs
    ``chat_id`` and ``chat_type="group"``. Each action returns a :class:`Sent`."""

    _store: Store

    def user_speaks(self, user_id: int, language_code: str | None) -> None:
        """Set the language of the user's Telegram app (``language_code`` on every update
        from now on; users start with "en"); None leaves the field out, as Telegram may."""
        with self._store.cond:
            self._store.user(user_id)  # created on first use
            user = self._store.users[user_id]
            if language_code is None:
                user.pop("language_code", None)
            else:
                user["language_code"] = language_code

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
        caption: str | None = None,
        media_group_id: str | None = None,
        forwarded_from: int | None = None,
        from_bot: bool = False,
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
    ) -> Sent:
        """A photo; like Telegram's, delivered as re-encoded JPEG sizes, smallest first.

        ``forwarded_from`` makes it a forward of that user's photo (Telegram's
        ``forward_origin``); ``from_bot`` makes the sender another bot (``is_bot``), which a
        bot must not mistake for a person.
        """
        with self._store.cond:
            fields: JSON = {"photo": self._photo_sizes(image_bytes)}
            if forwarded_from is not None:
                fields["forward_origin"] = {
                    "type": "user",
                    "date": int(time.time()) - 3600,
                    "sender_user": self._store.user(forwarded_from),
                }
        if caption is not None:
            fields["caption"] = caption
        if media_group_id is not None:
            fields["media_group_id"] = media_group_id
        return self._user_message(
            user_id, fields, chat_id, chat_type, reply_to_message_id, from_bot=from_bot
        )

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
        """A sticker, voice note, music file, video, round video note or GIF (whose message
        also carries a "document", as Telegram's does); the file's bytes are a placeholder."""
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

    def user_shares(
        self,
        user_id: int,
        kind: ShareKind,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
    ) -> Sent:
        """A location, contact, poll or dice: the attachment menu's messages without a file."""
        return self._user_message(user_id, {kind: _SHARES[kind]}, chat_id, chat_type)

    def user_edits_message(
        self,
        user_id: int,
        message_id: int,
        *,
        text: str | None = None,
        caption: str | None = None,
        photo: bytes | None = None,
        chat_id: int | None = None,
    ) -> Sent:
        """The user edits a message of theirs: new text, a new caption, or another photo.

        Telegram then sends the whole message again, with ``edit_date``, as an
        ``edited_message`` update: a bot must not take it for a new message.
        """
        store = self._store
        with store.cond:
            chat = store.chats.get(user_id if chat_id is None else chat_id)
            message = chat.user_messages.get(message_id) if chat else None
            if chat is None or message is None or message["from"]["id"] != user_id:
                raise ValueError(f"user {user_id} has no message {message_id} in that chat")
            edited = copy.deepcopy(message)
            for field, value in (("text", text), ("photo", photo)):
                if value is not None and field not in edited:
                    raise ValueError(f"message {message_id} has no {field} to edit")
            if text is not None:
                edited["text"] = text
                edited.pop("entities", None)
            if photo is not None:
                edited["photo"] = self._photo_sizes(photo)
            if caption is not None:
                edited["caption"] = caption
            edited["edit_date"] = int(time.time())
            chat.user_messages[message_id] = edited
            return store.enqueue(chat, {"edited_message": edited})

    def channel_posts(
        self,
        channel_id: int,
        *,
        text: str | None = None,
        photo: bytes | None = None,
    ) -> Sent:
        """A post in a channel the bot belongs to: a ``channel_post`` update, signed by the
        channel (``sender_chat``) and from no user, which a bot must leave alone."""
        if (text is None) == (photo is None):
            raise ValueError("a post here is a text or a photo: pass exactly one")
        store = self._store
        with store.cond:
            chat = store.chats.setdefault(
                channel_id, Chat(channel_id, "channel", f"Test channel {channel_id}")
            )
            if chat.type != "channel":
                raise ValueError(f"chat {channel_id} is a {chat.type} chat, not a channel")
            fields: JSON = {"text": text} if photo is None else {"photo": self._photo_sizes(photo)}
            if text is not None and text.startswith("/"):  # a command, marked as Telegram does
                length = len(text.split()[0].encode("utf-16-le")) // 2
                fields["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
            post: JSON = {
                "message_id": chat.take_message_id(),
                "sender_chat": store.chat_json(chat),
                "chat": store.chat_json(chat),
                "date": int(time.time()),
                **fields,
            }
            # Not kept in user_messages: transcripts name each message's sender, and no test
            # replies to a post.
            return store.enqueue(chat, {"channel_post": post})

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

    def _photo_sizes(self, image_bytes: bytes) -> list[JSON]:
        """A photo's sizes as Telegram delivers them (lock held)."""
        try:
            return self._store.files.add_photo(image_bytes)
        except ValueError as exc:
            raise ValueError(
                "a photo needs bytes Pillow can decode (Telegram only delivers re-encoded "
                "photos); use user_sends_document for arbitrary bytes"
            ) from exc

    def _user_message(
        self,
        user_id: int,
        fields: JSON,
        chat_id: int | None,
        chat_type: str,
        reply_to_message_id: int | None = None,
        *,
        from_bot: bool = False,
    ) -> Sent:
        store = self._store
        with store.cond:
            chat = self._chat(user_id, chat_id, chat_type)
            sender = store.user(user_id)
            if from_bot:
                sender.update(is_bot=True, username=f"helper{user_id}_bot")
            message: JSON = {
                "message_id": chat.take_message_id(),
                "from": sender,
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
