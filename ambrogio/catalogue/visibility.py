"""What the public may see: published records of a published provider not merged away.

Every read of the public catalogue (GraphQL, tiles, exports, HSDS) builds on these clauses.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists

from ambrogio.db.models import Location, Organization, Service
from ambrogio.enums import Status

PUBLISHED = Status.PUBLISHED.value

# A select of any columns (SQLAlchemy 2.1 types selects by their column tuple).
Stmt = Select[*tuple[Any, ...]]
# A WHERE clause, as builders hand them to one another.
Condition = ColumnElement[bool]


def provider_visible() -> ColumnElement[bool]:
    return and_(Organization.status == PUBLISHED, Organization.merged_into_id.is_(None))


def _owner_visible(owner_id: Any) -> ColumnElement[bool]:
    return exists().where(Organization.id == owner_id, provider_visible())


def location_visible() -> ColumnElement[bool]:
    return and_(Location.status == PUBLISHED, _owner_visible(Location.organization_id))


def service_visible() -> ColumnElement[bool]:
    return and_(Service.status == PUBLISHED, _owner_visible(Service.organization_id))
