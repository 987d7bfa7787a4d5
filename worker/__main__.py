"""``python -m worker`` / ``stylebot-worker``: paint the jobs of the Redis queue until stopped.

Reads the same settings as the bot (``QUEUE_URL`` must be a redis:// URL; ``BOT_TOKEN`` is
not needed), loads the model once, then takes one job at a time. SIGTERM or SIGINT hands the
running job back to the queue (another worker starts it again; one nearly done is finished
first) and exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from redis.exceptions import ConnectionError as RedisConnectionError

import config
from config import Settings, SettingsError, load_settings
from jobqueue.redis import RedisQueue

logger = logging.getLogger("worker")

NOT_REDIS = (
    "stylebot-worker: QUEUE_URL must name the bot's Redis queue, like redis://host:6379/0 "
    "(the embedded queue has no separate workers)"
)
#: Seconds for stopping: a nearly finished job may take two thirds of it to end.
STOP_GRACE = 15.0


def main() -> int:
    """Run the worker; returns the exit code (2 for a configuration problem)."""
    try:
        settings = load_settings(require_token=False)
    except SettingsError as error:
        print(f"stylebot-worker: {error}", file=sys.stderr)
        return 2
    if not settings.queue_url.startswith(("redis://", "rediss://")):
        print(NOT_REDIS, file=sys.stderr)
        return 2
    configure_logging(settings)

    from .painter import painter_for  # imports torch: only once settings are fine

    queue = RedisQueue(settings.queue_url, painter_for(settings), max_waiting=settings.queue_max)
    return asyncio.run(serve(queue))


def configure_logging(settings: Settings) -> None:
    """The bot's logging (LOG_LEVEL, LOG_FORMAT, every secret masked), with saq's own lines
    only from WARNING up (ours log each job, with its id) and fewer of them."""
    config.configure_logging(settings, quiet=["saq"])
    logging.getLogger("saq").addFilter(_SaqLogs())


class _SaqLogs(logging.Filter):
    """saq's log, less noisy: no warning at every stop that its (zero) grace period ran
    out (it is how it stops), and one line, not a traceback, for each failed look at Redis
    while Redis is away."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "did not finish within the shutdown grace period" in record.getMessage():
            return False
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, RedisConnectionError | OSError):
            record.msg, record.args = f"{record.getMessage()}: {error}", None
            record.exc_info = record.exc_text = None
        return True


async def serve(queue: RedisQueue, stop: asyncio.Event | None = None) -> int:
    """Start ``queue`` (its painter warms up), paint until ``stop`` or a signal, close it."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):  # a signal during warm-up stops right after
        loop.add_signal_handler(signum, stop.set)
    try:
        try:
            await queue.start()
        except Exception as error:
            logger.error("Cannot start: %s", error, exc_info=not isinstance(error, ConnectionError))
            return 1
        logger.info("Waiting for jobs")
        await stop.wait()
        logger.info("Stopping: a running job goes back to the queue")
        return 0
    finally:
        await queue.close(grace=STOP_GRACE)
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        logger.info("Stopped")


if __name__ == "__main__":
    sys.exit(main())
