"""``node(id:)``: any object by its global id."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from ambrogio.context import Context
from ambrogio.editing.merge import survivor
from ambrogio.errors import BadUserInput, NotFound
from ambrogio.ids import MalformedGlobalId, from_global_id
from ambrogio.schema.types.catalogue import Location, Provider, Service
from ambrogio.schema.types.category import Category
from ambrogio.schema.types.comune import Comune
from ambrogio.schema.types.node import Node
from ambrogio.schema.types.welfare_point import WelfarePoint

Info = strawberry.Info[Context, None]

ISTAT_CODE = re.compile(r"^[0-9]{6}$")


def _loaders(context: Context) -> dict[str, tuple[Callable[[Any], Awaitable[Any]], Any]]:
    loaders = context.loaders
    return {
        "Provider": (loaders.provider.load, Provider.from_row),
        "Location": (loaders.location.load, Location.from_row),
        "Service": (loaders.service.load, Service.from_row),
        "WelfarePoint": (loaders.welfare_point.load, WelfarePoint.from_row),
        "Category": (loaders.category.load, Category.from_row),
        "Comune": (loaders.comune.load, Comune.from_row),
    }


async def node(info: Info, id: strawberry.ID) -> Node:
    try:
        type_name, key = from_global_id(id)
    except MalformedGlobalId:
        raise BadUserInput("id", id, "is not a global id issued by this API") from None
    loaders = _loaders(info.context)
    if type_name not in loaders:
        raise BadUserInput("id", id, f"names an unknown type {type_name!r}")
    parsed: Any
    if type_name == "Comune":
        if not ISTAT_CODE.match(key):
            raise BadUserInput("id", id, "does not hold a 6-digit ISTAT code")
        parsed = key
    else:
        try:
            parsed = uuid.UUID(key)
        except ValueError:
            raise BadUserInput("id", id, "does not hold a valid record key") from None
    load, to_node = loaders[type_name]
    row = await load(parsed)
    if row is None and type_name == "Provider":
        # A provider merged into another answers with the one that absorbed it.
        async with info.context.sessionmaker() as session:
            target = await survivor(session, parsed)
        if target is not None:
            row = await load(target)
    if row is None:
        raise NotFound(f"id: no {type_name} with id {id!r} is visible")
    result: Node = to_node(row)
    return result
