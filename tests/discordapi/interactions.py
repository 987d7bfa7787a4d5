"""Answering interactions as Discord allows it: one callback within the deadline (3 s), then
the token's webhook for 15 minutes: edits of the original response and follow-ups."""

from __future__ import annotations

import time
from http import HTTPStatus

from tests.discordapi import errors
from tests.discordapi.messages import Body, create_bot_message, edit_bot_message
from tests.discordapi.payloads import bot_message_json
from tests.discordapi.records import EPHEMERAL, JSON, LOADING, BotMessage, InteractionRecord
from tests.discordapi.store import Store

# Callback types (Discord's values).
PONG = 1
CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

_FOR_COMPONENTS_ONLY = (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE)
_KNOWN = (4, 5, 6, 7, 8, 9)


def callback(
    store: Store, interaction_id: int, token: str, body: Body, with_response: bool
) -> tuple[int, JSON | None]:
    """POST /interactions/{id}/{token}/callback."""
    state = store.interactions.get(interaction_id)
    if state is None or state.record.token != token:
        raise errors.unknown_interaction()
    record = state.record
    if record.responded:
        raise errors.already_acknowledged()
    if record.expired or time.monotonic() - record.created_at > store.response_deadline:
        record.expired = True  # Discord invalidates the token after the deadline
        raise errors.unknown_interaction()
    kind = body.params.get("type")
    if kind not in _KNOWN or (kind in _FOR_COMPONENTS_ONLY and record.kind != "component"):
        raise errors.invalid_form(
            "type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type"
        )
    data = body.params.get("data") or {}
    message = _respond(store, record, kind, Body(data, body.files))
    record.response_type = kind
    record.response_data = data
    record.responded_at = time.monotonic()
    store.bump()
    if not with_response:
        return HTTPStatus.NO_CONTENT, None
    answer: JSON = {
        "interaction": {"id": str(record.id), "type": 2 if record.kind == "command" else 3},
        "resource": {"type": kind},
    }
    if message is not None:
        answer["interaction"]["response_message_id"] = str(message.id)
        answer["interaction"]["response_message_loading"] = message.loading
        answer["interaction"]["response_message_ephemeral"] = message.ephemeral
        if kind in (CHANNEL_MESSAGE_WITH_SOURCE, UPDATE_MESSAGE):
            answer["resource"]["message"] = bot_message_json(store, message)
    return HTTPStatus.OK, answer


def _respond(store: Store, record: InteractionRecord, kind: int, body: Body) -> BotMessage | None:
    channel = store.channels[record.channel_id].channel
    ephemeral = int(body.params.get("flags") or 0) & EPHEMERAL
    if kind == CHANNEL_MESSAGE_WITH_SOURCE:
        message = create_bot_message(
            store, channel, body, via="interaction", interaction_id=record.id
        )
        record.original_message_id = message.id
        return message
    if kind == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:  # "Bot is thinking…" until edited
        message = create_bot_message(
            store,
            channel,
            Body({"flags": ephemeral | LOADING}, []),
            via="interaction",
            interaction_id=record.id,
            allow_empty=True,
        )
        record.original_message_id = message.id
        return message
    if kind in _FOR_COMPONENTS_ONLY:
        assert record.message_id is not None
        record.original_message_id = record.message_id
        target = store.bot_messages.get(record.message_id)
        if target is None:
            raise errors.unknown_message()
        if kind == UPDATE_MESSAGE:
            edit_bot_message(store, target, body)
        return target
    return None  # autocomplete choices, a modal: recorded only


# ---- the interaction's webhook ---------------------------------------------------------------


def webhook_interaction(store: Store, application_id: int, token: str) -> InteractionRecord:
    """The interaction behind /webhooks/{application_id}/{token}; its token lives 15 minutes."""
    if application_id != store.application_id:
        raise errors.unknown_webhook()
    interaction_id = store.tokens.get(token)
    if interaction_id is None:
        raise errors.invalid_webhook_token()
    record = store.interactions[interaction_id].record
    if record.expired or time.monotonic() - record.created_at > store.token_lifetime:
        record.expired = True
        raise errors.invalid_webhook_token()
    if not record.responded:
        raise errors.unknown_webhook()  # nothing to follow up before the first response
    return record


def webhook_message(store: Store, record: InteractionRecord, message_id: str) -> BotMessage:
    """``@original`` or one of the interaction's follow-ups."""
    if message_id == "@original":
        if record.original_message_id is None:
            raise errors.unknown_message()
        wanted = record.original_message_id
    else:
        wanted = int(message_id)
        if wanted not in (record.original_message_id, *record.followup_ids):
            raise errors.unknown_message()
    message = store.bot_messages.get(wanted)
    if message is None or message.deleted:
        raise errors.unknown_message()
    return message


def followup(store: Store, record: InteractionRecord, body: Body) -> BotMessage:
    channel = store.channels[record.channel_id].channel
    message = create_bot_message(store, channel, body, via="followup", interaction_id=record.id)
    record.followup_ids.append(message.id)
    return message


def edit_webhook_message(store: Store, message: BotMessage, body: Body) -> BotMessage:
    """Editing a deferred response replaces "thinking…" with the message."""
    return edit_bot_message(store, message, body, clear_flags=LOADING)
