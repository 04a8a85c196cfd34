"""``node(id:)`` and ``nodes(ids:)``: any object by its global id, each type that implements
``Node`` (``NODE_TYPES``), as visible to the caller as wherever else the API shows it: a
reservation only to whoever made it (or a reviewer), a slot only of a visible service."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from ambrogio.auth.permissions import reviews_directly
from ambrogio.context import Context
from ambrogio.editing.merge import survivor
from ambrogio.errors import BadUserInput, NotFound
from ambrogio.ids import MalformedGlobalId, from_global_id
from ambrogio.schema.types.availability import Reservation, Slot
from ambrogio.schema.types.catalogue import Location, Provider, Service
from ambrogio.schema.types.category import Category
from ambrogio.schema.types.comune import Comune
from ambrogio.schema.types.node import Node
from ambrogio.schema.types.welfare_point import WelfarePoint

Info = strawberry.Info[Context, None]

ISTAT_CODE = re.compile(r"^[0-9]{6}$")


# How many ids one ``nodes`` call takes.
MAX_NODES = 100


# Each type that implements Node: the request's DataLoader that reads it (visible rows only)
# and how a row becomes the object.
NODE_TYPES: dict[str, tuple[str, Callable[[Any], Node]]] = {
    "Provider": ("provider", Provider.from_row),
    "Location": ("location", Location.from_row),
    "Service": ("service", Service.from_row),
    "WelfarePoint": ("welfare_point", WelfarePoint.from_row),
    "Category": ("category", Category.from_row),
    "Comune": ("comune", Comune.from_row),
    "Slot": ("slot", Slot.from_row),
    "Reservation": ("reservation", Reservation.from_row),
}


def _key(type_name: str, key: str, field: str, id: str) -> Any:
    if type_name not in NODE_TYPES:
        raise BadUserInput(
            field, id, f"names the type {type_name!r}; known: {', '.join(NODE_TYPES)}"
        )
    if type_name == "Comune":
        if not ISTAT_CODE.match(key):
            raise BadUserInput(field, id, "does not hold a 6-digit ISTAT code")
        return key
    try:
        return uuid.UUID(key)
    except ValueError:
        raise BadUserInput(field, id, "does not hold a valid record key") from None


def _parsed(id: str, field: str) -> tuple[str, Any]:
    """(type name, key) of a global id of a ``Node`` type; BAD_USER_INPUT naming ``field``."""
    try:
        type_name, key = from_global_id(id)
    except MalformedGlobalId:
        raise BadUserInput(field, id, "is not a global id issued by this API") from None
    return type_name, _key(type_name, key, field, id)


def _visible(context: Context, type_name: str, row: Any) -> bool:
    if type_name != "Reservation":
        return True  # the loaders read visible rows only
    caller = context.caller
    return reviews_directly(caller) or (not caller.anonymous and row.caller == caller.key)


async def _node(info: Info, type_name: str, key: Any) -> Node | None:
    loader, to_node = NODE_TYPES[type_name]
    load: Callable[[Any], Awaitable[Any]] = getattr(info.context.loaders, loader).load
    row = await load(key)
    if row is None and type_name == "Provider":
        # A provider merged into another answers with the one that absorbed it.
        async with info.context.sessionmaker() as session:
            target = await survivor(session, key)
        if target is not None:
            row = await load(target)
    if row is None or not _visible(info.context, type_name, row):
        return None
    return to_node(row)


async def node(info: Info, id: strawberry.ID) -> Node:
    type_name, key = _parsed(id, "id")
    found = await _node(info, type_name, key)
    if found is None:
        raise NotFound(f"id: no {type_name} with id {id!r} is visible")
    return found


async def nodes(info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
    """The objects in the order asked, null for one not visible (as Relay's ``nodes``); a
    malformed id fails the call, naming its place in ``ids``."""
    if len(ids) > MAX_NODES:
        raise BadUserInput("ids", f"{len(ids)} ids", f"holds more than {MAX_NODES}")
    parsed = [_parsed(id, f"ids[{index}]") for index, id in enumerate(ids)]
    # The loaders batch: one statement per type, however many ids.
    return list(await asyncio.gather(*(_node(info, name, key) for name, key in parsed)))
