"""What the operator sees from outside: Prometheus metrics and a health check on METRICS_PORT.

``/metrics`` is prometheus-client's own exposition (our metrics plus its process metrics);
``/healthz`` answers 200 "ok" while the bot receives updates and a painter is ready, else 503
with the reason. The server runs in a thread (wsgiref): scrapes never wait for the event loop,
which only writes plain attributes here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app

from jobqueue import QueueStats

logger = logging.getLogger(__name__)

StartResponse = Callable[[str, list[tuple[str, str]]], object]
Environ = dict[str, object]


class Metrics:
    """The bot's metrics, in one registry (the default one, with the process metrics)."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self.jobs = Counter(
            "stylebot_jobs", "Jobs that ended, by outcome", ["outcome"], registry=registry
        )
        self.queue_depth = Gauge(
            "stylebot_queue_depth", "Jobs waiting for a painter", registry=registry
        )
        self.job_seconds = Histogram(
            "stylebot_job_seconds",
            "Painting time of a finished job",
            buckets=(1, 2, 5, 10, 20, 30, 60, 90, 120, 180, 300, 600),
            registry=registry,
        )
        self.step_seconds = Histogram(
            "stylebot_step_seconds",
            "Seconds per optimisation step of a finished job",
            buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5),
            registry=registry,
        )
        self.workers = Gauge("stylebot_workers", "Painters ready to paint", registry=registry)
        for outcome in ("done", "failed", "cancelled"):
            self.jobs.labels(outcome)  # a series from the start, at 0

    def observe_queue(self, stats: QueueStats) -> None:
        self.queue_depth.set(stats.waiting)
        self.workers.set(stats.workers)


class Health:
    """Why the bot is unhealthy right now, as the event loop last saw it; None: healthy."""

    def __init__(self) -> None:
        self.problem: str | None = "starting"


class MonitorServer:
    """``/metrics`` and ``/healthz`` on ``port``, served from a daemon thread."""

    def __init__(self, port: int, health: Health, registry: CollectorRegistry = REGISTRY) -> None:
        self._health = health
        self._metrics = make_wsgi_app(registry)
        self._server: WSGIServer = make_server(
            "0.0.0.0", port, self._app, handler_class=_QuietHandler
        )
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics", daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        logger.info("Metrics and health on port %d", self.port)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _app(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            problem = self._health.problem
            status = "200 OK" if problem is None else "503 Service Unavailable"
            start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
            return [(problem or "ok").encode() + b"\n"]
        body: Iterable[bytes] = self._metrics(environ, start_response)
        return body


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # scrapes are not news
        pass
