"""``openAt`` as SQL: open when the place's (hours, comune) set has an interval holding the instant.

The sets open at an instant come from one uncorrelated subquery (``during @> t`` on the GiST
index of ``open_interval``), which PostgreSQL runs once per statement and probes as a hash:
a few hundred sets even for a million locations, so the test costs next to nothing per row,
whether the rows come from a KNN scan (``near``) or any other filter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, DateTime, cast, func, literal, select, tuple_
from sqlalchemy.orm import aliased

from ambrogio.catalogue.visibility import PUBLISHED, Stmt
from ambrogio.db.models import Location, OpeningHoursSet, OpenInterval, Organization


def sets_open_at(instant: datetime) -> Stmt:
    """(hours, comune) of every set open at ``instant`` (an aware datetime)."""
    return (
        select(OpeningHoursSet.hours, OpeningHoursSet.comune_istat)
        .join(OpenInterval, OpenInterval.set_id == OpeningHoursSet.id)
        .where(OpenInterval.during.contains(cast(instant, DateTime(timezone=True))))
    )


def open_at(hours: Any, comune_istat: Any, instant: datetime) -> ColumnElement[bool]:
    """A place with these ``opening_hours`` and comune columns is open at ``instant``."""
    key = tuple_(hours, func.coalesce(comune_istat, ""))
    return key.in_(sets_open_at(instant))


def location_open_at(instant: datetime, location: Any = Location) -> ColumnElement[bool]:
    return open_at(location.opening_hours, location.comune_istat, instant)


def provider_open_at(instant: datetime) -> ColumnElement[bool]:
    """One of the provider's published locations is open at ``instant``.

    An alias correlated to ``organization`` only: the nearby search evaluates this inside a
    statement on ``location``, whose row it must not be taken for.
    """
    place = aliased(Location)
    return (
        select(literal(1))
        .select_from(place)
        .where(
            place.organization_id == Organization.id,
            place.status == PUBLISHED,
            location_open_at(instant, place),
        )
        .correlate(Organization)
        .exists()
    )


def coverage() -> Stmt:
    """The span every set was computed for (their intersection); NULL without sets."""
    return select(func.range_intersect_agg(OpeningHoursSet.computed_for))
