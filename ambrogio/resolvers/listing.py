"""The gazetteer listing: ``comuni`` by ISTAT code."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import strawberry

from ambrogio.catalogue import listings as q
from ambrogio.catalogue.pagination import (
    counter,
    decode_cursor,
    encode_cursor,
    page_size,
    text_key,
)
from ambrogio.catalogue.visibility import Stmt
from ambrogio.context import Context
from ambrogio.schema.types.comune import Comune
from ambrogio.schema.types.node import Connection, build_connection

Info = strawberry.Info[Context, None]
N = TypeVar("N")


async def _page(
    info: Info,
    build: Callable[[Sequence[Any] | None, int], Stmt],
    key: Callable[[Any], Sequence[Any]],
    parsers: Sequence[Callable[[Any], Any]],
    to_node: Callable[[Any], N],
    first: int | None,
    after: str | None,
) -> Connection[N]:
    context = info.context
    limit = page_size(first, context.settings)
    stmt = build(decode_cursor(after, parsers), limit)
    async with context.sessionmaker() as session:
        rows = (await session.scalars(stmt)).all()
    return build_connection(
        [to_node(row) for row in rows],
        [encode_cursor(key(row)) for row in rows],
        limit=limit,
        after=after,
        count=counter(context.sessionmaker, build(None, limit)),
    )


async def comuni(
    info: Info, provinces: list[str] | None, first: int | None, after: str | None
) -> Connection[Comune]:
    return await _page(
        info,
        lambda cursor, limit: q.comuni_page(cursor, limit, provinces),
        lambda row: (row.istat_code,),
        (text_key,),
        Comune.from_row,
        first,
        after,
    )
