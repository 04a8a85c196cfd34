"""Prometheus metrics, served at ``/metrics``.

With several worker processes (``ambrogio serve --workers N``) each process writes its samples
to files in ``PROMETHEUS_MULTIPROC_DIR`` (``serve`` makes a fresh folder and sets it before the
workers start) and ``/metrics``, whichever worker answers it, adds them all up: counters and
histograms sum, gauges of current state (pool connections in use, subscriptions) sum over the
live processes.

| metric | labels | what |
|---|---|---|
| ``ambrogio_requests_total`` | route, operation, status | requests answered |
| ``ambrogio_request_seconds`` | route, operation | latency, until the last byte |
| ``ambrogio_errors_total`` | code | GraphQL errors and refusals, by ``extensions.code`` |
| ``ambrogio_operation_cost`` | operation | ``extensions.cost`` of operations that report it |
| ``ambrogio_db_statement_seconds`` | | each SQL statement's time, as the driver sees it |
| ``ambrogio_db_pool_in_use`` / ``_waiting`` | | pooled connections lent out / requests waiting |
| ``ambrogio_import_rows_total`` | outcome | rows of import jobs, imported or refused |
| ``ambrogio_subscriptions`` | channel | live GraphQL subscriptions |

``operation`` is the GraphQL operation's name (``anonymous`` when it has none, empty on other
routes); ``route`` is the route's pattern, never a raw path, so labels stay few.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

# Operation names are chosen by clients: past this many distinct ones, new names count as
# "other" so that a client cannot grow the metrics without bound.
MAX_OPERATIONS = 200
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

REQUESTS = Counter("ambrogio_requests_total", "Requests answered", ["route", "operation", "status"])
LATENCY = Histogram(
    "ambrogio_request_seconds", "Request latency", ["route", "operation"], buckets=LATENCY_BUCKETS
)
ERRORS = Counter("ambrogio_errors_total", "Errors by extensions.code", ["code"])
COST = Histogram(
    "ambrogio_operation_cost",
    "extensions.cost of the operations that report one",
    ["operation"],
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000),
)
STATEMENTS = Histogram(
    "ambrogio_db_statement_seconds", "SQL statement time", buckets=LATENCY_BUCKETS
)
POOL_IN_USE = Gauge(
    "ambrogio_db_pool_in_use", "Pooled database connections lent out", multiprocess_mode="livesum"
)
POOL_WAITING = Gauge(
    "ambrogio_db_pool_waiting",
    "Requests waiting for a pooled connection",
    multiprocess_mode="livesum",
)
IMPORT_ROWS = Counter("ambrogio_import_rows_total", "Rows of import jobs", ["outcome"])
SUBSCRIPTIONS = Gauge(
    "ambrogio_subscriptions", "Live subscriptions", ["channel"], multiprocess_mode="livesum"
)

_operations: set[str] = set()


def _operation_label(operation: str | None) -> str:
    if operation is None:
        return ""
    if operation in _operations or len(_operations) < MAX_OPERATIONS:
        _operations.add(operation)
        return operation
    return "other"


# The children of each request's labels, looked up once: ``labels()`` checks and locks each
# time (about 3 µs a call, three calls a request). As few as the labels' values.
_request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_cost_children: dict[str, Any] = {}


def observe_request(
    route: str,
    operation: str | None,
    status: int,
    seconds: float,
    codes: Iterable[str],
    cost: float | None,
) -> None:
    label = _operation_label(operation)
    key = (route, label, status)
    children = _request_children.get(key)
    if children is None:
        children = (REQUESTS.labels(route, label, str(status)), LATENCY.labels(route, label))
        _request_children[key] = children
    children[0].inc()
    children[1].observe(seconds)
    for code in codes:
        ERRORS.labels(code).inc()
    if cost is not None:
        child = _cost_children.get(label)
        if child is None:
            child = _cost_children[label] = COST.labels(label)
        child.observe(cost)


def instrument_engine(engine: AsyncEngine) -> None:
    """Statement time, from the engine's events (the pool is sampled: ``sample_pool``)."""
    sync = engine.sync_engine

    @event.listens_for(sync, "before_cursor_execute")
    def _before(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        conn.info["ambrogio_started"] = time.perf_counter()

    @event.listens_for(sync, "after_cursor_execute")
    def _after(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        started = conn.info.pop("ambrogio_started", None)
        if started is not None:
            STATEMENTS.observe(time.perf_counter() - started)


def waiting(engine: AsyncEngine) -> int:
    """Tasks waiting for one of the engine's pooled connections (0 when the pool says none)."""
    queue = getattr(getattr(engine.pool, "_pool", None), "_queue", None)
    getters = getattr(queue, "_getters", None)
    return sum(1 for getter in getters if not getter.done()) if getters is not None else 0


def sample_pool(engine: AsyncEngine) -> None:
    checked_out = getattr(engine.pool, "checkedout", None)
    POOL_IN_USE.set(checked_out() if callable(checked_out) else 0)
    POOL_WAITING.set(waiting(engine))


def registry() -> CollectorRegistry | None:
    """Every process's samples in multiprocess mode; None: this process's own registry."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return None
    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected)  # type: ignore[no-untyped-call]
    return collected


def process_stopped() -> None:
    """This process's live gauges no longer count (multiprocess mode)."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


async def metrics_endpoint(request: Request) -> Response:
    collected = registry()
    body = generate_latest(collected) if collected is not None else generate_latest()
    return Response(body, media_type=CONTENT_TYPE_LATEST)
