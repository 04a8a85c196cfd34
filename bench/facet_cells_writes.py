"""The cost of the facet cells on writes: small committed transactions (a service's delivery
changed, a place moved by ~150 m, a category added and removed) on two databases in turn,
one without the cells (main) and one with them (0027). Every write is undone by the next
round's, so the rounds can repeat.

    flock /tmp/ambrogio-bench.lock .venv/bin/python bench/facet_cells_writes.py BEFORE AFTER --n 100
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from sqlalchemy import text

from ambrogio.db.session import create_engine
from ambrogio.settings import Settings

PICK = """SELECT s.id, min(sal.location_id::text)::uuid FROM service s
JOIN service_at_location sal ON sal.service_id = s.id WHERE s.status = 'published'
GROUP BY s.id ORDER BY s.id LIMIT :n"""
WRITES = {
    "delivery": "UPDATE service SET delivery = CASE WHEN delivery = ARRAY['online']"
    " THEN ARRAY['on_site'] ELSE ARRAY['online'] END WHERE id = :service",
    "move": "UPDATE location SET geom = ST_Translate(geom, :d, 0) WHERE id = :location",
    "category": "WITH t AS (SELECT id FROM taxonomy_term WHERE slug = 'badante')"
    " , gone AS (DELETE FROM service_category WHERE service_id = :service"
    " AND term_id = (SELECT id FROM t) RETURNING 1)"
    " INSERT INTO service_category SELECT :service, id FROM t"
    " WHERE NOT EXISTS (SELECT 1 FROM gone)",
}


async def run(url: str, n: int, sign: float) -> dict[str, float]:
    engine = create_engine(Settings(), url)
    took: dict[str, float] = {}
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text(PICK), {"n": n})).all()
        for name, sql in WRITES.items():
            start = time.perf_counter()
            for service, location in rows:
                async with engine.begin() as conn:
                    await conn.execute(
                        text(sql), {"service": service, "location": location, "d": sign * 0.002}
                    )
            took[name] = 1000 * (time.perf_counter() - start) / len(rows)
    finally:
        await engine.dispose()
    return took


async def main(before: str, after: str, n: int, rounds: int) -> None:
    results: dict[str, dict[str, list[float]]] = {"before": {}, "after": {}}
    for r in range(rounds):
        for label, url in (("before", before), ("after", after)):
            took = await run(url, n, 1.0 if r % 2 == 0 else -1.0)
            for name, ms in took.items():
                results[label].setdefault(name, []).append(ms)
            print(label, {k: f"{v:.1f} ms" for k, v in took.items()}, flush=True)
    for name in WRITES:
        b = statistics.median(results["before"][name])
        a = statistics.median(results["after"][name])
        print(f"{name}: before {b:.1f} ms/transaction, after {a:.1f} ms (x{a / b:.2f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main(args.before, args.after, args.n, args.rounds))
