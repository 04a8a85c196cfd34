"""Plain listings of the catalogue: ``providers``, ``services``, ``welfarePoints``, ``comuni``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import strawberry

from ambrogio.context import Context
from ambrogio.db import catalogue as q
from ambrogio.db.catalogue import Stmt
from ambrogio.resolvers.pagination import (
    counter,
    decode_cursor,
    encode_cursor,
    page_size,
    text_key,
    uuid_key,
)
from ambrogio.schema.comune import Comune
from ambrogio.schema.node import Connection, build_connection
from ambrogio.schema.provider import Provider
from ambrogio.schema.service import Service
from ambrogio.schema.welfare_point import WelfarePoint

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


async def providers(info: Info, first: int | None, after: str | None) -> Connection[Provider]:
    return await _page(
        info,
        q.providers_page,
        lambda row: (row.name, row.id),
        (text_key, uuid_key),
        Provider.from_row,
        first,
        after,
    )


async def services(info: Info, first: int | None, after: str | None) -> Connection[Service]:
    return await _page(
        info,
        q.services_page,
        lambda row: (row.name, row.id),
        (text_key, uuid_key),
        Service.from_row,
        first,
        after,
    )


async def welfare_points(
    info: Info, first: int | None, after: str | None
) -> Connection[WelfarePoint]:
    return await _page(
        info,
        q.welfare_points_page,
        lambda row: (row.name, row.id),
        (text_key, uuid_key),
        WelfarePoint.from_row,
        first,
        after,
    )


async def comuni(info: Info, first: int | None, after: str | None) -> Connection[Comune]:
    return await _page(
        info,
        q.comuni_page,
        lambda row: (row.istat_code,),
        (text_key,),
        Comune.from_row,
        first,
        after,
    )
