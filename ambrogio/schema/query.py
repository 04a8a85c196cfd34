"""The root ``Query`` type: thin fields that delegate to resolvers."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ambrogio.context import Context
from ambrogio.resolvers import categories, listing
from ambrogio.resolvers import node as node_resolver
from ambrogio.schema.category import Category
from ambrogio.schema.comune import Comune
from ambrogio.schema.node import Connection, Node
from ambrogio.schema.provider import Provider
from ambrogio.schema.service import Service
from ambrogio.schema.welfare_point import WelfarePoint

Info = strawberry.Info[Context, None]

FIRST = "Page size, 1–100."
AFTER = "The `endCursor` of the previous page."


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id; NOT_FOUND when not visible.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await node_resolver.node(info, id)

    @strawberry.field(description="Published providers, by name.")
    async def providers(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> Connection[Provider]:
        return await listing.providers(info, first, after)

    @strawberry.field(description="Published services, by name.")
    async def services(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> Connection[Service]:
        return await listing.services(info, first, after)

    @strawberry.field(description="Welfare hubs and points, by name.")
    async def welfare_points(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> Connection[WelfarePoint]:
        return await listing.welfare_points(info, first, after)

    @strawberry.field(
        description="The roots of the welfare taxonomy; sub-categories via `children`."
    )
    async def categories(self, info: Info) -> list[Category]:
        return await categories.root_categories(info)

    @strawberry.field(description="The comuni of the gazetteer, by ISTAT code.")
    async def comuni(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = 100,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> Connection[Comune]:
        return await listing.comuni(info, first, after)
