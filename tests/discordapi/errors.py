"""Discord's error answers: JSON ``{"message", "code", "errors"?}`` with its status codes, so
discord.py raises the same exceptions (``NotFound``, ``Forbidden``, ``HTTPException``...)."""

from __future__ import annotations

from http import HTTPStatus

from tests.discordapi.records import JSON


class DiscordError(Exception):
    """An error answer: raised by the routes, turned into JSON by the HTTP layer."""

    def __init__(self, status: int, code: int, message: str, errors: JSON | None = None) -> None:
        super().__init__(message)
        self.status = int(status)
        self.code = code
        self.message = message
        self.errors = errors

    def payload(self) -> JSON:
        body: JSON = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def unauthorized() -> DiscordError:
    return DiscordError(HTTPStatus.UNAUTHORIZED, 0, "401: Unauthorized")


def route_not_found() -> DiscordError:
    return DiscordError(HTTPStatus.NOT_FOUND, 0, "404: Not Found")


def method_not_allowed() -> DiscordError:
    return DiscordError(HTTPStatus.METHOD_NOT_ALLOWED, 0, "405: Method Not Allowed")


def unknown_channel() -> DiscordError:
    return DiscordError(HTTPStatus.NOT_FOUND, 10003, "Unknown Channel")


def unknown_message() -> DiscordError:
    return DiscordError(HTTPStatus.NOT_FOUND, 10008, "Unknown Message")


def unknown_user() -> DiscordError:
    return DiscordError(HTTPStatus.NOT_FOUND, 10013, "Unknown User")


def unknown_webhook() -> DiscordError:
    return DiscordError(HTTPStatus.NOT_FOUND, 10015, "Unknown Webhook")


def unknown_interaction() -> DiscordError:
    return DiscordError(HTTPStatus.NOT_FOUND, 10062, "Unknown interaction")


def unknown_command() -> DiscordError:
    return DiscordError(HTTPStatus.NOT_FOUND, 10063, "Unknown application command")


def invalid_webhook_token() -> DiscordError:
    return DiscordError(HTTPStatus.UNAUTHORIZED, 50027, "Invalid Webhook Token")


def already_acknowledged() -> DiscordError:
    return DiscordError(HTTPStatus.BAD_REQUEST, 40060, "Interaction has already been acknowledged.")


def not_author() -> DiscordError:
    return DiscordError(
        HTTPStatus.FORBIDDEN, 50005, "Cannot edit a message authored by another user"
    )


def empty_message() -> DiscordError:
    return DiscordError(HTTPStatus.BAD_REQUEST, 50006, "Cannot send an empty message")


def too_large() -> DiscordError:
    return DiscordError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, 40005, "Request entity too large")


def invalid_form(path: str, code: str, message: str) -> DiscordError:
    """50035 with Discord's nested ``errors``: ``path`` like "components.0.components.1.label"."""
    errors: JSON = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(path.split(".")):
        errors = {key: errors}
    return DiscordError(HTTPStatus.BAD_REQUEST, 50035, "Invalid Form Body", errors)
