"""The ceiling of the nearby query: Ambrogio's own SQL, straight over asyncpg, no HTTP.

``providers(near, radiusMeters: 2000, first: 20)`` runs ``geo.nearby.nearby_providers_query``
(the statement of its shape, built once) through ``geo.nearby.run_nearby``. This runs the
same: the statement compiled once as the server compiles it (``db.prepared.Prepared``: the
asyncpg dialect's text, ``$n`` parameters), asyncpg's prepared statement on ``--conns``
connections (one worker each) for ``--duration`` seconds, every worker cycling over the fixed
points from its own offset, with ``run_nearby``'s widening loop (rarely taken; counted), on
the plane where the server would be. The one statement returns the page with its providers'
columns, as the server reads it.

``--fetch`` adds a second statement, the page's providers by id (``select(Organization).where(id
IN …)``), which the server ran before the page carried its rows: for comparison with runs of
that time.

Prints one line, ``CEILINGJSON {...}``: requests/s and latency percentiles in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import uvloop
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from ambrogio.db import prepared
from ambrogio.db.models import Organization
from ambrogio.db.session import SERVER_SETTINGS
from ambrogio.geo.nearby import (
    NearbySearch,
    Query,
    nearby_providers_query,
    prepared_statement,
    run_nearby,
)
from ambrogio.geo.point import LatLon

DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class NearbySql:
    """What every request of the run asks: the radius and the page size."""

    radius_m: float
    limit: int

    @classmethod
    def compile(cls, radius_m: float, limit: int) -> NearbySql:
        return cls(radius_m, limit)

    def sql(self) -> str:
        """The statement of the first page near a point of the territory."""
        search = NearbySearch(LatLon(45.85, 9.39), self.radius_m, None, self.limit, planar=True)
        stmt, _ = nearby_providers_query(search, [], 84)
        return prepared_statement(stmt).sql


def fetch_sql(count: int) -> str:
    """The resolver's second statement for a page of ``count`` providers."""
    ids = [uuid.UUID(int=i) for i in range(count)]
    stmt = select(Organization).where(Organization.id.in_(ids))
    return str(stmt.compile(dialect=DIALECT, compile_kwargs={"render_postcompile": True}))


class Worker:
    """One connection with its prepared statements."""

    def __init__(self, conn: asyncpg.Connection, nearby: NearbySql) -> None:
        self.conn = conn
        self.nearby = nearby
        self.statements: dict[str, Any] = {}
        self.widened = 0

    async def _prepared(self, sql: str) -> Any:
        if sql not in self.statements:
            self.statements[sql] = await self.conn.prepare(sql)
        return self.statements[sql]

    async def _fetch(self, query: Query) -> list[Any]:
        stmt, params = query
        return await prepared.run(self.conn, prepared_statement(stmt), params)

    async def page(self, lat: float, lon: float) -> list[tuple[uuid.UUID, float]]:
        """Up to ``limit + 1`` (id, distance), as ``run_nearby`` returns them."""
        search = NearbySearch(LatLon(lat, lon), self.nearby.radius_m, None, self.nearby.limit)
        rounds = 0

        def build(planned: NearbySearch, m: int) -> Query:
            nonlocal rounds
            rounds += 1
            return nearby_providers_query(planned, [], m)

        hits = await run_nearby(self._fetch, build, search, on_plane=True)
        self.widened += rounds - 1
        return [(hit.key.id, hit.key.distance) for hit in hits]

    async def request(self, lat: float, lon: float, fetch: bool) -> None:
        hits = await self.page(lat, lon)
        if fetch and hits:
            stmt = await self._prepared(fetch_sql(len(hits)))
            await stmt.fetch(*[key for key, _ in hits])


def load_points(path: str) -> list[tuple[float, float]]:
    with open(path, newline="") as f:
        return [(float(row["lat"]), float(row["lon"])) for row in csv.DictReader(f)]


async def connect(dsn: str) -> asyncpg.Connection:
    # The server's settings (jit off, trigram threshold), under a name of our own so that
    # run.py does not take these backends for the server's.
    settings = {**SERVER_SETTINGS, "application_name": "ambrogio-ceiling"}
    return await asyncpg.connect(dsn, server_settings=settings)


def backend_cpu_s(pids: Sequence[int]) -> float:
    """User + system CPU seconds of these PostgreSQL backends so far (from /proc)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


async def pages(
    dsn: str, points: Sequence[tuple[float, float]], radius_m: float, limit: int
) -> list[list[tuple[uuid.UUID, float]]]:
    """The page of each point, for checking the server's answers against."""
    conn = await connect(dsn)
    try:
        worker = Worker(conn, NearbySql.compile(radius_m, limit))
        return [await worker.page(lat, lon) for lat, lon in points]
    finally:
        await conn.close()


def machine_busy_s() -> float:
    """Busy CPU seconds of the whole machine so far (user, nice, system, irq, softirq)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / os.sysconf("SC_CLK_TCK")


def percentile(ordered: Sequence[float], p: float) -> float:
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    points = load_points(args.points)
    nearby = NearbySql.compile(args.radius, args.first)
    conns = [await connect(args.dsn) for _ in range(args.conns)]
    workers = [Worker(conn, nearby) for conn in conns]
    latencies: list[float] = []
    errors = 0

    async def run(i: int, worker: Worker, deadline: float) -> None:
        nonlocal errors
        k = random.Random(i).randrange(len(points))
        while time.perf_counter() < deadline:
            lat, lon = points[k % len(points)]
            k += 1
            started = time.perf_counter()
            try:
                await worker.request(lat, lon, args.fetch)
            except asyncpg.PostgresError:
                errors += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)

    pids = [conn.get_server_pid() for conn in conns]
    try:
        cpu, client, machine = backend_cpu_s(pids), time.process_time(), machine_busy_s()
        start = time.perf_counter()
        await asyncio.gather(*(run(i, w, start + args.duration) for i, w in enumerate(workers)))
        elapsed = time.perf_counter() - start
        cpu = backend_cpu_s(pids) - cpu
        client = time.process_time() - client
        machine = machine_busy_s() - machine
    finally:
        for conn in conns:
            await conn.close()
    latencies.sort()
    return {
        "requests": len(latencies),
        "duration_s": round(elapsed, 3),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 3),
        "p90_ms": round(percentile(latencies, 90), 3),
        "p99_ms": round(percentile(latencies, 99), 3),
        "max_ms": round(latencies[-1], 3) if latencies else None,
        "mean_ms": round(sum(latencies) / max(1, len(latencies)), 3),
        "errors": errors,
        "widened": sum(w.widened for w in workers),
        # % of one core over the window: this run's PostgreSQL backends, this process, and
        # the whole machine.
        "backends_cpu_pct": round(100 * cpu / elapsed, 1),
        "client_cpu_pct": round(100 * client / elapsed, 1),
        "machine_busy_pct": round(100 * machine / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", required=True, help="postgresql://… of the bench database")
    parser.add_argument("--points", required=True, help="CSV with lat,lon columns")
    parser.add_argument("--conns", type=int, default=16)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--radius", type=float, default=2000)
    parser.add_argument("--first", type=int, default=20)
    parser.add_argument("--fetch", action="store_true", help="also fetch the page's providers")
    parser.add_argument("--print-sql", action="store_true", help="print the SQL and exit")
    args = parser.parse_args()
    if args.print_sql:
        print(NearbySql.compile(args.radius, args.first).sql())
        return
    result = uvloop.run(measure(args))
    print("CEILINGJSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
