"""``changes`` and ``changesHead``: the change feed as GraphQL connections."""

from __future__ import annotations

import strawberry

from ambrogio.catalogue import changes as statements
from ambrogio.catalogue.pagination import counter, page_size
from ambrogio.context import Context
from ambrogio.export import feed
from ambrogio.schema.types.changes import Change
from ambrogio.schema.types.node import Connection, build_connection

Info = strawberry.Info[Context, None]


async def changes(info: Info, after: str | None, first: int | None) -> Connection[Change]:
    limit = page_size(first, info.context.settings)
    async with info.context.sessionmaker() as session:
        rows, cursors = await feed.read(session, after, limit)
    # The whole feed as kept, whatever the cursor.
    count = counter(info.context.sessionmaker, statements.page(None, limit))
    return build_connection(
        [Change.from_row(row) for row in rows], cursors, limit=limit, after=after, count=count
    )


async def changes_head(info: Info) -> str | None:
    async with info.context.sessionmaker() as session:
        return await feed.head(session)
