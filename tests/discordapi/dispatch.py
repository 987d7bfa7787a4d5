"""Dispatching REST and CDN requests: find the route, record the call, answer injected errors
and rate limits (Discord's 429 with its headers) first, run the handler with the lock held."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import math
import time
import traceback
from http import HTTPStatus

from tests.discordapi import errors
from tests.discordapi.errors import DiscordError
from tests.discordapi.messages import cdn_signature_ok
from tests.discordapi.records import ApiCall
from tests.discordapi.rest import CDN_ROUTE, ROUTES, Reply, Request, Route
from tests.discordapi.store import RateLimitWindow, Store


class RestApi:
    """Finds the route, records the call, answers faults, runs the handler (lock held)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._routes = [(route, route.pattern) for route in ROUTES]

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]] | DiscordError:
        allowed = False
        for route, pattern in self._routes:
            match = pattern.match(path)
            if match is None:
                continue
            if route.method == method:
                return route, match.groupdict()
            allowed = True
        return errors.method_not_allowed() if allowed else errors.route_not_found()

    def handle(self, request: Request) -> Reply:
        store = self.store
        found = self.find(request.method, request.path)
        with store.cond:
            call = ApiCall(
                seq=store.bump(),
                route="unknown" if isinstance(found, DiscordError) else found[0].name,
                method=request.method,
                path=request.path,
                params=copy.deepcopy(request.body.params),
                files=list(request.body.files),
            )
            store.calls.append(call)
            reply = self._answer(found, request, call)
            call.status = reply.status
            call.response = copy.deepcopy(reply.payload)
            if isinstance(reply.payload, dict) and not call.ok:
                call.error_code = reply.payload.get("code")
            store.bump()
            return dataclasses.replace(reply, headers={**_bucket_headers(found), **reply.headers})

    def _answer(
        self, found: tuple[Route, dict[str, str]] | DiscordError, request: Request, call: ApiCall
    ) -> Reply:
        if isinstance(found, DiscordError):
            return Reply(found.status, found.payload())
        route, args = found
        if route.bot_auth and request.authorization != f"Bot {self.store.token}":
            error = errors.unauthorized()
            return Reply(error.status, error.payload())
        limited, lost = self._fault(route.name)
        if limited is not None and not lost:
            return limited
        try:
            status, payload = route.handler(self.store, args, request)
        except DiscordError as error:
            return Reply(error.status, error.payload())
        except Exception:  # a bug of this fake: the test must fail, the client gets a 500
            self.store.internal_errors.append(traceback.format_exc())
            return Reply(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                {"message": "500: Internal Server Error", "code": 0},
            )
        return limited or Reply(status, payload)  # a lost answer: done, yet the error told

    def fault(self, name: str) -> Reply | None:
        """An injected error or a 429 for this call, or None (lock held)."""
        return self._fault(name)[0]

    def _fault(self, name: str) -> tuple[Reply | None, bool]:
        """The injected answer for this call, and whether the call takes effect all the same
        (its answer lost); (None, False) for none (lock held)."""
        store = self.store
        now = time.monotonic()
        for key in (name, "*"):
            window = store.limited.get(key)
            if window is not None and now < window.until:  # retried too early: limited again
                reply = rate_limited(window.until - now, window.is_global, window.scope, key)
                return reply, False
        queue = store.faults.get(name)
        if not queue:
            return None, False
        fault = queue.pop(0)
        if fault.error is not None:
            return Reply(fault.error.status, fault.error.payload()), fault.lost
        key = "*" if fault.is_global else name
        store.limited[key] = RateLimitWindow(now + fault.retry_after, fault.is_global, fault.scope)
        return rate_limited(fault.retry_after, fault.is_global, fault.scope, key), False


def rate_limited(retry_after: float, is_global: bool, scope: str, bucket: str) -> Reply:
    """Discord's 429: the JSON body discord.py reads and the headers others read."""
    headers = {
        "Retry-After": str(math.ceil(retry_after)),
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Scope": scope,
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    else:
        headers["X-RateLimit-Bucket"] = hashlib.md5(bucket.encode()).hexdigest()[:16]
    body = {
        "message": "You are being rate limited.",
        "retry_after": round(retry_after, 3),
        "global": is_global,
    }
    return Reply(HTTPStatus.TOO_MANY_REQUESTS, body, headers)


def _bucket_headers(found: tuple[Route, dict[str, str]] | DiscordError) -> dict[str, str]:
    """A generous bucket on every answer (real buckets are not modelled): clients that read
    the headers never wait before asking."""
    if isinstance(found, DiscordError):
        return {}
    return {
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": "49",
        "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
        "X-RateLimit-Reset-After": "1.000",
        "X-RateLimit-Bucket": found[0].bucket,
    }


def download(api: RestApi, path: str, query: dict[str, str]) -> Reply:
    """GET /cdn/(ephemeral-)attachments/{channel}/{attachment}/{filename} (also under /media/,
    the proxy_url): the bytes, if the signed query is the one the attachment was given."""
    store = api.store
    parts = path.strip("/").split("/")
    with store.cond:
        call = ApiCall(
            seq=store.bump(), route=CDN_ROUTE, method="GET", path=path, params=dict(query), files=[]
        )
        store.calls.append(call)
        reply = api.fault(CDN_ROUTE)
        if reply is None:
            attachment = None
            if len(parts) == 5 and parts[1] in ("attachments", "ephemeral-attachments"):
                with contextlib.suppress(ValueError):
                    attachment = store.files.get(int(parts[3]))
            if (
                attachment is None
                or attachment.filename != parts[4]
                or not cdn_signature_ok(attachment.id, query)
            ):
                reply = Reply(
                    HTTPStatus.NOT_FOUND,
                    b"This content is no longer available.",
                    {"Content-Type": "text/plain"},
                )
            else:
                store.downloads.append(attachment.id)
                content_type = attachment.content_type or "application/octet-stream"
                reply = Reply(HTTPStatus.OK, attachment.data, {"Content-Type": content_type})
        call.status = reply.status
        if isinstance(reply.payload, dict):
            call.error_code = reply.payload.get("code")
        store.bump()
        return reply
