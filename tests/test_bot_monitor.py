"""The metrics port as an orchestrator and a scraper meet it: it answers promptly whoever else
is connected, listens only where it is told, and says nothing about the bot's insides."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

import bot.metrics
from bot.metrics import Health, MonitorServer
from config.settings import load_settings

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
PROMPT = 0.5  # seconds: a health check's budget is a few seconds, a scrape's too


def get(host: str, port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=3) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def monitor() -> Iterator[MonitorServer]:
    health = Health()
    health.problem = None
    server = MonitorServer("127.0.0.1", 0, health)
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("sent", [b"", b"GET /hea"], ids=["connected", "half a request"])
def test_a_silent_client_does_not_hold_up_health_or_metrics(monitor: MonitorServer, sent: bytes):
    with socket.create_connection(("127.0.0.1", monitor.port)) as silent:
        silent.sendall(sent)
        time.sleep(0.1)  # the server is reading from it now
        for path in ("/healthz", "/metrics", "/healthz"):
            began = time.monotonic()
            status, body = get("127.0.0.1", monitor.port, path)
            assert status == 200 and time.monotonic() - began < PROMPT, path
        assert body == "ok\n"


def test_a_silent_client_is_dropped(monitor: MonitorServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(bot.metrics, "CLIENT_TIMEOUT", 0.3)
    with socket.create_connection(("127.0.0.1", monitor.port), timeout=3) as silent:
        began = time.monotonic()
        assert silent.recv(1) == b""  # closed by the server
        assert time.monotonic() - began < 2


def refused(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) != 0


def test_it_listens_on_loopback_unless_told_otherwise():
    settings = load_settings({"BOT_TOKEN": TOKEN, "METRICS_PORT": "9100"}, None)
    assert settings.metrics_listen == "127.0.0.1"
    server = MonitorServer(settings.metrics_listen, 0, Health())
    server.start()
    try:
        assert get("127.0.0.1", server.port, "/healthz") == (503, "starting\n")
        assert refused("127.0.0.2", server.port)  # another address of this host
    finally:
        server.stop()

    settings = load_settings({"BOT_TOKEN": TOKEN, "METRICS_LISTEN": "127.0.0.2"}, None)
    server = MonitorServer(settings.metrics_listen, 0, Health())
    server.start()
    try:
        assert get("127.0.0.2", server.port, "/healthz") == (503, "starting\n")
        assert refused("127.0.0.1", server.port)
    finally:
        server.stop()
