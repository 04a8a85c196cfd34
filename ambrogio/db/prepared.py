"""Hot read statements run on the pool's asyncpg connection itself, outside a transaction.

A read of one statement needs no ``BEGIN``/``ROLLBACK`` pair around it, nor SQLAlchemy's
execution machinery per call: ``Prepared`` compiles a statement once (the asyncpg dialect's
text, ``$n`` placeholders in the order of its named parameters, and the type conversions its
parameters and columns need), and ``fetch`` runs it on a pooled connection with asyncpg, whose
statement cache prepares it once per connection. Rows come back as named tuples: attribute
access by column name, as SQLAlchemy rows give.

``fetch`` makes one round trip where a checkout of the serving engine makes two (the
``application_name`` of ``ambrogio.db.tagging``, then the statement): the statement it sends
sets the name itself, as its first step (``tagged``, one more parameter), and a connection found
dead (PostgreSQL restarted) is replaced and the read sent again on a checked one.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import Float, Numeric
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Select
from sqlalchemy.types import TypeEngine

from ambrogio.db.tagging import application_name, current_request, self_tagged

DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]

Processor = Callable[[Any], Any] | None
_GIVEN = object()
# What a connection PostgreSQL dropped raises (closed socket, the server's shutdown message).
DEAD = (
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CannotConnectNowError,
    ConnectionError,
    # The server's goodbye read while idle leaves the protocol consuming it: the next
    # statement is refused before anything is sent ("another operation is in progress").
    asyncpg.exceptions.InternalClientError,
)


@dataclass(frozen=True)
class Prepared:
    sql: str
    # The parameters in ``$n`` order: name, the conversion of its type, and the value of a
    # constant the statement holds (its SRID, ...), or ``_GIVEN`` when each call gives it.
    params: tuple[tuple[str, Processor, Any], ...]
    # The result columns' conversions (geometry to WKB elements, ...); None when none has one.
    results: tuple[Processor, ...] | None
    row: Callable[..., Any]
    # ``sql`` that first sets ``application_name`` to its last parameter (see ``tagged``).
    tagged_sql: str = ""

    @classmethod
    def of(cls, stmt: Select[Any]) -> Prepared:
        """Compiled once: a statement whose values are all named parameters."""
        compiled = stmt.compile(dialect=DIALECT)
        params = tuple(
            (
                name,
                compiled.binds[name].type.dialect_impl(DIALECT).bind_processor(DIALECT),
                _GIVEN if compiled.binds[name].required else compiled.params[name],
            )
            for name in compiled.positiontup or ()
        )
        columns = list(stmt.selected_columns)
        results = tuple(_result_processor(column.type) for column in columns)
        row = namedtuple("Row", [column.key for column in columns])  # type: ignore[misc]
        return cls(
            compiled.string,
            params,
            results if any(results) else None,
            row,
            tagged(compiled.string, len(params) + 1),
        )

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        args = []
        for name, process, constant in self.params:
            value = values[name] if constant is _GIVEN else constant
            args.append(process(value) if process is not None else value)
        return args

    def rows(self, records: Sequence[Sequence[Any]]) -> list[Any]:
        make, results = self.row, self.results
        if results is None:
            return [make(*record) for record in records]
        return [
            make(
                *(
                    process(value) if process is not None and value is not None else value
                    for process, value in zip(results, record, strict=True)
                )
            )
            for record in records
        ]


def tagged(sql: str, parameter: int) -> str:
    """``sql``'s rows, in its order, read after ``set_config('application_name', $parameter)``.

    The one-row ``tag`` is the outer side of the join and the statement's rows depend on it, so
    the name is set before the statement runs (``pg_stat_activity`` shows it meanwhile, the
    server log's ``%a`` after); the statement stays a subquery whose order the nested loop
    keeps. The name holds on the connection afterwards, as a checkout's ``SET`` would."""
    return (
        f"SELECT q.* FROM (SELECT set_config('application_name', ${parameter}, false) AS tag) t"
        f" CROSS JOIN LATERAL (SELECT * FROM ({sql}) s WHERE t.tag IS NOT NULL) q"
    )


def _result_processor(type_: TypeEngine[Any]) -> Processor:
    if isinstance(type_, Float):
        # float8 comes back as a float; the dialect's processor would need the column's OID.
        return None
    if isinstance(type_, Numeric):
        raise TypeError("numeric columns need the OID the server reports: use a session")
    return type_.dialect_impl(DIALECT).result_processor(DIALECT, None)


async def run(
    driver: asyncpg.Connection, prepared: Prepared, values: Mapping[str, Any]
) -> list[Any]:
    """The statement's rows, on an asyncpg connection of the caller's."""
    return prepared.rows(await driver.fetch(prepared.sql, *prepared.args(values)))


async def fetch(engine: AsyncEngine, prepared: Prepared, values: Mapping[str, Any]) -> list[Any]:
    """The statement's rows, read on a pooled connection in autocommit: one round trip, the
    connection named after the request by the statement itself (``tagging``).

    SQLAlchemy's events do not see it (it never passes through SQLAlchemy's execution)."""
    args = [*prepared.args(values), application_name(current_request.get())]
    token = self_tagged.set(True)
    try:
        pooled = await engine.raw_connection()
    finally:
        self_tagged.reset(token)
    driver = pooled.driver_connection
    assert driver is not None
    if driver.is_closed():
        # The server closed it while pooled (a restart): replaced on a checked checkout.
        pooled.invalidate()
        return prepared.rows(await fetch_sql(engine, prepared.tagged_sql, args))
    try:
        records = await driver.fetch(prepared.tagged_sql, *args)
    except DEAD as error:
        # Gone before it answered (nothing was read): once more, on a checked connection.
        pooled.invalidate(error)
        return prepared.rows(await fetch_sql(engine, prepared.tagged_sql, args))
    except asyncpg.PostgresError:
        pooled.close()
        raise
    except BaseException:
        pooled.invalidate()
        raise
    pooled.close()
    return prepared.rows(records)


async def fetch_sql(engine: AsyncEngine, sql: str, args: Sequence[Any]) -> list[asyncpg.Record]:
    """The records of a ``$n`` statement, on a pooled connection in autocommit (one round trip;
    a one-statement write commits by itself)."""
    pooled = await engine.raw_connection()
    try:
        driver = pooled.driver_connection
        assert driver is not None
        records: list[asyncpg.Record] = await driver.fetch(sql, *args)
    except asyncpg.PostgresError:
        pooled.close()
        raise
    except BaseException:
        # Cancelled mid-statement or the connection broke: not fit for the next caller.
        pooled.invalidate()
        raise
    # Back to the pool; with no transaction begun, its reset sends nothing.
    pooled.close()
    return records
