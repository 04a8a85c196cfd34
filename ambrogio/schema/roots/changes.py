"""Root fields of the change feed: ``changes`` and ``changesHead``."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ambrogio.context import Context
from ambrogio.resolvers import changes
from ambrogio.schema.types.changes import Change
from ambrogio.schema.types.node import Connection

Info = strawberry.Info[Context, None]


@strawberry.type
class ChangesQuery:
    @strawberry.field(
        description="Every create, update, publish, archive, merge and delete of a provider, "
        "location, service or welfare point the public can see (or saw before the change), "
        "oldest first, after the cursor `after`. The order is commit-safe: a change never "
        "appears behind a cursor already handed out, so following `endCursor` misses nothing. "
        "Changes are kept 90 days; an older cursor is BAD_USER_INPUT (read afresh)."
    )
    async def changes(
        self,
        info: Info,
        after: Annotated[
            str | None, strawberry.argument(description="A cursor of this feed.")
        ] = None,
        first: Annotated[
            int | None,
            strawberry.argument(
                description="How many changes, 1–100 (default 100); outside, `BAD_USER_INPUT`."
            ),
        ] = 100,
    ) -> Connection[Change]:
        return await changes.changes(info, after, first)

    @strawberry.field(
        description="The cursor of the newest change: take it before reading the whole "
        "catalogue, then follow `changes(after:)` from it. Null while the feed is empty."
    )
    async def changes_head(self, info: Info) -> str | None:
        return await changes.changes_head(info)
