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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Delete,
    Insert,
    String,
    Text,
    and_,
    cast,
    column,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import aliased

from ambrogio.catalogue.pagination import keyset_page
from ambrogio.catalogue.visibility import Stmt
from ambrogio.db.models import (
    ChangeEvent,
    ChangeHorizon,
    Location,
    Service,
    ServiceAtLocation,
    WelfarePoint,
)
from ambrogio.geo.point import LatLon, geography
from ambrogio.geo.reach import reaches

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


def fingerprint() -> Stmt:
    """What tells one state of the catalogue from the next (``http.conditional``): how many
    changes there are, the newest, the purge horizon, when the oldest transaction still open
    began (a change it commits will carry that time, ``at`` being its start), and the time.

    Every committed change adds a row, so the count moves even when a transaction that began
    earlier commits after a younger one (the newest ``(txid, seq)`` would not); a purge moves
    the horizon. Drafts' changes count too: a needless refresh, never a missed one.
    """
    activity = table(
        "pg_stat_activity",
        column("xact_start"),
        column("pid"),
        column("datname"),
        column("backend_type"),
    )
    oldest_open = (
        select(func.min(activity.c.xact_start))
        .where(
            activity.c.datname == func.current_database(),
            activity.c.pid != func.pg_backend_pid(),
            activity.c.backend_type == "client backend",
        )
        .scalar_subquery()
    )
    horizon = select(ChangeHorizon.txid, ChangeHorizon.seq).subquery()
    return select(
        func.count(),
        func.max(ChangeEvent.txid),
        func.max(ChangeEvent.seq),
        func.max(ChangeEvent.at),
        select(horizon.c.txid).scalar_subquery(),
        select(horizon.c.seq).scalar_subquery(),
        oldest_open,
        func.clock_timestamp(),
    ).select_from(ChangeEvent)


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


@dataclass(frozen=True)
class Area:
    """Where a live subscriber looks: within ``radius`` metres of ``point``, or in ``comuni``."""

    point: LatLon | None = None
    radius: float | None = None
    comuni: Sequence[str] | None = None


def _in_area(area: Area, geom: Any, comune: Any) -> ColumnElement[bool]:
    if area.point is not None and area.radius is not None:
        return func.ST_DWithin(geography(geom), area.point.geography(), literal(area.radius))
    inside: ColumnElement[bool] = comune.in_(list(area.comuni or ()))
    return inside


def _service_reaches(area: Area, service_id: Any) -> ColumnElement[bool]:
    """An at-home service whose area takes in the subscriber's area."""
    if area.point is not None:
        return exists().where(Service.id == service_id, reaches(area.point))
    codes = cast(literal(list(area.comuni or ()), ARRAY(String(6))), ARRAY(String(6)))
    return exists().where(Service.id == service_id, Service.service_area_comuni.op("&&")(codes))


def notified(payload: str) -> tuple[int, int] | None:
    """The entries a catalogue notification names: ``seq``, or ``first-last`` for the public
    entries one statement wrote (migration 0021); None for anything else."""
    first, dash, last = payload.partition("-")
    if not first.isdigit() or (dash and not last.isdigit()):
        return None
    return int(first), int(last if dash else first)


def relevant(first: int, last: int, area: Area) -> Stmt:
    """The public changes one statement wrote with seq from ``first`` to ``last`` (those of
    ``last``'s transaction: other transactions' entries may lie between), in seq order, when
    the record each is about lies in the area; a deletion always (nothing is left to place
    it)."""
    event = ChangeEvent
    writer = select(ChangeEvent.txid).where(ChangeEvent.seq == last).scalar_subquery()
    place, site = aliased(Location), aliased(ServiceAtLocation)
    here = _in_area(area, place.geom, place.comune_istat)
    located = or_(
        and_(event.entity == "location", exists().where(place.id == event.record_id, here)),
        and_(
            event.entity == "provider",
            exists().where(place.organization_id == event.record_id, here),
        ),
        and_(
            event.entity == "service",
            or_(
                exists().where(
                    site.service_id == event.record_id, place.id == site.location_id, here
                ),
                _service_reaches(area, event.record_id),
            ),
        ),
        and_(
            event.entity == "welfare_point",
            exists().where(
                WelfarePoint.id == event.record_id,
                _in_area(area, WelfarePoint.geom, WelfarePoint.comune_istat),
            ),
        ),
    )
    return (
        select(event)
        .where(
            event.seq.between(first, last),
            event.txid == writer,
            or_(event.published_before, event.published_after),
            or_(event.change == "delete", located),
        )
        .order_by(event.seq)
    )
