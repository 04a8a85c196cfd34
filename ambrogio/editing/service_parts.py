"""A service's relations — categories, cost options, the locations where it is offered — and
the checks its values need against the stored record.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.db.models import (
    CostOption,
    Location,
    Service,
    ServiceAtLocation,
    ServiceCategory,
    TaxonomyTerm,
)
from ambrogio.enums import Status
from ambrogio.errors import BadUserInput
from ambrogio.ids import to_global_id

# Values that are not columns of the service row but its relations.
RELATIONS = frozenset({"categories", "cost_options", "location_ids"})


async def relations(session: AsyncSession, key: uuid.UUID) -> dict[str, Any]:
    slugs = await session.scalars(
        select(TaxonomyTerm.slug)
        .join(ServiceCategory, ServiceCategory.term_id == TaxonomyTerm.id)
        .where(ServiceCategory.service_id == key)
        .order_by(TaxonomyTerm.slug)
    )
    options = await session.execute(
        select(CostOption.amount, CostOption.unit, CostOption.description)
        .where(CostOption.service_id == key)
        .order_by(CostOption.amount.nulls_first(), CostOption.unit, CostOption.description)
    )
    places = await session.scalars(
        select(ServiceAtLocation.location_id)
        .where(ServiceAtLocation.service_id == key)
        .order_by(ServiceAtLocation.location_id)
    )
    """The relations as JSON, for the audit trail."""
    return {
        "categories": list(slugs.all()),
        "cost_options": [
            {"amount": str(amount) if amount is not None else None, "unit": unit, "description": d}
            for amount, unit, d in options.all()
        ],
        "location_ids": [str(place) for place in places.all()],
    }


async def check(session: AsyncSession, row: Service, values: Mapping[str, Any]) -> None:
    """What the input alone cannot tell: ages against the stored ones, the service's places."""
    low = values.get("min_age", row.min_age)
    high = values.get("max_age", row.max_age)
    if low is not None and high is not None and low > high:
        name = "minAge" if "min_age" in values else "maxAge"
        raise BadUserInput(
            f"input.{name}",
            values.get("min_age", values.get("max_age")),
            f"leaves minAge {low} above maxAge {high}",
        )
    wanted = [uuid.UUID(key) for key in values.get("location_ids", [])]
    if wanted:
        found = set(
            (
                await session.scalars(
                    select(Location.id).where(
                        Location.id.in_(wanted),
                        Location.organization_id == row.organization_id,
                        Location.status != Status.ARCHIVED.value,
                    )
                )
            ).all()
        )
        for index, key in enumerate(wanted):
            if key not in found:
                raise BadUserInput(
                    f"input.locationIds[{index}]",
                    to_global_id("Location", key),
                    "is not a location of the service's provider",
                )


async def apply(
    session: AsyncSession, service: Service, values: Mapping[str, Any], instant: datetime
) -> None:
    """Replace the relations named in ``values``; a change of prices stamps ``instant``."""
    key = service.id
    if "categories" in values:
        await session.execute(delete(ServiceCategory).where(ServiceCategory.service_id == key))
        terms = await session.scalars(
            select(TaxonomyTerm.id).where(TaxonomyTerm.slug.in_(values["categories"]))
        )
        rows = [{"service_id": key, "term_id": term} for term in terms.all()]
        if rows:
            await session.execute(insert(ServiceCategory), rows)
    if "cost_options" in values:
        before = (await relations(session, key))["cost_options"]
        wanted = values["cost_options"]
        if _sorted_options(before) != _sorted_options(wanted):
            await session.execute(delete(CostOption).where(CostOption.service_id == key))
            if wanted:
                await session.execute(
                    insert(CostOption),
                    [
                        {
                            "service_id": key,
                            "amount": Decimal(option["amount"])
                            if option["amount"] is not None
                            else None,
                            "unit": option["unit"],
                            "description": option["description"],
                        }
                        for option in wanted
                    ],
                )
            service.prices_changed_at = instant
    if "location_ids" in values:
        await session.execute(delete(ServiceAtLocation).where(ServiceAtLocation.service_id == key))
        if values["location_ids"]:
            await session.execute(
                insert(ServiceAtLocation),
                [
                    {"service_id": key, "location_id": uuid.UUID(place)}
                    for place in values["location_ids"]
                ],
            )


def _sorted_options(options: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    def amount(value: Any) -> str:
        return str(Decimal(value).quantize(Decimal("0.01"))) if value is not None else ""

    return sorted((amount(o["amount"]), o["unit"], o["description"] or "") for o in options)
