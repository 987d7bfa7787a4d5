"""The bot's life apart from any platform.

One process serves every front-end whose token is set, and they share one :class:`Shared`:
the settings, the queue (with the embedded queue, its one painter), the metrics and the
health check, which watches the queue (:func:`open_shared`, :func:`close_shared`). Each
front-end has its own :class:`~bot.context.BotData` (:func:`prepare`): its users' sessions
and limits, its button seal, its messenger, and the chores that run beside its conversation
— picking up its jobs nobody reports, forgetting idle sessions (:func:`open_up`,
:func:`let_go`, :func:`close`)."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

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

#: How each platform's users are named on the shared queue (one job per user at a time):
#: Telegram's as their bare id (as before there were two), Discord's with a prefix, so the
#: ids of two platforms never collide.
OWNER_PREFIXES = {"telegram": "", "discord": "discord:"}

#: Seconds between two looks for jobs that no replica reports.
ADOPT_EVERY_SECONDS = 15.0
#: Seconds between two looks at the queue for the metrics and the health check.
WATCH_EVERY_SECONDS = 5.0


class TokenRefused(Exception):
    """A platform refused the bot's token; the message says which, and where to check it."""


@dataclass
class Shared:
    """What every front-end of one process shares."""

    settings: Settings
    queue: JobQueue
    metrics: Metrics
    health: Health = field(default_factory=Health)
    #: This process's name on the jobs it claims (replicas share a queue).
    holder: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    )
    #: One per front-end: whether it gets its platform's updates (for the health check).
    receivers: list[Callable[[], bool]] = field(default_factory=list)
    monitor: MonitorServer | None = None  # METRICS_PORT's server, when set
    watcher: asyncio.Task[None] | None = None


def shared(settings: Settings, queue: JobQueue | None = None) -> Shared:
    """The process's shared parts; ``queue`` defaults to the one QUEUE_URL names."""
    return Shared(settings, queue or default_queue(settings), Metrics(_registry()))


async def open_shared(shared: Shared) -> None:
    """Start the queue, serve the metrics, and watch the queue and the front-ends."""
    await shared.queue.start()
    settings = shared.settings
    if settings.metrics_port is not None:
        shared.monitor = MonitorServer(
            settings.metrics_listen, settings.metrics_port, shared.health, shared.metrics.registry
        )
        shared.monitor.start()
    shared.watcher = asyncio.create_task(_watch(shared), name="health and metrics")


async def close_shared(shared: Shared) -> None:
    """Close the queue (a job painting here goes back on it) and the metrics."""
    if shared.watcher is not None:
        shared.watcher.cancel()
    await shared.queue.close()
    if shared.monitor is not None:
        shared.monitor.stop()


def prepare(
    data: BotData, shared: Shared, *, platform: str, token: str, folder: Path | None = None
) -> None:
    """Fill in a front-end's ``data`` (all but its ``messenger`` and ``spawn``): its users'
    state lives in ``folder`` (default DATA_DIR), its buttons are sealed with a key drawn
    from its ``token``. Nothing is opened yet (see :func:`open_up`)."""
    settings = shared.settings
    folder = folder or settings.data_dir
    data.platform = platform
    data.settings = settings
    data.queue = shared.queue
    data.metrics = shared.metrics
    data.health = shared.health
    data.holder = shared.holder
    data.button_key = button_key(token)
    data.sessions = SessionStore(folder, owners=OWNER_PREFIXES[platform])
    data.gallery = Gallery(folder)
    data.limits = Limits(
        folder,
        pictures_per_minute=settings.pictures_per_minute,
        jobs_per_day=settings.jobs_per_user_per_day,
        data_max_mb=settings.data_max_mb,
        measured=settings.data_dir,
    )
    data.throttle = ChatThrottle(settings.progress_interval)
    shared.metrics.serve(platform)
    data.followers = set()
    data.following = set()
    data.set_aside = set()
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


async def open_up(data: BotData) -> None:
    """Open the front-end's stores and start its chores; its jobs from before a restart are
    picked up by the first round of adoption."""
    data.sessions.open()
    data.limits.open()
    data.chores = [
        data.spawn(_adopt(data), "adopt jobs"),
        data.spawn(_sweep(data), "session sweep"),
    ]


def let_go(data: BotData) -> None:
    """On a stop, before the front-end waits for its tasks: the followers say "paused" and
    end (the jobs stay on the queue for the next start), and the chores end."""
    data.stopping = True
    for task in [*data.followers, *data.chores]:
        task.cancel()


async def close(data: BotData) -> None:
    """Close the front-end's stores; its sessions and pictures stay for the next start."""
    data.sessions.close()
    data.limits.close()
    logger.info("Bot stopped on %s; its jobs and pictures stay in DATA_DIR", data.platform)


async def _watch(shared: Shared) -> None:
    """Every few seconds: the queue's depth and workers into the metrics, and the health.
    /healthz shows a fixed phrase; the detail (which may name a host) goes to the log, once
    each time the problem changes."""
    health = shared.health
    while True:
        problem: str | None
        detail: str | None
        try:
            stats = await shared.queue.stats(since=time.time())
        except Exception as error:  # e.g. Redis unreachable: unhealthy, not dead
            problem, detail = QUEUE_UNREACHABLE, f"the queue does not answer: {error}"
        else:
            shared.metrics.observe_queue(stats)
            if shared.queue.unavailable is not None:
                problem, detail = NO_PAINTER, shared.queue.unavailable
            elif all(receiving() for receiving in shared.receivers):
                problem = detail = None
            elif health.problem == STARTING:  # receiving starts right after this
                problem = detail = STARTING
            else:
                problem = detail = NOT_RECEIVING
        if problem != health.problem:
            if problem is not None:
                logger.warning("Unhealthy (%s): %s", problem, detail)
            elif health.problem != STARTING:
                logger.info("Healthy again")
        health.problem = problem
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
