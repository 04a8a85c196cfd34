"""``ambrogio serve`` and ``ambrogio schema``: the HTTP server and its GraphQL SDL."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from typing import Any

from ambrogio.settings import Settings

MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    """One process, or ``--workers N`` processes on one socket.

    Every worker builds the app from the environment (``ambrogio.app:create_app``), and what
    they must share lives in PostgreSQL. With several workers the metrics go through a fresh
    folder that ``/metrics`` adds up (``ambrogio.metrics``), removed when the server stops.
    ``--server`` (``AMBROGIO_HTTP_SERVER``) picks the HTTP server; see ``_uvicorn`` and
    ``_granian`` for what each does when a worker dies and when the server is told to stop.
    """
    workers = max(1, args.workers)
    host, port = args.host or settings.host, args.port or settings.port
    metrics_dir = None
    if workers > 1 and MULTIPROC not in os.environ:
        metrics_dir = os.environ[MULTIPROC] = tempfile.mkdtemp(prefix="ambrogio-metrics-")
    try:
        if (args.server or settings.http_server) == "granian":
            _granian(settings, host, port, workers)
        else:
            _uvicorn(settings, host, port, workers)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _uvicorn(settings: Settings, host: str, port: int, workers: int) -> None:
    """uvicorn (httptools, uvloop), the default; several workers under its supervisor.

    A worker that dies and is replaced no longer counts in the live gauges. SIGTERM first
    makes ``/readyz`` answer 503 while requests are still answered for
    ``AMBROGIO_SHUTDOWN_DRAIN_SECONDS`` (``ambrogio.http.draining``), then stops taking
    connections, lets running requests finish for up to ``AMBROGIO_SHUTDOWN_TIMEOUT_SECONDS``,
    closes the websockets (subscriptions end with close code 1012) and then the database
    connections.
    """
    import uvicorn

    from ambrogio.cli.workers import Workers
    from ambrogio.logs import log_config

    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "log_config": log_config(settings.log_format),
        "proxy_headers": False,
        # Its access lines are off (ambrogio.access writes a richer one, ambrogio.logs) unless
        # the log is text: off, uvicorn does not even make a line's arguments per response.
        "access_log": settings.log_format == "text",
        "timeout_graceful_shutdown": int(settings.shutdown_timeout_seconds),
    }
    if workers == 1:
        uvicorn.run("ambrogio.app:create_app", **options)
        return
    config = uvicorn.Config("ambrogio.app:create_app", workers=workers, **options)
    Workers(config, sockets=[config.bind_socket()]).run()


def _granian(settings: Settings, host: str, port: int, workers: int) -> None:
    """granian: HTTP parsed and written by Rust threads beside each worker's event loop, the
    same ASGI application (its lifespan, routes, middleware, log lines) on uvloop.

    Under 16 connections it answered the nearby page at more requests a second than uvicorn,
    at less CPU each (``bench/results-2026-12-04-nearbyhttp.md``). What differs: SIGTERM stops
    at once, without the drain of ``ambrogio.http.draining`` (granian's main process stops
    its workers itself, so a worker's drain would only claim to wait); running requests get
    ``AMBROGIO_SHUTDOWN_TIMEOUT_SECONDS`` to finish; a dead worker is replaced (several
    workers), but its live gauges in ``/metrics`` are not dropped.
    """
    from granian.constants import Interfaces, Loops
    from granian.server import Server

    from ambrogio.logs import log_config

    os.environ["AMBROGIO_SHUTDOWN_DRAIN_SECONDS"] = "0"  # read by each worker's settings
    logging = log_config(settings.log_format)
    # granian's own lines (start-up, workers) through the same handler, as uvicorn's are.
    logging["loggers"]["_granian"] = {"handlers": [], "level": "INFO", "propagate": True}
    logging["loggers"]["granian.access"] = {"handlers": [], "level": "INFO", "propagate": True}
    Server(
        "ambrogio.app:create_app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        factory=True,
        workers=workers,
        loop=Loops.uvloop,
        log_dictconfig=logging,
        log_access=settings.log_format == "text",
        workers_kill_timeout=max(1, int(settings.shutdown_timeout_seconds)),
        respawn_failed_workers=workers > 1,
    ).serve()


def _schema(settings: Settings, args: argparse.Namespace) -> int:
    from ambrogio.schema.build import schema_sdl

    sys.stdout.write(schema_sdl())
    return 0


def register(commands: Any) -> None:
    serve = commands.add_parser("serve", help="serve GraphQL on HTTP")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes on the one port (default 1)"
    )
    serve.add_argument(
        "--server",
        choices=["uvicorn", "granian"],
        help="the HTTP server (default AMBROGIO_HTTP_SERVER, uvicorn)",
    )
    serve.set_defaults(run=_serve)

    schema = commands.add_parser("schema", help="print the GraphQL SDL")
    schema.set_defaults(run=_schema)
