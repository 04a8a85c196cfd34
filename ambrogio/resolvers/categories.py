"""``categories``: the roots of the welfare taxonomy."""

from __future__ import annotations

import strawberry

from ambrogio.catalogue import listings as q
from ambrogio.context import Context
from ambrogio.schema.types.category import Category

Info = strawberry.Info[Context, None]


async def root_categories(info: Info) -> list[Category]:
    async with info.context.sessionmaker() as session:
        rows = (await session.scalars(q.root_categories())).all()
    return [Category.from_row(row) for row in rows]
