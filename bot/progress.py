"""One message per job, edited in place: queue position, then percent, stage and ETA.

The message is a photo (the pair preview at first) so that, now and then, its picture can be
swapped for the work in progress. Two coroutines share the job: one drains the job's events
(so nothing piles up in memory while Telegram is slow) and one edits the message with the
job's *latest* state, at most once per ``interval`` per chat. Edits that change nothing,
flood limits and a message the user deleted are all expected and handled here.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, InputMediaPhoto, ReplyParameters
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from engine.queue import Failed, Finished, Job, WasCancelled

from . import media, texts

logger = logging.getLogger(__name__)

Outcome = Finished | Failed | WasCancelled
Clock = Callable[[], float]


@dataclass(frozen=True)
class Target:
    """Where a job's messages go: the chat, and in groups the message they answer."""

    chat_id: int
    reply_to_message_id: int | None = None

    @property
    def reply_parameters(self) -> ReplyParameters | None:
        if self.reply_to_message_id is None:
            return None
        return ReplyParameters(self.reply_to_message_id, allow_sending_without_reply=True)


class ChatThrottle:
    """Spaces progress edits in each chat at least ``interval`` seconds apart.

    A caller reserves the next free slot before it sleeps, so several jobs in one group
    chat take turns instead of bursting together.
    """

    _PRUNE_ABOVE = 1024

    def __init__(self, interval: float, clock: Clock = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._next_slot: dict[int, float] = {}

    async def turn(self, chat_id: int) -> None:
        """Wait until this chat may see another edit."""
        now = self._clock()
        slot = max(now, self._next_slot.get(chat_id, now))
        self._next_slot[chat_id] = slot + self.interval
        self._prune(now)
        if slot > now:
            await asyncio.sleep(slot - now)

    def _prune(self, now: float) -> None:
        if len(self._next_slot) > self._PRUNE_ABOVE:
            self._next_slot = {chat: t for chat, t in self._next_slot.items() if t > now}


class ProgressMessage:
    """The one message that mirrors a job until it ends."""

    def __init__(
        self,
        bot: Bot,
        target: Target,
        throttle: ChatThrottle,
        *,
        markup: InlineKeyboardMarkup,
        preview_interval: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self._bot = bot
        self._target = target
        self._throttle = throttle
        self._markup = markup
        self._preview_interval = preview_interval
        self._clock = clock
        self._message_id: int | None = None
        self._caption: str | None = None
        self._last_preview = clock()
        self._changed = asyncio.Event()
        self._outcome: Outcome | None = None

    async def follow(self, job: Job, picture: str | bytes) -> Outcome:
        """Send the message, keep it current until the job ends, and return how it ended."""
        await self._send(picture, _caption(job))
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._watch(job))
            tasks.create_task(self._keep_current(job))
        assert self._outcome is not None
        return self._outcome

    async def close(self, caption: str, markup: InlineKeyboardMarkup | None = None) -> None:
        """The final edit, right away: how the job ended (and buttons, if any)."""
        for _attempt in range(2):
            delay = await self._edit(caption, markup)
            if not delay:
                return
            await asyncio.sleep(delay)

    async def _send(self, picture: str | bytes, caption: str) -> None:
        try:
            message = await self._bot.send_photo(
                self._target.chat_id,
                picture,
                caption=caption,
                reply_markup=self._markup,
                reply_parameters=self._target.reply_parameters,
            )
        except TelegramError as error:
            # The job goes on: its result is still delivered, just without live progress.
            logger.warning("Could not send a progress message to %s: %s", self._target, error)
            return
        self._message_id = message.message_id
        self._caption = caption

    async def _watch(self, job: Job) -> None:
        async for event in job.events():
            if isinstance(event, Finished | Failed | WasCancelled):
                self._outcome = event
            self._changed.set()

    async def _keep_current(self, job: Job) -> None:
        while True:
            await self._changed.wait()
            if self._ended():
                return
            await self._throttle.turn(self._target.chat_id)
            if self._ended():  # the job may have ended while this chat waited its turn
                return
            self._changed.clear()  # what changes from here on is shown next round
            delay = await self._show(job)
            if delay:
                await asyncio.sleep(delay)

    def _ended(self) -> bool:
        return self._outcome is not None

    async def _show(self, job: Job) -> float:
        """Edit the message to the job's current state; returns seconds to back off."""
        caption = _caption(job)
        progress = job.last_progress
        if progress is None:  # previews are spaced from the moment painting starts
            self._last_preview = self._clock()
        elif self._preview_due():
            self._last_preview = self._clock()
            try:
                picture = await media.rendered_jpeg(progress.preview)
            except (OSError, ValueError):
                logger.exception("Could not render a preview of job %d", job.id)
            else:
                return await self._edit(caption, self._markup, picture)
        if caption == self._caption:
            return 0.0
        return await self._edit(caption, self._markup)

    def _preview_due(self) -> bool:
        interval = self._preview_interval
        return interval > 0 and self._clock() - self._last_preview >= interval

    async def _edit(
        self, caption: str, markup: InlineKeyboardMarkup | None, picture: bytes | None = None
    ) -> float:
        """One edit of caption (and picture); returns seconds to wait after a flood limit."""
        if self._message_id is None:
            return 0.0
        where: dict[str, Any] = {"chat_id": self._target.chat_id, "message_id": self._message_id}
        try:
            if picture is None:
                await self._bot.edit_message_caption(caption=caption, reply_markup=markup, **where)
            else:
                photo = InputMediaPhoto(picture, caption=caption)
                await self._bot.edit_message_media(photo, reply_markup=markup, **where)
        except BadRequest as error:
            self._on_refused(error)
        except RetryAfter as error:
            logger.info("Flood limit in chat %d; backing off", self._target.chat_id)
            return retry_after_seconds(error)
        except Forbidden as error:
            logger.info("Chat %d is closed to the bot: %s", self._target.chat_id, error)
            self._message_id = None
        except NetworkError as error:
            logger.warning("Could not update a progress message: %s", error)
        else:
            self._caption = caption
        return 0.0

    def _on_refused(self, error: BadRequest) -> None:
        reason = error.message.lower()
        if "not modified" in reason:
            return
        if "not found" in reason:  # the user deleted it: stop editing, keep the job
            self._message_id = None
            return
        logger.warning("Telegram refused a progress edit: %s", error.message)


def _caption(job: Job) -> str:
    if job.state == "queued":
        return texts.queued(job.ahead)
    progress = job.last_progress
    if progress is None:
        return texts.STARTING
    return texts.painting(progress.fraction, progress.scale + 1, progress.scales, progress.eta)


def retry_after_seconds(error: RetryAfter) -> float:
    """``RetryAfter.retry_after`` in seconds, whichever type this PTB version returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)  # int -> timedelta migration
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)
