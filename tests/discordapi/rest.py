"""The REST API (v10): a table of routes, each named after Discord's documentation, and
their handlers (called with the store's lock held; they raise :class:`DiscordError`)."""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from tests.discordapi import commands, errors, interactions
from tests.discordapi.errors import DiscordError
from tests.discordapi.messages import Body, create_bot_message, edit_bot_message
from tests.discordapi.payloads import bot_message_json, channel_json
from tests.discordapi.records import JSON, BotMessage
from tests.discordapi.store import MESSAGE_CONTENT, ChannelState, Store


@dataclass(frozen=True)
class Request:
    """A decoded REST request; ``path`` is below the API base (e.g. "/users/@me")."""

    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    body: Body


@dataclass(frozen=True)
class Reply:
    """What the HTTP layer sends: a status, JSON (None: no body) and extra headers."""

    status: int
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Store, dict[str, str], Request], tuple[int, Any]]


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    template: str
    handler: Handler
    bot_auth: bool = True  # interaction callbacks and webhooks need no token

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template) + "$")

    @property
    def key(self) -> str:
        """discord.py's ``Route.key`` shape with the parameter names blanked."""
        blanked = re.sub(r"{\w+}", "{}", self.template)
        return f"{self.method} {blanked}"

    @property
    def bucket(self) -> str:
        return hashlib.md5(self.key.encode()).hexdigest()[:16]


# ---- handlers --------------------------------------------------------------------------------


def _current_user(store: Store, _: dict[str, str], __: Request) -> tuple[int, Any]:
    return HTTPStatus.OK, {**store.bot.json(), "verified": True, "mfa_enabled": False, "flags": 0}


def _user(store: Store, args: dict[str, str], _: Request) -> tuple[int, Any]:
    user = store.users.get(int(args["user_id"]))
    if user is None:
        raise errors.unknown_user()
    return HTTPStatus.OK, user.json()


def _gateway(store: Store, _: dict[str, str], __: Request) -> tuple[int, Any]:
    return HTTPStatus.OK, {"url": gateway_url(store)}


def _gateway_bot(store: Store, _: dict[str, str], __: Request) -> tuple[int, Any]:
    return HTTPStatus.OK, {
        "url": gateway_url(store),
        "shards": 1,
        "session_start_limit": {
            "total": 1000,
            "remaining": 999,
            "reset_after": 14_400_000,
            "max_concurrency": 1,
        },
    }


def gateway_url(store: Store) -> str:
    return store.base_url.replace("http://", "ws://", 1) + "/gateway"


def _application(store: Store, _: dict[str, str], __: Request) -> tuple[int, Any]:
    flags = 0
    for intent, flag in ((1 << 8, 1 << 13), (1 << 1, 1 << 15), (MESSAGE_CONTENT, 1 << 19)):
        if store.privileged_intents & intent:  # *_LIMITED: enabled for an unverified app
            flags |= flag
    return HTTPStatus.OK, {
        "id": str(store.application_id),
        "name": store.bot.name,
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": store.owner.json(),
        "team": None,
        "verify_key": "0" * 64,
        "flags": flags,
        "bot": store.bot.json(),
        "interactions_endpoint_url": None,
        "redirect_uris": [],
        "install_params": {"scopes": ["bot", "applications.commands"], "permissions": "0"},
        "integration_types_config": {"0": {}},
        "approximate_guild_count": len(store.guilds),
    }


def _scope(store: Store, args: dict[str, str]) -> int | None:
    if int(args["application_id"]) != store.application_id:
        raise errors.DiscordError(
            HTTPStatus.FORBIDDEN,
            20012,
            "You are not authorized to perform this action on this application",
        )
    if "guild_id" not in args:
        return None
    guild_id = int(args["guild_id"])
    if guild_id not in store.guilds:
        raise errors.DiscordError(HTTPStatus.FORBIDDEN, 50001, "Missing Access")
    return guild_id


def _get_commands(store: Store, args: dict[str, str], _: Request) -> tuple[int, Any]:
    return HTTPStatus.OK, copy.deepcopy(store.commands.get(_scope(store, args), []))


def _overwrite_commands(store: Store, args: dict[str, str], request: Request) -> tuple[int, Any]:
    return HTTPStatus.OK, commands.overwrite(
        store, _scope(store, args), request.body.params.get("_")
    )


def _create_command(store: Store, args: dict[str, str], request: Request) -> tuple[int, Any]:
    return HTTPStatus.CREATED, commands.upsert(store, _scope(store, args), request.body.params)


def _create_dm(store: Store, _: dict[str, str], request: Request) -> tuple[int, Any]:
    recipient = request.body.params.get("recipient_id")
    user = store.users.get(int(recipient)) if recipient is not None else None
    if user is None:
        raise errors.unknown_user()
    return HTTPStatus.OK, channel_json(store, store.dm_channel(user))


def _channel(store: Store, args: dict[str, str]) -> ChannelState:
    state = store.channels.get(int(args["channel_id"]))
    if state is None:
        raise errors.unknown_channel()
    return state


def _get_channel(store: Store, args: dict[str, str], _: Request) -> tuple[int, Any]:
    return HTTPStatus.OK, channel_json(store, _channel(store, args).channel)


def _create_message(store: Store, args: dict[str, str], request: Request) -> tuple[int, Any]:
    channel = _channel(store, args).channel
    if channel.kind == "dm" and channel.recipient_id in store.closed_dms:
        raise DiscordError(HTTPStatus.FORBIDDEN, 50007, "Cannot send messages to this user")
    nonce = request.body.params.get("nonce")
    key = (channel.id, str(nonce))
    enforce = nonce is not None and bool(request.body.params.get("enforce_nonce"))
    if enforce and key in store.nonces:  # a retry of a send that went through: no duplicate
        return HTTPStatus.OK, bot_message_json(store, store.bot_messages[store.nonces[key]])
    message = create_bot_message(store, channel, request.body)
    if enforce:
        store.nonces[key] = message.id
    return HTTPStatus.OK, bot_message_json(store, message)


def _message(store: Store, args: dict[str, str]) -> tuple[ChannelState, int]:
    state = _channel(store, args)
    message_id = int(args["message_id"])
    if message_id not in state.message_ids:
        raise errors.unknown_message()
    bot_message = store.bot_messages.get(message_id)
    if bot_message is not None and bot_message.deleted:
        raise errors.unknown_message()
    return state, message_id


def _bot_message(store: Store, args: dict[str, str]) -> BotMessage:
    message_id = _message(store, args)[1]
    message = store.bot_messages.get(message_id)
    if message is None:
        raise errors.not_author()
    if message.ephemeral:  # the bot's token cannot reach ephemeral messages
        raise errors.unknown_message()
    return message


def _get_message(store: Store, args: dict[str, str], _: Request) -> tuple[int, Any]:
    state, message_id = _message(store, args)
    if message_id in store.bot_messages:
        return HTTPStatus.OK, bot_message_json(store, _bot_message(store, args))
    data = copy.deepcopy(store.user_messages[message_id])
    data.pop("guild_id", None)
    data.pop("member", None)
    if state.channel.kind == "text" and not store.privileged_intents & MESSAGE_CONTENT:
        data.update(content="", attachments=[], embeds=[], components=[])
    return HTTPStatus.OK, data


def _edit_message(store: Store, args: dict[str, str], request: Request) -> tuple[int, Any]:
    message = edit_bot_message(store, _bot_message(store, args), request.body)
    return HTTPStatus.OK, bot_message_json(store, message)


def _delete_message(store: Store, args: dict[str, str], _: Request) -> tuple[int, Any]:
    message_id = _message(store, args)[1]
    if message_id not in store.bot_messages:
        raise DiscordError(HTTPStatus.FORBIDDEN, 50013, "Missing Permissions")
    _delete(store, store.bot_messages[message_id])
    return HTTPStatus.NO_CONTENT, None


def _delete(store: Store, message: BotMessage) -> None:
    message.deleted = True
    store.bump()
    if not message.ephemeral:
        data: JSON = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        store.dispatch("MESSAGE_DELETE", lambda _: data)


def _typing(store: Store, args: dict[str, str], _: Request) -> tuple[int, Any]:
    _channel(store, args)
    return HTTPStatus.NO_CONTENT, None


def _callback(store: Store, args: dict[str, str], request: Request) -> tuple[int, Any]:
    with_response = request.query.get("with_response", "").lower() in ("1", "true")
    return interactions.callback(
        store, int(args["interaction_id"]), args["token"], request.body, with_response
    )


def _webhook(store: Store, args: dict[str, str]) -> Any:
    return interactions.webhook_interaction(store, int(args["application_id"]), args["token"])


def _followup(store: Store, args: dict[str, str], request: Request) -> tuple[int, Any]:
    message = interactions.followup(store, _webhook(store, args), request.body)
    if request.query.get("wait", "").lower() in ("1", "true"):
        return HTTPStatus.OK, bot_message_json(store, message)
    return HTTPStatus.NO_CONTENT, None


def _target(store: Store, args: dict[str, str]) -> BotMessage:
    record = _webhook(store, args)
    return interactions.webhook_message(store, record, args.get("message_id", "@original"))


def _get_webhook_message(store: Store, args: dict[str, str], _: Request) -> tuple[int, Any]:
    return HTTPStatus.OK, bot_message_json(store, _target(store, args))


def _edit_webhook_message(store: Store, args: dict[str, str], request: Request) -> tuple[int, Any]:
    message = interactions.edit_webhook_message(store, _target(store, args), request.body)
    return HTTPStatus.OK, bot_message_json(store, message)


def _delete_webhook_message(store: Store, args: dict[str, str], _: Request) -> tuple[int, Any]:
    _delete(store, _target(store, args))
    return HTTPStatus.NO_CONTENT, None


_APP = "/applications/{application_id}"
_HOOK = "/webhooks/{application_id}/{token}"
_MESSAGE = "/channels/{channel_id}/messages/{message_id}"

ROUTES: tuple[Route, ...] = (
    Route("get_current_user", "GET", "/users/@me", _current_user),
    Route("create_dm", "POST", "/users/@me/channels", _create_dm),
    Route("get_user", "GET", "/users/{user_id}", _user),
    Route("get_gateway", "GET", "/gateway", _gateway, bot_auth=False),
    Route("get_gateway_bot", "GET", "/gateway/bot", _gateway_bot),
    Route("get_application", "GET", "/oauth2/applications/@me", _application),
    Route("get_current_application", "GET", "/applications/@me", _application),
    Route("get_global_commands", "GET", f"{_APP}/commands", _get_commands),
    Route("overwrite_global_commands", "PUT", f"{_APP}/commands", _overwrite_commands),
    Route("create_global_command", "POST", f"{_APP}/commands", _create_command),
    Route("get_guild_commands", "GET", f"{_APP}/guilds/{{guild_id}}/commands", _get_commands),
    Route(
        "overwrite_guild_commands",
        "PUT",
        f"{_APP}/guilds/{{guild_id}}/commands",
        _overwrite_commands,
    ),
    Route("create_guild_command", "POST", f"{_APP}/guilds/{{guild_id}}/commands", _create_command),
    Route("get_channel", "GET", "/channels/{channel_id}", _get_channel),
    Route("create_message", "POST", "/channels/{channel_id}/messages", _create_message),
    Route("get_message", "GET", _MESSAGE, _get_message),
    Route("edit_message", "PATCH", _MESSAGE, _edit_message),
    Route("delete_message", "DELETE", _MESSAGE, _delete_message),
    Route("trigger_typing", "POST", "/channels/{channel_id}/typing", _typing),
    Route(
        "interaction_callback",
        "POST",
        "/interactions/{interaction_id}/{token}/callback",
        _callback,
        bot_auth=False,
    ),
    Route("create_followup", "POST", _HOOK, _followup, bot_auth=False),
    Route(
        "get_original_response",
        "GET",
        f"{_HOOK}/messages/@original",
        _get_webhook_message,
        bot_auth=False,
    ),
    Route(
        "edit_original_response",
        "PATCH",
        f"{_HOOK}/messages/@original",
        _edit_webhook_message,
        bot_auth=False,
    ),
    Route(
        "delete_original_response",
        "DELETE",
        f"{_HOOK}/messages/@original",
        _delete_webhook_message,
        bot_auth=False,
    ),
    Route(
        "get_followup",
        "GET",
        f"{_HOOK}/messages/{{message_id}}",
        _get_webhook_message,
        bot_auth=False,
    ),
    Route(
        "edit_followup",
        "PATCH",
        f"{_HOOK}/messages/{{message_id}}",
        _edit_webhook_message,
        bot_auth=False,
    ),
    Route(
        "delete_followup",
        "DELETE",
        f"{_HOOK}/messages/{{message_id}}",
        _delete_webhook_message,
        bot_auth=False,
    ),
)

#: The CDN's downloads are a route too, for faults and the call log.
CDN_ROUTE = "cdn_download"


def route_name(route: str) -> str:
    """A route's name from its name or discord.py's key ("POST /channels/{channel_id}/messages")."""
    names = {r.name for r in ROUTES} | {CDN_ROUTE}
    if route in names:
        return route
    blanked = re.sub(r"{\w+}", "{}", route.strip())
    for candidate in ROUTES:
        if candidate.key == blanked:
            return candidate.name
    raise ValueError(f"unknown route {route!r}; routes: {sorted(names)}")
