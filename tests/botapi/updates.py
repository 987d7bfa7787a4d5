"""Getting updates: the long poll, and the webhook switch PTB flips before polling."""

from __future__ import annotations

import copy
import time
from http import HTTPStatus

from tests.botapi.errors import ApiError
from tests.botapi.records import JSON, Files
from tests.botapi.store import Store

_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)


def get_updates(store: Store, p: JSON, files: Files) -> list[JSON]:
    """Waits until there are updates; a newer poll ends this one with 409, as on Telegram."""
    offset = p.get("offset")
    if isinstance(offset, int) and offset > 0:  # confirms every earlier update
        store.updates = [u for u in store.updates if u["update_id"] >= offset]
    limit = min(max(int(p.get("limit") or 100), 1), 100)
    allowed = p.get("allowed_updates") or []
    store.poll_generation += 1
    generation = store.poll_generation
    deadline = time.monotonic() + min(float(p.get("timeout") or 0), store.max_poll_timeout)
    while True:
        batch = [u for u in store.updates if not allowed or any(k in u for k in allowed)]
        if batch or store.stopping:
            if batch:
                store.outage.updates_delivered()
            return copy.deepcopy(batch[:limit])
        if generation != store.poll_generation:
            raise ApiError(HTTPStatus.CONFLICT, _CONFLICT)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return []
        store.cond.wait(remaining)


def delete_webhook(store: Store, p: JSON, files: Files) -> bool:
    if p.get("drop_pending_updates"):
        store.updates.clear()
    return True
