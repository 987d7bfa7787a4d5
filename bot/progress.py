"""One message per job, edited in place: queue position, then percent, stage and ETA.

The message is a photo (the pair preview at first) so that, now and then, its picture can be
swapped for the work in progress. Two coroutines share the job: one drains the job's events
(so nothing piles up in memory while the chat platform is slow) and one edits the message with the
job's *latest* state, at most once per ``interval`` per chat. Edits that change nothing,
rate limits and a message the user deleted are all expected and handled here, in the
platform-neutral terms of ``bot.messenger``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from jobqueue import (
    Cancelled,
    Failed,
    Finished,
    JobEvent,
    Progressed,
    ProgressInfo,
    Queued,
    Requeued,
)

from . import texts
from .i18n import Translator
from .messenger import Gone, Keyboard, Messenger, Place, Refused, SlowDown, Trouble, Unchanged
from .retry import brief, with_retries

logger = logging.getLogger(__name__)

Outcome = Finished | Failed | Cancelled
Clock = Callable[[], float]


class ChatThrottle:
    """Spaces progress edits: ``interval`` seconds apart in each chat, and at most
    ``overall_per_second`` over all chats.

    Telegram takes about 30 messages a second from a bot; keeping progress edits well below
    leaves room for what users wait for (answers, pairs, results), even when fifty queued
    jobs all move up a place at once. A caller reserves the next free slot before it
    sleeps, so several jobs in one group chat take turns instead of bursting together.
    """

    _PRUNE_ABOVE = 1024

    def __init__(
        self, interval: float, overall_per_second: float = 10.0, clock: Clock = time.monotonic
    ) -> None:
        self.interval = interval
        self.spacing = 1 / overall_per_second
        self._clock = clock
        self._next_slot: dict[int, float] = {}
        self._next_any = clock()

    async def turn(self, chat_id: int) -> None:
        """Wait until this chat may see another edit."""
        now = self._clock()
        slot = max(now, self._next_slot.get(chat_id, now), self._next_any)
        self._next_slot[chat_id] = slot + self.interval
        self._next_any = slot + self.spacing
        self._prune(now)
        if slot > now:  # (">=": a sleep of 0 s changes nothing: equivalent)
            await asyncio.sleep(slot - now)

    def _prune(self, now: float) -> None:
        # (">=" in either place: memory for one chat more, a slot at ``now`` waits 0 s whether
        # kept or not: equivalent)
        if len(self._next_slot) > self._PRUNE_ABOVE:
            self._next_slot = {chat: t for chat, t in self._next_slot.items() if t > now}


class ProgressMessage:
    """The one message that mirrors a job until it ends."""

    def __init__(
        self,
        messenger: Messenger,
        place: Place,
        throttle: ChatThrottle,
        *,
        t: Translator,
        keyboard: Keyboard,
        preview_interval: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self._messenger = messenger
        self._t = t  # the language of the job's user
        self._place = place
        self._throttle = throttle
        self._keyboard = keyboard
        self._preview_interval = preview_interval
        self._clock = clock
        self.message_id: int | None = None
        self._caption: str | None = None  # (no caption is "" either: equivalent)
        self._last_preview = clock()
        self._changed = asyncio.Event()
        # (the first event replaces it, or the job has ended and close() rewrites the caption
        # at once: another placeholder is equivalent)
        self._state: JobEvent = Queued(0)
        self._preview: bytes | None = None  # the latest preview not shown yet
        self._outcome: Outcome | None = None

    async def follow(
        self,
        events: AsyncIterator[JobEvent],
        picture: str | bytes | None,
        message_id: int | None = None,
        *,
        on_sent: Callable[[int], Awaitable[None]] | None = None,
    ) -> Outcome:
        """Show the job until it ends, and return how it ended.

        The message is ``message_id`` (a job picked up after a restart: only out of date) or
        a new photo of ``picture`` (``on_sent`` learns its id); with neither, no message.
        The first event is the job's current state, so the message starts out right.
        """
        self._take(await anext(events))
        if message_id is not None:
            self.message_id = message_id
            self._changed.set()
        elif picture is not None:
            await self._send(picture, _caption(self._t, self._state))
            if self.message_id is not None and on_sent is not None:
                await on_sent(self.message_id)
        if self._outcome is None:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._watch(events))
                tasks.create_task(self._keep_current())
        assert self._outcome is not None
        return self._outcome

    @property
    def last_progress(self) -> ProgressInfo | None:
        return self._state.progress if isinstance(self._state, Progressed) else None

    async def close(
        self, caption: str, keyboard: Keyboard | None = None, *, give_up_after: float
    ) -> None:
        """The final edit, right away (how the job ended, and buttons, if any), retried."""
        await with_retries(
            lambda: self._final_edit(caption, keyboard),
            give_up_after,
            f"final edit in {self._place}",
        )

    async def _final_edit(self, caption: str, keyboard: Keyboard | None) -> None:
        if self.message_id is None:
            return
        try:
            await self._messenger.edit_caption(
                self._place.chat_id, self.message_id, caption, keyboard
            )
        except Refused as error:
            self._on_refused(error)

    async def _send(self, picture: str | bytes, caption: str) -> None:
        try:
            sent = await self._messenger.send_photo(self._place, picture, caption, self._keyboard)
        except Trouble as error:
            # The job goes on: its result is still delivered, just without live progress.
            logger.warning("Could not send a progress message to %s: %s", self._place, error)
            return
        self.message_id = sent.message_id
        self._caption = caption

    async def _watch(self, events: AsyncIterator[JobEvent]) -> None:
        async for event in events:
            self._take(event)
            self._changed.set()

    def _take(self, event: JobEvent) -> None:
        if isinstance(event, Finished | Failed | Cancelled):
            self._outcome = event
            return
        self._state = event
        if isinstance(event, Progressed) and event.progress.preview is not None:
            self._preview = event.progress.preview

    async def _keep_current(self) -> None:
        while True:
            await self._changed.wait()
            if self._ended():
                return
            await self._throttle.turn(self._place.chat_id)
            if self._ended():  # the job may have ended while this chat waited its turn
                return
            self._changed.clear()  # what changes from here on is shown next round
            delay = await self._show()
            if delay:
                await asyncio.sleep(delay)

    def _ended(self) -> bool:
        return self._outcome is not None

    async def _show(self) -> float:
        """Edit the message to the job's current state; returns seconds to back off."""
        caption = _caption(self._t, self._state)
        if not isinstance(self._state, Progressed):  # previews are spaced from painting's start
            self._last_preview = self._clock()
        elif self._preview is not None and self._preview_due():
            self._last_preview = self._clock()
            picture, self._preview = self._preview, None
            return await self._edit(caption, picture)
        if caption == self._caption:
            return 0.0
        return await self._edit(caption)

    def _preview_due(self) -> bool:
        interval = self._preview_interval
        return interval > 0 and self._clock() - self._last_preview >= interval

    async def _edit(self, caption: str, picture: bytes | None = None) -> float:
        """One edit of caption (and picture); returns seconds to wait after a rate limit."""
        if self.message_id is None:
            return 0.0
        chat, message, keyboard = self._place.chat_id, self.message_id, self._keyboard
        try:
            if picture is None:
                await self._messenger.edit_caption(chat, message, caption, keyboard)
            else:
                await self._messenger.edit_photo(chat, message, picture, caption, keyboard)
        except Refused as error:
            self._on_refused(error)
        except SlowDown as error:
            logger.info("Rate limit in chat %d; backing off", chat)
            return error.seconds
        except Trouble as error:
            logger.warning("Could not update a progress message: %s", brief(error))
        else:
            self._caption = caption
        return 0.0

    def _on_refused(self, error: Refused) -> None:
        if isinstance(error, Unchanged):
            return
        if isinstance(error, Gone):  # deleted, or the chat closed: stop editing, keep the job
            logger.info("The progress message in chat %d is gone: %s", self._place.chat_id, error)
            self.message_id = None
            return
        logger.warning("A progress edit was refused: %s", error)


def _caption(t: Translator, state: JobEvent) -> str:
    match state:
        case Queued(ahead=ahead, no_painter=True):  # the job waits for a painter to come
            return f"{texts.queued(t, ahead)}\n{t(texts.NO_PAINTER_YET)}"
        case Queued(ahead=ahead):
            return texts.queued(t, ahead)
        case Progressed(progress=progress):
            return texts.painting(
                t, progress.fraction, progress.scale + 1, progress.scales, progress.eta
            )
        case Requeued():
            return t(texts.REQUEUED)
        case _:
            return t(texts.STARTING)
