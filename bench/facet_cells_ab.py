"""facets within a radius: today's statement (``facet_counts``) against the facet cells
(``catalogue.facet_cells``), alternately in one process, through the application's engine
(JIT off, prepared statements), after a warm-up of each. Checks that both give the same rows.

    flock /tmp/ambrogio-bench.lock .venv/bin/python bench/facet_cells_ab.py URL \
        --rounds 5 --radius 3000 --points 45.853,9.390 45.8566,9.3977
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from ambrogio.catalogue import facet_cells, search
from ambrogio.catalogue.facets import facet_counts
from ambrogio.catalogue.filters import ServiceFilterSpec
from ambrogio.db.session import create_engine
from ambrogio.geo.point import LatLon
from ambrogio.settings import Settings


async def today(conn: Any, point: LatLon, radius: float) -> dict[Any, int]:
    conditions = search.service_search(ServiceFilterSpec(), None, point, radius)
    return {(f, k): int(n) for f, k, n in (await conn.execute(facet_counts(conditions))).all()}


async def cells(conn: Any, point: LatLon, radius: float) -> dict[Any, int]:
    qx, qy = (await conn.execute(facet_cells.planar_point(point))).one()
    lines = facet_cells.cell_lines(qx, qy, radius)
    stmt = facet_cells.facet_cells_statement(point, radius)
    return {(f, k): int(n) for f, k, n in (await conn.execute(stmt, lines.params())).all()}


async def main(url: str, points: list[LatLon], radii: list[float], rounds: int) -> None:
    engine = create_engine(Settings(), url)
    async with engine.connect() as conn:
        for radius in radii:
            for point in points:
                a, b = await today(conn, point, radius), await cells(conn, point, radius)
                assert a == b, (point, radius)
                times: dict[str, list[float]] = {"today": [], "cells": []}
                for _ in range(rounds):
                    for name, run in (("today", today), ("cells", cells)):
                        start = time.perf_counter()
                        await run(conn, point, radius)
                        times[name].append(1000 * (time.perf_counter() - start))
                med = {k: statistics.median(v) for k, v in times.items()}
                runs = {k: " ".join(f"{t:.0f}" for t in v) for k, v in times.items()}
                total = a.get(("total", ""), 0)
                print(
                    f"{point.lat:.4f},{point.lon:.4f} r={radius:.0f} total={total}"
                    f" today {runs['today']} (median {med['today']:.0f} ms)"
                    f" | cells {runs['cells']} (median {med['cells']:.0f} ms)"
                    f" | x{med['today'] / med['cells']:.1f}",
                    flush=True,
                )
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--radius", type=float, nargs="+", default=[3000.0])
    parser.add_argument("--points", nargs="+", default=["45.853,9.390"])
    args = parser.parse_args()
    pts = [LatLon(*map(float, p.split(","))) for p in args.points]
    asyncio.run(main(args.url, pts, args.radius, args.rounds))
