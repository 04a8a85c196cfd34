"""EXPLAIN (ANALYZE, BUFFERS) of ``mapClusters``' grid statement as production runs it: the
generic plan of the prepared statement the asyncpg dialect sends, bind parameters and all
(``tests/support/plans.py`` explains why that plan), in a read-only transaction.

    .venv/bin/python bench/explain_clusters.py postgresql+asyncpg://postgres@127.0.0.1:PORT/DB
    .venv/bin/python bench/explain_clusters.py URL --zoom 10,14 --points 8 --summary --plain

The views are the workloads' (``workloads.view_bbox``: a 1280 × 800 map around each of the
first points of ``points.csv``); each statement is run once before the one explained.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event
from workloads import view_bbox

from ambrogio.db.session import create_engine
from ambrogio.geo.bbox import BBox
from ambrogio.geo.grid import grid_clusters_query
from ambrogio.settings import Settings

POINTS = Path(__file__).resolve().parent / "points.csv"


def _argument(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, list | tuple):
        value = "{" + ",".join(f'"{item}"' for item in value) + "}"
    return "'" + str(value).replace("'", "''") + "'"


def views(zoom: int, points: int) -> list[BBox]:
    with POINTS.open() as f:
        rows = list(csv.DictReader(f))[:points]
    out = []
    for row in rows:
        box = view_bbox(float(row["lat"]), float(row["lon"]), zoom)
        out.append(BBox(box["west"], box["south"], box["east"], box["north"]))
    return out


async def explain(
    url: str, zooms: Sequence[int], points: int, summary: bool, extents: bool
) -> None:
    engine = create_engine(Settings(), url)
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.execute("SET plan_cache_mode = force_generic_plan")
            for zoom in zooms:
                for n, view in enumerate(views(zoom, points)):
                    query = grid_clusters_query(view, zoom, "", extents)
                    assert query is not None
                    sent.clear()
                    await conn.execute(*query)
                    [(sql, values)] = sent
                    await driver.execute(f"PREPARE explained AS {sql}")
                    arguments = ", ".join(_argument(value) for value in values)
                    rows = await driver.fetch(
                        f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE explained({arguments})"
                    )
                    await driver.execute("DEALLOCATE explained")
                    plan = [row[0] for row in rows]
                    if summary:
                        buffers = next(line.strip() for line in plan if "Buffers:" in line)
                        print(f"z{zoom} point {n}: {plan[-1].strip():32} {buffers}")
                    else:
                        print(f"== z{zoom} point {n}", *plan, sep="\n")
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="an asyncpg URL (postgresql+asyncpg://…)")
    parser.add_argument("--zoom", default="14", help="zooms, comma-separated")
    parser.add_argument("--points", type=int, default=1, help="the first N points")
    parser.add_argument("--summary", action="store_true", help="time and buffers only")
    parser.add_argument(
        "--plain", action="store_true", help="the statement of a compiled plan (no extents)"
    )
    args = parser.parse_args(argv)
    zooms = [int(z) for z in args.zoom.split(",")]
    asyncio.run(explain(args.url, zooms, args.points, args.summary, not args.plain))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
