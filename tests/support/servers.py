"""Real ``ambrogio serve`` processes on a test database, for tests that need HTTP and
websockets between processes."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@contextlib.contextmanager
def serving(
    db_url: str, logs: Path, count: int = 1, env: dict[str, str] | None = None
) -> Iterator[tuple[int, ...]]:
    """``count`` server processes on ``db_url``, yielded once every one answers ``/readyz``;
    ``env`` adds settings (rate limits are off, and SIGTERM stops at once, unless it sets them)."""
    ports = tuple(free_port() for _ in range(count))
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "AMBROGIO_ENV": "test",
        "AMBROGIO_RATE_LIMIT_ANONYMOUS": "0",
        "AMBROGIO_RATE_LIMIT_USER": "0",
        # Stopped at once: no load balancer to drain from (ambrogio.http.draining).
        "AMBROGIO_SHUTDOWN_DRAIN_SECONDS": "0",
        **(env or {}),
    }
    processes = []
    for port in ports:
        with (logs / f"serve-{port}.log").open("wb") as log:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "ambrogio.cli", "serve", "--port", str(port)],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        # /readyz answering is the signal; between polls, a pause, 90 s in all at most (a
        # loaded machine takes half a minute to import the app).
        deadline = time.monotonic() + 90
        for port, process in zip(ports, processes, strict=True):
            while not ready(port):
                log_text = (logs / f"serve-{port}.log").read_text(errors="replace")
                assert process.poll() is None, f"ambrogio serve exited:\n{log_text}"
                assert time.monotonic() < deadline, f"ambrogio serve not ready:\n{log_text}"
                time.sleep(0.2)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
