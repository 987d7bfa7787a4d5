"""Bot API error answers, shaped like Telegram's so PTB raises the same exceptions."""

from __future__ import annotations

from http import HTTPStatus

from tests.botapi.records import JSON


class ApiError(Exception):
    """An error answer: raised by the methods, turned into JSON by the dispatcher."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = int(code)
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(HTTPStatus.BAD_REQUEST, f"Bad Request: {reason}")


def not_found() -> ApiError:
    return ApiError(HTTPStatus.NOT_FOUND, "Not Found")
