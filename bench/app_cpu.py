"""The application's own CPU per request: the nearby query through the whole ASGI stack, with
neither uvicorn nor the database in the figure.

    AMBROGIO_RATE_LIMIT_ANONYMOUS=0 .venv/bin/python bench/app_cpu.py --requests 3000
    AMBROGIO_COMPILED_PLANS=0 AMBROGIO_RATE_LIMIT_ANONYMOUS=0 .venv/bin/python bench/app_cpu.py
    AMBROGIO_RATE_LIMIT_ANONYMOUS=0 .venv/bin/python bench/app_cpu.py --access-log
    AMBROGIO_RATE_LIMIT_ANONYMOUS=0 .venv/bin/python bench/app_cpu.py --workload clusters14

Each request is one ASGI call of the app (``build_app``, its lifespan run, on the database
the settings name); the nearby statement runs once per point and its rows are then replayed,
so that the figure is the process time of the Python between the socket and the database:
the middleware, the transport rules, the GraphQL layers, the resolver, the answer. It is far
steadier than req/s on a shared machine; ``pair.py --pids`` gives the whole server's figure.
``--access-log`` counts the request's log line too, formatted as ``ambrogio serve`` writes it
(to ``/dev/null``); without it no handler takes the line.
"""

from __future__ import annotations

import argparse
import asyncio
import logging.config
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import ceiling
from workloads import HERE, WORKLOADS, request_lines

from ambrogio.app import build_app
from ambrogio.db import prepared
from ambrogio.logs import log_config
from ambrogio.settings import Settings

Message = dict[str, Any]


def _replaying() -> None:
    """``prepared.fetch`` reads each statement and values once, then answers from memory."""
    fetch = prepared.fetch
    seen: dict[tuple[str, str], list[Any]] = {}

    async def replay(engine: Any, statement: prepared.Prepared, values: Mapping[str, Any]) -> Any:
        key = (statement.sql, repr(sorted(values.items())))
        if key not in seen:
            seen[key] = await fetch(engine, statement, values)
        return seen[key]

    prepared.fetch = replay  # type: ignore[assignment]


async def _call(app: Any, body: bytes) -> list[Message]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    given = False

    async def receive() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def _measure(workload: str, requests: int) -> float:
    (chosen,) = (w for w in WORKLOADS if w.key == workload)
    points = ceiling.load_points(str(HERE / "points.csv"))
    bodies = [line.encode() for line in request_lines(chosen, points)]
    app = build_app(Settings())
    async with app.router.lifespan_context(app):
        for body in bodies:  # the rows of every point, read once
            (start, *_) = await _call(app, body)
            assert start["status"] == 200, start
        started = time.process_time()
        for i in range(requests):
            await _call(app, bodies[i % len(bodies)])
        return (time.process_time() - started) / requests * 1000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--access-log", action="store_true", help="write the log lines too")
    graphql = [w.key for w in WORKLOADS if w.method == "graphql"]
    parser.add_argument("--workload", default="nearby", choices=graphql)
    args = parser.parse_args(argv)
    if args.access_log:
        config = log_config("json")
        config["handlers"]["default"] = {
            "class": "logging.FileHandler",
            "filename": os.devnull,
            "formatter": "json",
        }
        logging.config.dictConfig(config)
    _replaying()
    ms = asyncio.run(_measure(args.workload, args.requests))
    print(f"{args.workload}: application CPU {ms:.3f} ms per request ({args.requests} requests)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
