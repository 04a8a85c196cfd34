"""Category: a term of the welfare taxonomy (a tree with Italian and English labels)."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry

from ambrogio.context import Context
from ambrogio.db import models
from ambrogio.ids import to_global_id
from ambrogio.schema.types.enums import Lang, TuirCategory
from ambrogio.schema.types.node import Node

Info = strawberry.Info[Context, None]


@strawberry.type(description="A category of the welfare taxonomy; filters include sub-categories.")
class Category(Node):
    pk: strawberry.Private[uuid.UUID]
    parent_pk: strawberry.Private[uuid.UUID | None]
    label_it: strawberry.Private[str]
    label_en: strawberry.Private[str]
    slug: str = strawberry.field(description="Stable identifier used in filters and imports.")
    tuir_category: TuirCategory = strawberry.field(
        description="The art. 51 TUIR category that applies to services of this category."
    )
    vocabulary: str = strawberry.field(description="`ambrogio`, or the source of an external term.")

    @classmethod
    def from_row(cls, row: models.TaxonomyTerm) -> Category:
        return cls(
            id=strawberry.ID(to_global_id("Category", row.id)),
            pk=row.id,
            parent_pk=row.parent_id,
            label_it=row.label_it,
            label_en=row.label_en,
            slug=row.slug,
            tuir_category=TuirCategory(row.tuir_category),
            vocabulary=row.vocabulary,
        )

    @strawberry.field(description="The category's name for people, in `lang`.")
    def label(
        self,
        lang: Annotated[
            Lang | None,
            strawberry.argument(
                description="The language of the label; IT (Italian) when omitted."
            ),
        ] = Lang.IT,
    ) -> str:
        return self.label_en if lang is Lang.EN else self.label_it

    @strawberry.field(
        description="The broader category it belongs to; null for a top-level category."
    )
    async def parent(self, info: Info) -> Category | None:
        if self.parent_pk is None:
            return None
        row = await info.context.loaders.category.load(self.parent_pk)
        return Category.from_row(row) if row else None

    @strawberry.field(
        description="Its direct sub-categories (one level down; empty for a leaf), which a "
        "filter on this category also matches."
    )
    async def children(self, info: Info) -> list[Category]:
        rows = await info.context.loaders.category_children.load(self.pk)
        return [Category.from_row(row) for row in rows]
