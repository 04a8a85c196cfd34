"""The change feed read a page at a time, for GraphQL (``changes``) and the HSDS REST API
(``/hsds/changes``) alike; the statements are ``catalogue.changes``."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.catalogue import changes
from ambrogio.catalogue.pagination import decode_cursor, encode_cursor, int_key
from ambrogio.db.models import ChangeEvent
from ambrogio.errors import BadUserInput


def cursor_of(txid: int, seq: int) -> str:
    return encode_cursor([txid, seq])


async def read(
    session: AsyncSession, after: str | None, limit: int
) -> tuple[Sequence[ChangeEvent], list[str]]:
    """Up to ``limit + 1`` changes after the cursor and their cursors; BAD_USER_INPUT on
    ``after`` when it is not ours or lies before the purged horizon."""
    key = decode_cursor(after, [int_key, int_key])
    if key is not None:
        horizon = (await session.execute(changes.horizon())).first()
        if horizon is not None and tuple(key) < tuple(horizon):
            raise BadUserInput(
                "after",
                after,
                "is older than the changes kept: read the catalogue afresh (the lists or the "
                "export), then follow the feed from `changesHead`",
            )
    rows = (await session.scalars(changes.page(key, limit))).all()
    return rows, [cursor_of(row.txid, row.seq) for row in rows]


async def head(session: AsyncSession) -> str | None:
    found = (await session.execute(changes.head())).first()
    return cursor_of(*found) if found is not None else None
