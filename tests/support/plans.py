"""The plan PostgreSQL runs a statement with in production: the generic plan of the prepared
statement that the asyncpg dialect sends, bind parameters and all.

A prepared statement is planned for its values for five executions, then switches to the
generic plan when that costs no more; ``force_generic_plan`` asks for that plan at once. It
cannot see the values, so it is the plan that must keep to the indexes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Executable, event, text

from ambrogio.db.session import create_engine
from ambrogio.settings import Settings


def _argument(value: Any) -> str:
    """A parameter's value as an SQL string literal, which EXECUTE casts to the parameter's type
    (the types come from the casts the asyncpg dialect writes into the statement)."""
    if value is None:
        return "NULL"
    if isinstance(value, list | tuple):
        items = (str(item).replace("\\", "\\\\").replace('"', '\\"') for item in value)
        value = "{" + ",".join(f'"{item}"' for item in items) + "}"
    return "'" + str(value).replace("'", "''") + "'"


async def generic_plan(
    settings: Settings, url: str, stmt: Executable, params: Mapping[str, Any] | None = None
) -> str:
    """``EXPLAIN EXECUTE`` of ``stmt`` (with ``params`` for its named parameters) prepared as
    the application's engine sends it, under the generic plan, after an ``ANALYZE`` of the
    database."""
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        sent.append((statement, parameters))

    engine = create_engine(settings, url)
    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
            sent.clear()
            await conn.execute(stmt, dict(params or {}))
            [(sql, values)] = sent
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.execute("SET plan_cache_mode = force_generic_plan")
            await driver.execute(f"PREPARE explained AS {sql}")
            arguments = ", ".join(_argument(value) for value in values)
            rows = await driver.fetch(f"EXPLAIN EXECUTE explained({arguments})")
            await driver.execute("DEALLOCATE explained")
            await driver.execute("RESET plan_cache_mode")
    finally:
        await engine.dispose()
    plan = "\n".join(row[0] for row in rows)
    # A parameter computed once (an InitPlan's) shows as $0; the statement's own as $1, $2, ….
    assert values and re.search(r"\$[0-9]", plan), f"a generic plan names its parameters:\n{plan}"
    return plan
