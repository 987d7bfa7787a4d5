"""Hearing of job changes: saq publishes every status change on the job's channel; one
connection listens to all of them and hands each message to every listener in this process,
who keeps what concerns it (a follower, a painter watching for its job's cancel)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError
from saq.queue.redis import PubSubMultiplexer

logger = logging.getLogger(__name__)

#: The listeners' channel that hears every job.
ALL = "*"

Inbox = asyncio.Queue[dict[Any, Any]]


class Notes(PubSubMultiplexer):
    """saq's listener of all the queue's job channels on one connection, handing every
    message to every subscriber of ``ALL`` (saq's own routes by exact channel)."""

    def publish(self, channel: str, message: Any) -> None:
        # every listener hears every job: ``channel`` is saq's signature only (mutants of the
        # argument passed here are equivalent)
        for inbox in self._subscriptions[ALL]:
            inbox.put_nowait(message)

    async def _start(self) -> None:
        """saq's loop, but one that waits (and says so once) while Redis is away: saq's
        retries at once and logs a traceback each time, hundreds a second."""
        pause, subscribed = 0.0, False
        while True:
            try:
                if not subscribed:  # redis-py subscribes again by itself after a reconnect
                    await self.pubsub.psubscribe(f"{self.prefix}*")
                    subscribed = True
                message = await self.pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                return
            except (RedisError, OSError) as error:
                if not pause:
                    logger.warning("Lost Redis (%s); job notifications wait for it", error)
                pause = min(pause * 2 or 0.1, 5.0)
                await asyncio.sleep(pause)
                continue
            if pause:
                logger.info("Redis is back")
                pause = 0.0
            if message and message["type"] == "pmessage":
                channel = message["channel"]
                message["channel"] = channel.decode() if isinstance(channel, bytes) else channel
                self.publish(message["channel"], message)  # (channel unused: see publish)

    async def ready(self, redis: aioredis.Redis, probe: str, timeout: float = 5.0) -> None:
        """Wait until the subscription is live on the server (it starts in the background)."""
        inbox = await self.subscribe(ALL)
        try:
            deadline = time.monotonic() + timeout
            # ("<=": the deadline's very instant, never seen twice; the probe's words: only its
            # channel is read: such mutants are equivalent)
            while time.monotonic() < deadline:
                await redis.publish(probe, "probe")
                with contextlib.suppress(TimeoutError):
                    while True:
                        message = await asyncio.wait_for(inbox.get(), 0.05)
                        if message["channel"] == probe:
                            return
            logger.warning("Job notifications did not start within %.0f s; polling", timeout)
        finally:
            await self.unsubscribe(inbox)

    @staticmethod
    async def wait(inbox: Inbox, channel: str, any_job: bool, timeout: float) -> None:
        """Until the job on ``channel`` (or, with ``any_job``, any job) changes, or ``timeout``."""
        deadline = time.monotonic() + timeout
        # (">= 0": waiting 0 s more times out at once, the same: equivalent)
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = await asyncio.wait_for(inbox.get(), left)
            except TimeoutError:
                return
            if message["channel"] == channel or any_job:
                if message["channel"] != channel:
                    await asyncio.sleep(0.05)  # other jobs' changes come in bursts
                while not inbox.empty():
                    inbox.get_nowait()
                return


async def stop_task(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait for it. Again if need be: on Python 3.11 a cancel that lands
    as redis-py's ``wait_for`` around a send completes is lost (CPython gh-86296)."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)
