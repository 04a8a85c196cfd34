"""The change feed: every create, update, publish, archive, merge and delete of a provider,
location, service or welfare point that the public could see, in an order a client can follow.

Triggers write the changes (migration 0007) with the writing transaction's id. A reader sees
only the changes of transactions older than every transaction still running
(``pg_snapshot_xmin``), ordered by ``(txid, seq)``: every change that shows up later belongs to
a transaction at least that young, so it sorts after any cursor already handed out, and a
client that follows the cursor never skips a change. The price: a change shows up only once
every older transaction on the server has ended (transaction ids are server-wide, so a long
transaction in another database delays the feed too, never reorders it).

Changes are kept ``KEEP_DAYS`` days by default (``ambrogio changes purge``); a cursor from before
the purged horizon cannot be continued, and the client is told to read the catalogue afresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Delete, Insert, Text, cast, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert

from ambrogio.catalogue.pagination import keyset_page
from ambrogio.catalogue.visibility import Stmt
from ambrogio.db.models import ChangeEvent, ChangeHorizon

KEEP_DAYS = 90
# The GraphQL type of each entity (and of its global id).
TYPE_NAMES = {
    "provider": "Provider",
    "location": "Location",
    "service": "Service",
    "welfare_point": "WelfarePoint",
}


def _settled() -> Any:
    """Transaction ids below this one have all ended: their changes are final."""
    return cast(cast(func.pg_snapshot_xmin(func.pg_current_snapshot()), Text), BigInteger)


def page(after: Sequence[int] | None, limit: int) -> Stmt:
    """The public changes after a ``(txid, seq)`` cursor, oldest first."""
    stmt = select(ChangeEvent).where(
        ChangeEvent.txid < _settled(),
        or_(ChangeEvent.published_before, ChangeEvent.published_after),
    )
    return keyset_page(stmt, [ChangeEvent.txid, ChangeEvent.seq], after, limit)


def head() -> Stmt:
    """The newest settled change's ``(txid, seq)``: where a client that has just read the whole
    catalogue starts following the feed (no row: the feed is empty)."""
    return (
        select(ChangeEvent.txid, ChangeEvent.seq)
        .where(ChangeEvent.txid < _settled())
        .order_by(ChangeEvent.txid.desc(), ChangeEvent.seq.desc())
        .limit(1)
    )


def horizon() -> Stmt:
    return select(ChangeHorizon.txid, ChangeHorizon.seq)


def purged_through(before: datetime) -> Stmt:
    """The newest settled change older than ``before``: the purge's new horizon."""
    return (
        select(ChangeEvent.txid, ChangeEvent.seq)
        .where(ChangeEvent.at < before, ChangeEvent.txid < _settled())
        .order_by(ChangeEvent.txid.desc(), ChangeEvent.seq.desc())
        .limit(1)
    )


def purge(txid: int, seq: int) -> tuple[Insert, Delete]:
    """Move the horizon to ``(txid, seq)`` and delete the changes up to it."""
    mark = insert(ChangeHorizon).values(id=1, txid=txid, seq=seq)
    mark = mark.on_conflict_do_update(
        index_elements=[ChangeHorizon.id],
        set_={"txid": txid, "seq": seq, "purged_at": func.now()},
    )
    gone = delete(ChangeEvent).where(
        (ChangeEvent.txid < txid) | ((ChangeEvent.txid == txid) & (ChangeEvent.seq <= seq))
    )
    return mark, gone
