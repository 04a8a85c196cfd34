"""The Relay ``Node`` interface, page info and connection building."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry

N = TypeVar("N")


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Global id: base64url of `Type:key`.")


# A cursor, or what encodes it when asked (most pages are read without their edges' cursors).
Cursor = str | Callable[[], str]


def _text(cursor: Cursor) -> str:
    return cursor if isinstance(cursor, str) else cursor()


def _edge_cursor(root: Any) -> str:
    return _text(root._cursor)


def _start_cursor(root: Any) -> str | None:
    return None if root._start is None else _text(root._start)


def _end_cursor(root: Any) -> str | None:
    return None if root._end is None else _text(root._end)


@strawberry.type(description="Where a page lies in its list (Relay's cursor connections).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether a page follows this one.")
    has_previous_page: bool = strawberry.field(
        description="Whether the page was asked for `after` a cursor."
    )
    # Encoded when selected, as the edges' cursors are (a nearby page seldom asks for them).
    start_cursor: str | None = strawberry.field(
        resolver=_start_cursor,
        description="The cursor of the page's first item; null on an empty page.",
    )
    end_cursor: str | None = strawberry.field(
        resolver=_end_cursor,
        description="The cursor of the page's last item: pass it as `after` for the next page.",
    )
    _start: strawberry.Private[Cursor | None] = None
    _end: strawberry.Private[Cursor | None] = None


@strawberry.type(description="One item of a page, with its cursor.")
class Edge(Generic[N]):
    node: N = strawberry.field(description="The item.")
    # Encoded when selected: a resolver of its own, in the place of a plain field.
    cursor: str = strawberry.field(
        resolver=_edge_cursor,
        description="Where this item is: `after` it, the rest.",
    )
    _cursor: strawberry.Private[Cursor] = ""
    distance_meters: float | None = strawberry.field(
        default=None,
        description="Metres on the WGS84 ellipsoid from `near` (to the nearest location); "
        "null without `near`.",
    )


@strawberry.type(description="A page of a list, in Relay's cursor connection shape.")
class Connection(Generic[N]):
    edges: list[Edge[N]] = strawberry.field(description="The page's items, in order.")
    page_info: PageInfo = strawberry.field(description="Whether more pages follow, and where.")
    _count: strawberry.Private[Callable[[], Any] | None] = None

    @strawberry.field(description="How many items the whole list holds (one extra count query).")
    async def total_count(self) -> int:
        if self._count is None:
            return len(self.edges)
        result: int = await self._count()
        return result


def build_connection(
    nodes: Sequence[N],
    cursors: Sequence[Cursor],
    *,
    limit: int,
    after: str | None,
    count: Callable[[], Any] | None = None,
    distances: Sequence[float | None] | None = None,
) -> Connection[N]:
    """A page from up to ``limit + 1`` fetched rows (the extra one only says a next page exists)."""
    page, page_cursors = list(nodes[:limit]), list(cursors[:limit])
    page_distances = list(distances[:limit]) if distances is not None else [None] * len(page)
    edges = [
        Edge(node=node, _cursor=cursor, distance_meters=distance)
        for node, cursor, distance in zip(page, page_cursors, page_distances, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(nodes) > limit,
            has_previous_page=after is not None,
            _start=page_cursors[0] if page_cursors else None,
            _end=page_cursors[-1] if page_cursors else None,
        ),
        _count=count,
    )
