"""Facets: counts per category (a tree), comune, target group and delivery mode."""

from __future__ import annotations

import uuid

import strawberry

from ambrogio.context import Context
from ambrogio.schema.types.category import Category
from ambrogio.schema.types.comune import Comune
from ambrogio.schema.types.enums import Delivery, TargetGroup

Info = strawberry.Info[Context, None]


@strawberry.type(description="How many matching services fall in a category and its subtree.")
class CategoryFacet:
    pk: strawberry.Private[uuid.UUID]
    counts: strawberry.Private[dict[uuid.UUID, int]]
    count: int = strawberry.field(
        description="Matching services filed under the category or any of its sub-categories "
        "(each service once)."
    )

    @strawberry.field(description="The category counted.")
    async def category(self, info: Info) -> Category:
        row = await info.context.loaders.category.load(self.pk)
        assert row is not None
        return Category.from_row(row)

    @strawberry.field(description="Sub-categories with at least one matching service.")
    async def children(self, info: Info) -> list[CategoryFacet]:
        rows = await info.context.loaders.category_children.load(self.pk)
        return [
            CategoryFacet(pk=row.id, counts=self.counts, count=self.counts[row.id])
            for row in rows
            if row.id in self.counts
        ]


@strawberry.type(description="How many results lie in one comune.")
class ComuneFacet:
    code: strawberry.Private[str]
    count: int = strawberry.field(
        description="Matching services with a location in the comune or reaching it at home."
    )

    @strawberry.field(description="The comune counted; null if the gazetteer lacks its code.")
    async def comune(self, info: Info) -> Comune | None:
        return await Comune.load(info, self.code)


@strawberry.type(description="How many results are meant for one target group.")
class TargetGroupFacet:
    target_group: TargetGroup = strawberry.field(description="The target group counted.")
    count: int = strawberry.field(description="Matching services meant for it.")


@strawberry.type(description="How many results are delivered one way.")
class DeliveryFacet:
    delivery: Delivery = strawberry.field(description="The delivery mode counted.")
    count: int = strawberry.field(
        description="Matching services delivered this way (a service with several modes "
        "counts in each)."
    )


@strawberry.type(description="Counts for the current search, computed in one statement.")
class Facets:
    total: int = strawberry.field(description="Matching services.")
    categories: list[CategoryFacet] = strawberry.field(
        description="Root categories with matching services; sub-categories via `children`."
    )
    comuni: list[ComuneFacet] = strawberry.field(
        description="Comuni where matching services have a location or that they serve at home."
    )
    target_groups: list[TargetGroupFacet] = strawberry.field(
        description="Target groups of the matching services, with their counts; groups without "
        "a match are left out."
    )
    delivery: list[DeliveryFacet] = strawberry.field(
        description="Delivery modes of the matching services, with their counts."
    )
