"""The GraphQL schema: strawberry types, inputs and enums. No SQL here."""

from __future__ import annotations

import strawberry
from strawberry.extensions import QueryDepthLimiter

from ambrogio.schema.category import Category
from ambrogio.schema.comune import Comune
from ambrogio.schema.errors import CodedErrors
from ambrogio.schema.location import Location
from ambrogio.schema.provider import Provider
from ambrogio.schema.query import Query
from ambrogio.schema.service import Service
from ambrogio.schema.welfare_point import WelfarePoint

MAX_DEPTH = 12


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        types=[Provider, Location, Service, Category, Comune, WelfarePoint],
        extensions=[QueryDepthLimiter(max_depth=MAX_DEPTH), CodedErrors],  # type: ignore[list-item]
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
