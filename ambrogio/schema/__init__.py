"""The GraphQL schema: strawberry types, inputs and enums. No SQL here."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import QueryDepthLimiter
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from ambrogio.schema.category import Category
from ambrogio.schema.comune import Comune
from ambrogio.schema.errors import CodedErrors, is_expected
from ambrogio.schema.location import Location
from ambrogio.schema.map import MapQuery
from ambrogio.schema.mutation import Mutation
from ambrogio.schema.provider import Provider
from ambrogio.schema.query import CatalogueQuery
from ambrogio.schema.service import Service
from ambrogio.schema.welfare_point import WelfarePoint

MAX_DEPTH = 12

# Each capability contributes its own root fields; they merge into one `Query`.
Query = merge_types("Query", (CatalogueQuery, MapQuery))


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = [error for error in errors if not is_expected(error)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema() -> strawberry.Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        types=[Provider, Location, Service, Category, Comune, WelfarePoint],
        extensions=[lambda: QueryDepthLimiter(max_depth=MAX_DEPTH), CodedErrors],
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
