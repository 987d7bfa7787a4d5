"""The bot's life apart from any platform: its shared state (:func:`prepare`), opening and
closing it, and the chores that run beside the conversation — picking up jobs nobody
reports, forgetting idle sessions, and watching the queue for the metrics and the health
check. A front-end (``bot.telegram.app``) calls these from its own start and stop."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector

from config.settings import Settings
from jobqueue import JobQueue
from jobqueue.embedded import EmbeddedQueue

from . import jobs
from .buttons import button_key
from .context import BotData
from .gallery import Gallery
from .limits import Limits
from .metrics import (
    NO_PAINTER,
    NOT_RECEIVING,
    QUEUE_UNREACHABLE,
    STARTING,
    Health,
    Metrics,
    MonitorServer,
)
from .progress import ChatThrottle
from .sessions import SWEEP_EVERY_SECONDS, SessionStore

logger = logging.getLogger(__name__)

#: Seconds between two looks for jobs that no replica reports.
ADOPT_EVERY_SECONDS = 15.0
#: Seconds between two looks at the queue for the metrics and the health check.
WATCH_EVERY_SECONDS = 5.0


def prepare(data: BotData, settings: Settings, queue: JobQueue | None = None) -> None:
    """Fill in ``data`` (all but the front-end's ``messenger`` and ``spawn``); ``queue``
    defaults to the one QUEUE_URL names. Nothing is opened yet (see :func:`open_up`)."""
    data.settings = settings
    data.button_key = button_key(settings.bot_token.reveal())
    data.queue = queue or default_queue(settings)
    data.sessions = SessionStore(settings.data_dir)
    data.gallery = Gallery(settings.data_dir)
    data.limits = Limits(
        settings.data_dir,
        pictures_per_minute=settings.pictures_per_minute,
        jobs_per_day=settings.jobs_per_user_per_day,
        data_max_mb=settings.data_max_mb,
    )
    data.metrics = Metrics(_registry())
    data.health = Health()
    data.throttle = ChatThrottle(settings.progress_interval)
    data.followers = set()
    data.following = set()
    data.set_aside = set()
    data.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    data.chores = []


def _registry() -> CollectorRegistry:
    """A registry per bot (tests build many), with the library's process metrics."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def default_queue(settings: Settings) -> JobQueue:
    """Redis when QUEUE_URL says so (workers paint); else the embedded queue, painting here."""
    if settings.queue_url:
        from jobqueue.redis import RedisQueue

        return RedisQueue(settings.queue_url, max_waiting=settings.queue_max)
    from worker.painter import painter_for  # the painting side, and torch, load here only

    return EmbeddedQueue(settings.data_dir, painter_for(settings), max_waiting=settings.queue_max)


async def open_up(data: BotData, receiving: Callable[[], bool]) -> None:
    """Open the stores and the queue, serve the metrics, and start the chores; jobs from
    before a restart are picked up by the first round of adoption. ``receiving`` tells the
    health check whether the front-end is getting its platform's updates."""
    data.sessions.open()
    data.limits.open()
    await data.queue.start()
    settings = data.settings
    if settings.metrics_port is not None:
        data.monitor = MonitorServer(
            settings.metrics_listen, settings.metrics_port, data.health, data.metrics.registry
        )
        data.monitor.start()
    data.chores = [
        data.spawn(_adopt(data), "adopt jobs"),
        data.spawn(_sweep(data), "session sweep"),
        data.spawn(_watch(data, receiving), "health and metrics"),
    ]


def let_go(data: BotData) -> None:
    """On a stop, before the front-end waits for its tasks: the followers say "paused" and
    end (the jobs stay on the queue for the next start), and the chores end."""
    data.stopping = True
    for task in [*data.followers, *data.chores]:
        task.cancel()


async def close(data: BotData) -> None:
    """Close the queue (a job painting here goes back on it) and the stores."""
    await data.queue.close()
    data.sessions.close()
    data.limits.close()
    if data.monitor is not None:
        data.monitor.stop()
    logger.info("Bot stopped; its jobs and pictures stay in %s", data.settings.data_dir)


async def _watch(data: BotData, receiving: Callable[[], bool]) -> None:
    """Every few seconds: the queue's depth and workers into the metrics, and the health.
    /healthz shows a fixed phrase; the detail (which may name a host) goes to the log, once
    each time the problem changes."""
    while True:
        problem: str | None
        detail: str | None
        try:
            stats = await data.queue.stats(since=time.time())
        except Exception as error:  # e.g. Redis unreachable: unhealthy, not dead
            problem, detail = QUEUE_UNREACHABLE, f"the queue does not answer: {error}"
        else:
            data.metrics.observe_queue(stats)
            if data.queue.unavailable is not None:
                problem, detail = NO_PAINTER, data.queue.unavailable
            elif receiving():
                problem = detail = None
            elif data.health.problem == STARTING:  # receiving starts right after this
                problem = detail = STARTING
            else:
                problem = detail = NOT_RECEIVING
        if problem != data.health.problem:
            if problem is not None:
                logger.warning("Unhealthy (%s): %s", problem, detail)
            elif data.health.problem != STARTING:
                logger.info("Healthy again")
        data.health.problem = problem
        await asyncio.sleep(WATCH_EVERY_SECONDS)


async def _adopt(data: BotData) -> None:
    """At start, then now and then: follow the jobs nobody reports (see jobs.adopt)."""
    while True:
        try:
            await jobs.adopt(data)
        except Exception as error:  # e.g. the queue unreachable: the next round tries again
            logger.warning("Could not look for jobs to pick up: %s", error, exc_info=True)
        await asyncio.sleep(ADOPT_EVERY_SECONDS)


async def _sweep(data: BotData) -> None:
    """Now and then, forget sessions idle for a day whose user has no job in the works."""
    while True:
        await asyncio.sleep(SWEEP_EVERY_SECONDS)
        await forget_idle(data)


async def forget_idle(data: BotData) -> int:
    """One sweep; returns how many sessions it forgot."""
    forgotten = 0
    for session in data.sessions.idle():
        if await data.queue.job_of(session.owner) is None:
            data.sessions.forget(session)
            forgotten += 1
    return forgotten
