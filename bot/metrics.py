"""What the operator sees from outside: Prometheus metrics and a health check on METRICS_PORT.

``/metrics`` is prometheus-client's own exposition (our metrics plus its process metrics);
``/healthz`` answers 200 "ok" while the bot receives updates and a painter is ready, else 503
with a short fixed reason (the details, which may name hosts, go to the log). The server runs
in threads (prometheus-client's threading WSGI server): scrapes never wait for the event loop,
which only writes plain attributes here, nor for each other, and an idle client is dropped.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from jobqueue import QueueStats

logger = logging.getLogger(__name__)

StartResponse = Callable[[str, list[tuple[str, str]]], object]
Environ = dict[str, object]

#: What /healthz says, and nothing more: its body is for anyone who can reach the port.
STARTING = "starting"
QUEUE_UNREACHABLE = "queue unreachable"
NO_PAINTER = "no painter ready"
NOT_RECEIVING = "not receiving updates from a chat platform"
#: Seconds a client may stay silent before it is dropped (a scrape takes milliseconds).
CLIENT_TIMEOUT = 5.0


class Metrics:
    """The bot's metrics, in one registry (the default one, with the process metrics)."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self.jobs = Counter(
            "stylebot_jobs",
            "Jobs that ended, by chat platform and outcome",
            ["platform", "outcome"],
            registry=registry,
        )
        self.updates = Counter(
            "stylebot_updates",
            "What people sent or pressed, by chat platform",
            ["platform"],
            registry=registry,
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

    def serve(self, platform: str) -> None:
        """A front-end on ``platform`` starts: its series exist from now on, at 0."""
        self.updates.labels(platform)
        for outcome in ("done", "failed", "cancelled"):
            self.jobs.labels(platform, outcome)

    def observe_queue(self, stats: QueueStats) -> None:
        self.queue_depth.set(stats.waiting)
        self.workers.set(stats.workers)


class Health:
    """Why the bot is unhealthy right now, as the event loop last saw it (one of the fixed
    phrases above); None: healthy."""

    def __init__(self) -> None:
        self.problem: str | None = STARTING


class MonitorServer:
    """``/metrics`` and ``/healthz`` on ``listen:port``, each request in a daemon thread."""

    def __init__(
        self, listen: str, port: int, health: Health, registry: CollectorRegistry = REGISTRY
    ) -> None:
        self._health = health
        self._metrics = make_wsgi_app(registry)
        server_class = _Server6 if ipaddress.ip_address(listen).version == 6 else _Server
        self._server = make_server(
            listen, port, self._app, server_class=server_class, handler_class=_QuietHandler
        )
        self.listen = listen
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics", daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        logger.info("Metrics and health on %s port %d", self.listen, self.port)

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


class _Server(ThreadingWSGIServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that went silent (dropped after CLIENT_TIMEOUT) or away is not news."""
        logger.debug("Metrics client %s dropped: %r", client_address, sys.exc_info()[1])


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(CLIENT_TIMEOUT)  # no read or write waits longer

    def log_message(self, format: str, *args: object) -> None:  # scrapes are not news
        pass
