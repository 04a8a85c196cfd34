"""EXPLAIN (ANALYZE, BUFFERS) of the text searches' statements as production runs them: the
generic plan of the prepared statement the asyncpg dialect sends, bind parameters and all
(``tests/support/plans.py`` explains why that plan), in a read-only transaction.

    .venv/bin/python bench/explain_text.py postgresql+asyncpg://postgres@127.0.0.1:PORT/ambrogio_bench
    .venv/bin/python bench/explain_text.py URL --only text_badante,text_services_all --summary

The statements are the resolvers' for the workloads ``text``, ``text_services`` (its page and
its ``totalCount``), ``text_badante`` and ``text_services_all`` (``workloads.py``), built by
``catalogue.search.keyset_search``; each is run once before the one explained.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event

from ambrogio.catalogue import search
from ambrogio.catalogue.filters import ServiceFilterSpec
from ambrogio.catalogue.text import TextQuery
from ambrogio.catalogue.visibility import Stmt
from ambrogio.db.session import create_engine
from ambrogio.enums import SearchOrder
from ambrogio.geo.point import LatLon
from ambrogio.settings import Settings

LECCO = LatLon(45.8566, 9.3977)  # the first of points.csv's neighbourhood: Lecco centre
PAGE = 20


def _page(
    kind: search.Kind,
    words: str,
    radius: float | None,
    at_home: bool = False,
    probed: bool = False,
) -> search.KeysetSearch:
    where = search.provider_conditions(ServiceFilterSpec(delivery=["at_home"])) if at_home else []
    point = LECCO if radius is not None else None
    return search.keyset_search(
        kind, where, point, radius, TextQuery(words), SearchOrder.RELEVANCE, None, PAGE, probed
    )


def statements() -> dict[str, Stmt]:
    services_near = _page(search.SERVICES, "fisioterapia", 3000.0)
    # The rings a page within a radius is first looked for in (``search.rings``).
    providers_rings = {
        f"text_ring_{fraction:.4f}": _page(
            search.PROVIDERS, "assistenza", 5000.0 * fraction, at_home=True, probed=probed
        ).stmt
        for fraction, probed in search.RING_FRACTIONS
    }
    services_rings = {
        f"text_services_ring_{fraction:.4f}": _page(
            search.SERVICES, "fisioterapia", 3000.0 * fraction, probed=probed
        ).stmt
        for fraction, probed in search.RING_FRACTIONS
    }
    return {
        "text": _page(search.PROVIDERS, "assistenza", 5000.0, at_home=True).stmt,
        **providers_rings,
        "text_services": services_near.stmt,
        **services_rings,
        "text_services_count": search.counted(services_near.count),
        "text_badante": _page(search.PROVIDERS, "badante", None).stmt,
        "text_services_all": _page(search.SERVICES, "fisioterapia", None).stmt,
    }


def _argument(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, list | tuple):
        value = "{" + ",".join(f'"{item}"' for item in value) + "}"
    return "'" + str(value).replace("'", "''") + "'"


async def explain(url: str, only: Sequence[str], summary: bool) -> None:
    engine = create_engine(Settings(), url)
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            for name, stmt in statements().items():
                if only and name not in only:
                    continue
                sent.clear()
                await conn.execute(stmt)
                [(sql, values)] = sent
                driver = (await conn.get_raw_connection()).driver_connection
                assert driver is not None
                await driver.execute("SET plan_cache_mode = force_generic_plan")
                await driver.execute(f"PREPARE explained AS {sql}")
                arguments = ", ".join(_argument(value) for value in values)
                rows = await driver.fetch(
                    f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE explained({arguments})"
                )
                await driver.execute("DEALLOCATE explained")
                plan = [row[0] for row in rows]
                if summary:
                    buffers = next(line.strip() for line in plan if "Buffers:" in line)
                    print(f"{name:20} {plan[-1].strip():32} {buffers}")
                else:
                    print(f"== {name}", *plan, sep="\n")
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="an asyncpg URL (postgresql+asyncpg://…)")
    parser.add_argument("--only", default="", help="statement names, comma-separated")
    parser.add_argument("--summary", action="store_true", help="time and buffers only")
    args = parser.parse_args(argv)
    asyncio.run(explain(args.url, [n for n in args.only.split(",") if n], args.summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
