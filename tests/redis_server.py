"""A real ``redis-server`` for the Redis backend's tests (the Debian package ``redis-server``).

Each test that asks for ``redis_url`` gets its own server: a free port on 127.0.0.1, a
temporary folder, no persistence; it is killed after the test. Without the program the
test is skipped, saying how to get it (``make test`` installs it when it can).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import free_port

STARTUP_SECONDS = 10.0
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: on Linux, be killed when pytest dies, even by SIGKILL (no orphans)."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start redis-server in ``folder``; its process and URL once it answers PING."""
    program = shutil.which("redis-server")
    if program is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    log = folder / "redis.log"
    for _ in range(3):  # another process may take the free port before redis binds it
        port = free_port()
        options = {
            "port": str(port),
            "bind": "127.0.0.1",
            "dir": str(folder),
            "save": "",  # no snapshots
            "appendonly": "no",
            "logfile": str(log),
        }
        process = subprocess.Popen(
            [program, *(part for name, value in options.items() for part in (f"--{name}", value))],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while process.poll() is None and time.monotonic() < deadline:
            if _answers(port):
                return process, f"redis://127.0.0.1:{port}/0"
            time.sleep(0.02)
        stop_redis(process)
    text = log.read_text(errors="replace") if log.exists() else "(no log)"
    raise RuntimeError(f"redis-server did not start:\n{text[-2000:]}")


def stop_redis(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait(timeout=10)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """``redis://127.0.0.1:PORT/0`` of a fresh, empty redis-server, killed after the test."""
    process, url = start_redis(tmp_path)
    try:
        yield url
    finally:
        stop_redis(process)
