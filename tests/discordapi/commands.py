"""Application commands: registration checked and stored as Discord does (names, descriptions,
localizations, options and choices), and a user's invocation turned into interaction data."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from tests.discordapi import errors
from tests.discordapi.messages import store_file
from tests.discordapi.payloads import channel_json, member_json
from tests.discordapi.records import JSON, Channel, UploadLike, User, as_upload
from tests.discordapi.store import Store

#: Locales Discord accepts as keys of ``*_localizations``; "en" or "ru-RU" are refused.
LOCALES = frozenset(
    {
        "id",
        "da",
        "de",
        "en-GB",
        "en-US",
        "es-ES",
        "es-419",
        "fr",
        "hr",
        "it",
        "lt",
        "hu",
        "nl",
        "no",
        "pl",
        "pt-BR",
        "ro",
        "fi",
        "sv-SE",
        "vi",
        "tr",
        "cs",
        "el",
        "bg",
        "ru",
        "uk",
        "hi",
        "th",
        "zh-CN",
        "ja",
        "zh-TW",
        "ko",
    }
)

# Option types (Discord's values).
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN = 1, 2, 3, 4, 5
USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 6, 7, 8, 9, 10, 11

_NAME = re.compile(r"^[-_'\w]{1,32}$")
_GUILD_CONTEXT, _BOT_DM_CONTEXT = 0, 1


# ---- registration ----------------------------------------------------------------------------


def overwrite(store: Store, guild_id: int | None, payload: Any) -> list[JSON]:
    """PUT .../commands: replace the scope's commands; a name that stays keeps its id."""
    if not isinstance(payload, list):
        raise errors.invalid_form("_", "BASE_TYPE_ARRAY", "Must be an array.")
    names: set[tuple[int, str]] = set()
    for index, command in enumerate(payload):
        _check_command(command, str(index))
        key = (int(command.get("type", 1)), command["name"])
        if key in names:
            raise errors.invalid_form(
                f"{index}.name",
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        names.add(key)
    old = {(int(c["type"]), c["name"]): c for c in store.commands.get(guild_id, [])}
    stored = [_stored(store, guild_id, command, old) for command in payload]
    store.commands[guild_id] = stored
    store.bump()
    return copy.deepcopy(stored)


def upsert(store: Store, guild_id: int | None, command: Any) -> JSON:
    """POST .../commands: create one, or replace the one of that name."""
    if not isinstance(command, dict):
        raise errors.invalid_form("_", "BASE_TYPE_OBJECT", "Must be an object.")
    _check_command(command, "")
    current = store.commands.get(guild_id, [])
    key = (int(command.get("type", 1)), command["name"])
    old = {(int(c["type"]), c["name"]): c for c in current}
    stored = _stored(store, guild_id, command, old)
    store.commands[guild_id] = [c for c in current if (int(c["type"]), c["name"]) != key] + [stored]
    store.bump()
    return copy.deepcopy(stored)


def _stored(store: Store, guild_id: int | None, command: JSON, old: Mapping[Any, JSON]) -> JSON:
    kind = int(command.get("type", 1))
    previous = old.get((kind, command["name"]))
    stored: JSON = {
        "id": previous["id"] if previous else str(store.new_id()),
        "application_id": str(store.application_id),
        "version": str(store.new_id()),
        "type": kind,
        "name": command["name"],
        "name_localizations": command.get("name_localizations"),
        "description": command.get("description", ""),
        "description_localizations": command.get("description_localizations"),
        "options": copy.deepcopy(command.get("options") or []),
        "default_member_permissions": command.get("default_member_permissions"),
        "dm_permission": command.get("dm_permission", True),
        "contexts": command.get("contexts"),
        "integration_types": command.get("integration_types") or [0],
        "nsfw": bool(command.get("nsfw", False)),
    }
    if guild_id is not None:
        stored["guild_id"] = str(guild_id)
    return stored


def _check_command(command: Any, path: str) -> None:
    if not isinstance(command, dict):
        raise errors.invalid_form(path or "_", "BASE_TYPE_OBJECT", "Must be an object.")
    prefix = f"{path}." if path else ""
    kind = int(command.get("type", 1))
    _check_name(command.get("name"), f"{prefix}name", lower=kind == 1)
    if kind == 1:
        _check_description(command.get("description"), f"{prefix}description")
    elif command.get("description"):
        raise errors.invalid_form(
            f"{prefix}description",
            "APPLICATION_COMMAND_INVALID_DESCRIPTION",
            "Context menu commands have no description.",
        )
    _check_localizations(command, prefix, lower=kind == 1)
    _check_options(command.get("options") or [], f"{prefix}options")


def _check_options(options: list[JSON], path: str) -> None:
    if len(options) > 25:
        raise errors.invalid_form(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    optional_seen = False
    for index, option in enumerate(options):
        here = f"{path}.{index}"
        kind = int(option.get("type", 0))
        if not SUB_COMMAND <= kind <= ATTACHMENT:
            raise errors.invalid_form(
                f"{here}.type", "BASE_TYPE_CHOICES", f"Value must be one of {list(range(1, 12))}."
            )
        _check_name(option.get("name"), f"{here}.name", lower=True)
        _check_description(option.get("description"), f"{here}.description")
        _check_localizations(option, f"{here}.", lower=True)
        if kind in (SUB_COMMAND, SUB_COMMAND_GROUP):
            _check_options(option.get("options") or [], f"{here}.options")
            continue
        if option.get("required"):
            if optional_seen:
                raise errors.invalid_form(
                    f"{here}.required",
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        choices = option.get("choices") or []
        if len(choices) > 25:
            raise errors.invalid_form(
                f"{here}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
            )
        for choice_index, choice in enumerate(choices):
            where = f"{here}.choices.{choice_index}"
            name = choice.get("name")
            if not isinstance(name, str) or not 1 <= len(name) <= 100:
                raise errors.invalid_form(
                    f"{where}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                )
            for locale, text in (choice.get("name_localizations") or {}).items():
                _check_locale(locale, f"{where}.name_localizations")
                if not isinstance(text, str) or not 1 <= len(text) <= 100:
                    raise errors.invalid_form(
                        f"{where}.name_localizations.{locale}",
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 100 in length.",
                    )


def _check_name(name: Any, path: str, *, lower: bool) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise errors.invalid_form(
            path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
        )
    if lower and name != name.lower():
        raise errors.invalid_form(
            path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
        )


def _check_description(description: Any, path: str) -> None:
    if not isinstance(description, str) or not 1 <= len(description) <= 100:
        raise errors.invalid_form(
            path, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )


def _check_localizations(thing: JSON, prefix: str, *, lower: bool) -> None:
    for locale, name in (thing.get("name_localizations") or {}).items():
        _check_locale(locale, f"{prefix}name_localizations")
        _check_name(name, f"{prefix}name_localizations.{locale}", lower=lower)
    for locale, text in (thing.get("description_localizations") or {}).items():
        _check_locale(locale, f"{prefix}description_localizations")
        _check_description(text, f"{prefix}description_localizations.{locale}")


def _check_locale(locale: str, path: str) -> None:
    if locale not in LOCALES:
        raise errors.invalid_form(
            f"{path}.{locale}", "LOCALE_INVALID", f"Invalid locale {locale!r}."
        )


# ---- invocation ------------------------------------------------------------------------------


def find_command(store: Store, channel: Channel, name: str) -> JSON:
    """The registered chat-input command a user can pick here: the guild's, then global;
    as the Discord client would not offer it, a command not usable here is a test error."""
    top = name.split()[0]
    scopes: list[int | None] = [channel.guild_id, None] if channel.guild_id else [None]
    for scope in scopes:
        for command in store.commands.get(scope, []):
            if command["type"] == 1 and command["name"] == top:
                _check_context(command, channel)
                return command
    registered = {scope: [c["name"] for c in cs] for scope, cs in store.commands.items()}
    raise AssertionError(f"no command /{top} is registered for channel {channel.id}: {registered}")


def _check_context(command: JSON, channel: Channel) -> None:
    contexts = command.get("contexts")
    context = _BOT_DM_CONTEXT if channel.kind == "dm" else _GUILD_CONTEXT
    allowed = (
        context in contexts
        if contexts is not None
        else (context == _GUILD_CONTEXT or command.get("dm_permission", True))
    )
    if not allowed:
        where = "a DM" if channel.kind == "dm" else "a guild"
        raise AssertionError(f"/{command['name']} is not offered in {where}: contexts={contexts}")


def build_data(
    store: Store,
    command: JSON,
    name: str,
    values: Mapping[str, Any],
    channel: Channel,
) -> JSON:
    """The interaction's ``data``: the options as the client sends them, attachments uploaded
    (ephemerally) and resolved in ``data.resolved``."""
    resolved: JSON = {}
    specs: list[JSON] = command.get("options") or []
    path = name.split()[1:]  # subcommand (group) names
    nest: list[list[JSON]] = []
    for part in path:
        spec = next((o for o in specs if o["name"] == part and o["type"] in (1, 2)), None)
        if spec is None:
            raise AssertionError(f"/{command['name']} has no subcommand {part!r}")
        nest.append([{"name": part, "type": spec["type"]}])  # filled below
        specs = spec.get("options") or []
    options = _options(store, command["name"], specs, values, channel, resolved)
    for level in reversed(nest):
        level[0]["options"] = options
        options = level
    data: JSON = {"id": command["id"], "name": command["name"], "type": 1, "options": options}
    if resolved:
        data["resolved"] = resolved
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    return data


def _options(
    store: Store,
    command: str,
    specs: list[JSON],
    values: Mapping[str, Any],
    channel: Channel,
    resolved: JSON,
) -> list[JSON]:
    by_name = {spec["name"]: spec for spec in specs}
    unknown = set(values) - set(by_name)
    if unknown:
        raise AssertionError(
            f"/{command} has no option(s) {sorted(unknown)}; it has {sorted(by_name)}"
        )
    missing = [s["name"] for s in specs if s.get("required") and s["name"] not in values]
    if missing:
        raise AssertionError(f"/{command} needs option(s) {missing}")
    options = []
    for spec in specs:  # in the order the client shows them
        if spec["name"] in values:
            value = _value(store, command, spec, values[spec["name"]], channel, resolved)
            options.append({"name": spec["name"], "type": spec["type"], "value": value})
    return options


def _value(
    store: Store, command: str, spec: JSON, value: Any, channel: Channel, resolved: JSON
) -> Any:
    kind = spec["type"]
    choices = spec.get("choices")
    if choices:
        for choice in choices:
            if value in (choice["value"], choice["name"]):
                return choice["value"]
        allowed = [choice["value"] for choice in choices]
        raise AssertionError(f"/{command} {spec['name']}: {value!r} is not one of {allowed}")
    if kind == ATTACHMENT:
        upload: UploadLike = value
        attachment = store_file(store, channel.id, as_upload(upload), ephemeral=True)
        resolved.setdefault("attachments", {})[str(attachment.id)] = attachment.json()
        return str(attachment.id)
    if kind == USER:
        user: User = value
        resolved.setdefault("users", {})[str(user.id)] = user.json()
        if channel.guild_id is not None:
            member = member_json(store.guilds[channel.guild_id], user, with_user=False)
            resolved.setdefault("members", {})[str(user.id)] = member
        return str(user.id)
    if kind == CHANNEL:
        target: Channel = value
        resolved.setdefault("channels", {})[str(target.id)] = channel_json(store, target)
        return str(target.id)
    expected: dict[int, type | tuple[type, ...]] = {
        STRING: str,
        INTEGER: int,
        BOOLEAN: bool,
        NUMBER: (int, float),
    }
    if kind in expected and not isinstance(value, expected[kind]):
        raise AssertionError(f"/{command} {spec['name']}: {value!r} is not of option type {kind}")
    return value
