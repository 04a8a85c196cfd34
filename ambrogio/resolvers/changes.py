"""``changes`` and ``changesHead``: the change feed as GraphQL connections; ``catalogueChanged``:
the same entries live, for the records in an area."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from ambrogio import validation
from ambrogio.catalogue import changes as statements
from ambrogio.catalogue.pagination import counter, page_size
from ambrogio.context import Context
from ambrogio.db import faults
from ambrogio.db.models import ChangeEvent
from ambrogio.db.notifications import CATALOGUE_CHANNEL
from ambrogio.errors import BadUserInput, Unavailable
from ambrogio.export import feed
from ambrogio.resolvers.search import checked_circle
from ambrogio.schema.types.changes import Change
from ambrogio.schema.types.inputs import LatLonInput
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


async def catalogue_changed(
    info: Info,
    near: LatLonInput | None,
    radius_m: float | None,
    comuni: list[str] | None,
) -> AsyncGenerator[Change, None]:
    area = _area(near, radius_m, comuni)
    notifications = info.context.notifications
    if notifications is None:
        raise Unavailable("catalogueChanged: live updates are unavailable; retry later")
    async with notifications.subscribe(CATALOGUE_CHANNEL) as queue:
        while True:
            entries = statements.notified(await queue.get())
            if entries is None:
                continue
            rows: list[ChangeEvent] = []
            with faults.tolerated():
                async with info.context.sessionmaker() as session:
                    rows = list(await session.scalars(statements.relevant(*entries, area)))
            for row in rows:
                yield Change.from_row(row)


def _area(
    near: LatLonInput | None, radius_m: float | None, comuni: list[str] | None
) -> statements.Area:
    """Exactly one of ``near`` with ``radiusMeters``, or ``comuni``."""
    if (near is None) == (comuni is None):
        raise BadUserInput("near", None, "give exactly one of near (with radiusMeters) or comuni")
    if comuni is not None:
        if radius_m is not None:
            raise BadUserInput("radiusMeters", radius_m, "goes with `near`, not `comuni`")
        if not comuni:
            raise BadUserInput("comuni", comuni, "must name at least one comune")
        codes = [validation.istat_code(f"comuni[{i}]", code) for i, code in enumerate(comuni)]
        return statements.Area(comuni=codes)
    assert near is not None
    point, radius = checked_circle(near, radius_m)
    return statements.Area(point=point, radius=radius)
