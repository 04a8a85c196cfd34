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
    """One process, or ``--workers N`` processes on one socket (uvicorn's supervisor).

    Every worker builds the app from the environment (``ambrogio.app:create_app``), and what
    they must share lives in PostgreSQL. With several workers the metrics go through a fresh
    folder that ``/metrics`` adds up (``ambrogio.metrics``), removed when the server stops; a
    worker that dies and is replaced no longer counts in the live gauges. SIGTERM first makes
    ``/readyz`` answer 503 while requests are still answered for
    ``AMBROGIO_SHUTDOWN_DRAIN_SECONDS`` (``ambrogio.http.draining``), then stops taking
    connections, lets running requests finish for up to ``AMBROGIO_SHUTDOWN_TIMEOUT_SECONDS``,
    closes the websockets (subscriptions end with close code 1012) and then the database
    connections.
    """
    import uvicorn

    from ambrogio.cli.workers import Workers
    from ambrogio.logs import log_config

    workers = max(1, args.workers)
    options: dict[str, Any] = {
        "factory": True,
        "host": args.host or settings.host,
        "port": args.port or settings.port,
        "log_config": log_config(settings.log_format),
        "proxy_headers": False,
        "timeout_graceful_shutdown": int(settings.shutdown_timeout_seconds),
    }
    if workers == 1:
        uvicorn.run("ambrogio.app:create_app", **options)
        return 0
    metrics_dir = None
    if MULTIPROC not in os.environ:
        metrics_dir = os.environ[MULTIPROC] = tempfile.mkdtemp(prefix="ambrogio-metrics-")
    try:
        config = uvicorn.Config("ambrogio.app:create_app", workers=workers, **options)
        Workers(config, sockets=[config.bind_socket()]).run()
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


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
    serve.set_defaults(run=_serve)

    schema = commands.add_parser("schema", help="print the GraphQL SDL")
    schema.set_defaults(run=_schema)
