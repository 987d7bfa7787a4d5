"""The Bot API methods the bot calls besides getting updates, answered as Telegram would.

Each takes the store (its lock held), the decoded parameters and the uploaded files.
"""

from __future__ import annotations

import copy
import json
import re
import time

from tests.botapi.content import Attachment, attachment, callback_markup, caption, text
from tests.botapi.errors import bad_request
from tests.botapi.records import JSON, BotMessage, Files
from tests.botapi.store import Chat, Store

MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024  # getFile refuses bigger files
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


def get_me(store: Store, p: JSON, files: Files) -> JSON:
    return copy.deepcopy(store.bot_user)


def set_my_commands(store: Store, p: JSON, files: Files) -> bool:
    commands = p.get("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("commands must be a list of at most 100 BotCommand")
    for command in commands:
        if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command.get("description", "")) <= 256:
            raise bad_request("command description is empty or too long")
    store.commands[commands_key(p.get("scope"), p.get("language_code"))] = commands
    return True


def commands_key(scope: JSON | None, language_code: str | None) -> tuple[str, str]:
    """Where setMyCommands keeps a command list: by scope and language."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or ""


def send_message(store: Store, p: JSON, files: Files) -> JSON:
    return _send(store, p, "text", files)


def send_photo(store: Store, p: JSON, files: Files) -> JSON:
    return _send(store, p, "photo", files)


def send_document(store: Store, p: JSON, files: Files) -> JSON:
    return _send(store, p, "document", files)


def send_animation(store: Store, p: JSON, files: Files) -> JSON:
    """A GIF or a silent MP4, played in the chat (kept like a document)."""
    return _send(store, p, "animation", files)


def edit_message_text(store: Store, p: JSON, files: Files) -> JSON:
    """A text message's new text (and buttons); a photo's caption is editMessageCaption's."""
    message = _editable(store, p, None)
    if message.kind != "text":
        raise bad_request("there is no text in the message to edit")
    new_text, markup = text(p), callback_markup(p)
    if not new_text or not new_text.strip():
        raise bad_request("message text is empty")
    if (new_text, markup) == (message.text, message.reply_markup):
        raise bad_request(_NOT_MODIFIED)
    message.text, message.reply_markup = new_text, markup
    return _edited(store, message)


def edit_message_caption(store: Store, p: JSON, files: Files) -> JSON:
    message = _editable(store, p, "caption")
    new_caption, markup = caption(p), callback_markup(p)
    if (new_caption, markup) == (message.caption, message.reply_markup):
        raise bad_request(_NOT_MODIFIED)
    message.caption, message.reply_markup = new_caption, markup
    return _edited(store, message)


def edit_message_media(store: Store, p: JSON, files: Files) -> JSON:
    message = _editable(store, p, "media")
    item = p.get("media")
    if not isinstance(item, dict) or item.get("type") not in ("photo", "document"):
        raise bad_request("the fake server supports only photo and document media")
    new_caption, markup = caption(item), callback_markup(p)
    if (item.get("media"), new_caption, markup) == (
        message.file_id,
        message.caption,
        message.reply_markup,
    ):
        raise bad_request(_NOT_MODIFIED)
    _attach(message, attachment(store.files, item["type"], item.get("media"), files))
    message.caption, message.reply_markup = new_caption, markup
    return _edited(store, message)


def edit_message_reply_markup(store: Store, p: JSON, files: Files) -> JSON:
    message = _editable(store, p, None)
    markup = callback_markup(p)
    if markup == message.reply_markup:
        raise bad_request(_NOT_MODIFIED)
    message.reply_markup = markup
    return _edited(store, message)


def answer_callback_query(store: Store, p: JSON, files: Files) -> bool:
    query_id = str(p.get("callback_query_id"))
    if store.callback_queries.get(query_id, True):  # unknown, or answered already
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    store.callback_queries[query_id] = True
    return True


def get_file(store: Store, p: JSON, files: Files) -> JSON:
    stored = store.files.by_id.get(str(p.get("file_id")))
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.file_size > MAX_DOWNLOAD_SIZE:
        raise bad_request("file is too big")
    return {**stored.json(), "file_path": stored.file_path}


def _send(store: Store, p: JSON, kind: str, files: Files) -> JSON:
    """A new bot message: a text, or a photo or document with an optional caption."""
    chat = _chat(store, p)
    message = BotMessage(
        chat.id,
        message_id=0,
        kind=kind,
        seq=0,
        date=int(time.time()),
        reply_markup=callback_markup(p),
        reply_to_message_id=_reply_to(chat, p),
    )
    if kind == "text":
        message.text = text(p)
        if not message.text or not message.text.strip():
            raise bad_request("message text is empty")
    else:
        message.caption = caption(p)
        _attach(message, attachment(store.files, kind, p.get(kind), files))
    message.message_id, message.seq = chat.take_message_id(), store.bump()
    message.versions.append((message.seq, message.body))
    chat.bot_messages[message.message_id] = message
    return store.message_json(message)


def _edited(store: Store, message: BotMessage) -> JSON:
    message.versions.append((store.bump(), message.body))
    return store.message_json(message)


def _chat(store: Store, p: JSON) -> Chat:
    chat_id = p.get("chat_id")
    if chat_id is None or chat_id == "":
        raise bad_request("chat_id is empty")
    chat = store.chats.get(chat_id) if isinstance(chat_id, int) else None
    if chat is None:
        raise bad_request("chat not found")
    return chat


def _editable(store: Store, p: JSON, needs: str | None) -> BotMessage:
    """The bot message an edit targets; ``needs`` "caption" or "media" (a text has neither)."""
    if p.get("inline_message_id"):
        raise bad_request("inline messages are not supported by the fake server")
    chat = _chat(store, p)
    message_id = p.get("message_id")
    if not isinstance(message_id, int):
        raise bad_request("message identifier is not specified")
    if message_id in chat.user_messages:
        raise bad_request("message can't be edited")
    message = chat.bot_messages.get(message_id)
    if message is None:
        raise bad_request("message to edit not found")
    if needs is not None and message.kind == "text":
        raise bad_request(f"there is no {needs} in the message to edit")
    return message


def _reply_to(chat: Chat, p: JSON) -> int | None:
    parameters = p.get("reply_parameters") or {}
    message_id = parameters.get("message_id")
    if message_id is None:
        return None
    if message_id in chat.user_messages or message_id in chat.bot_messages:
        return int(message_id)
    if parameters.get("allow_sending_without_reply"):
        return None
    raise bad_request("message to be replied not found")


def _attach(message: BotMessage, media: Attachment) -> None:
    message.kind, message.data, message.media = media.kind, media.data, media.media
    message.file_id, message.file_name = media.file_id, media.file_name
    message.mime_type = media.mime_type


def set_webhook(store: Store, p: JSON, files: Files) -> bool:
    """Webhook mode: Telegram would now post updates to ``url`` with ``secret_token``."""
    if not str(p.get("url", "")).startswith("https://"):
        raise bad_request("bad webhook: HTTPS url must be provided for webhook")
    return True
