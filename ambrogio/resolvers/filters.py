"""Validating a ``ServiceFilter`` input into a ``ServiceFilterSpec``."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.catalogue.filters import PriceRange, ServiceFilterSpec, descendant_terms
from ambrogio.db.models import Comune
from ambrogio.errors import BadUserInput
from ambrogio.hours.calendar import local
from ambrogio.hours.open_at import coverage
from ambrogio.schema.types.inputs import ServiceFilter, TimeRangeInput

LANGUAGE = re.compile(r"^[a-z]{2}$")
ISTAT = re.compile(r"^[0-9]{6}$")
MAX_AGE = 130
MAX_WINDOW = timedelta(days=92)


async def filter_spec(session: AsyncSession, given: ServiceFilter | None) -> ServiceFilterSpec:
    if given is None:
        return ServiceFilterSpec()
    category_ids = None
    if given.categories is not None:
        rows = (await session.execute(descendant_terms(given.categories))).all()
        known = {root for root, _ in rows}
        for slug in given.categories:
            if slug not in known:
                raise BadUserInput("filter.categories", slug, "is not a category slug")
        category_ids = sorted({term_id for _, term_id in rows})
    if given.age is not None and not 0 <= given.age <= MAX_AGE:
        raise BadUserInput("filter.age", given.age, f"must be between 0 and {MAX_AGE}")
    for language in given.languages or []:
        if not LANGUAGE.match(language):
            raise BadUserInput("filter.languages", language, "is not an ISO 639-1 code like 'it'")
    if given.comuni:
        for code in given.comuni:
            if not ISTAT.match(code):
                raise BadUserInput("filter.comuni", code, "is not a 6-digit ISTAT code")
        found = set(
            (
                await session.scalars(
                    select(Comune.istat_code).where(Comune.istat_code.in_(given.comuni))
                )
            ).all()
        )
        for code in given.comuni:
            if code not in found:
                raise BadUserInput("filter.comuni", code, "is not a known comune")
    price = None
    if given.price is not None:
        for name, value in (("min", given.price.min), ("max", given.price.max)):
            if value is not None and (not math.isfinite(value) or value < 0):
                raise BadUserInput(f"filter.price.{name}", value, "must be a non-negative amount")
        low, high = given.price.min, given.price.max
        if low is not None and high is not None and low > high:
            raise BadUserInput("filter.price.min", low, f"is above filter.price.max ({high})")
        unit = given.price.unit.value if given.price.unit is not None else None
        price = PriceRange(min=low, max=high, unit=unit)
    return ServiceFilterSpec(
        category_ids=category_ids,
        target_groups=[group.value for group in given.target_groups or []] or None,
        age=given.age,
        welfare_eligible=given.welfare_eligible,
        tuir_categories=[tuir.value for tuir in given.tuir_categories or []] or None,
        price=price,
        languages=given.languages or None,
        wheelchair_accessible=given.wheelchair_accessible,
        delivery=[mode.value for mode in given.delivery or []] or None,
        comuni=given.comuni or None,
        modified_after=given.modified_after,
        open_at=await _open_at(session, given.open_at) if given.open_at is not None else None,
        free_between=_window(given.free_between) if given.free_between is not None else None,
    )


def _window(given: TimeRangeInput) -> tuple[datetime, datetime]:
    for name, value in (("from", given.from_), ("to", given.to)):
        if value.tzinfo is None:
            raise BadUserInput(
                f"filter.freeBetween.{name}", value.isoformat(), "needs a time zone offset"
            )
    if given.to <= given.from_:
        raise BadUserInput("filter.freeBetween.to", given.to.isoformat(), "must be after `from`")
    if given.to - given.from_ > MAX_WINDOW:
        raise BadUserInput(
            "filter.freeBetween.to", given.to.isoformat(), "must be at most 92 days after `from`"
        )
    return given.from_, given.to


async def _open_at(session: AsyncSession, value: datetime) -> datetime:
    """An aware instant the open-interval table covers (naive means Rome time)."""
    instant = local(value)
    span = await session.scalar(coverage())
    # No span: no place has opening hours yet, so nothing is open and any instant will do.
    if span is None or span.lower is None or span.upper is None:
        return instant
    if not span.lower <= instant < span.upper:
        first, last = local(span.lower), local(span.upper)
        raise BadUserInput(
            "filter.openAt",
            value.isoformat(),
            f"is outside the days opening hours are known for ({first:%Y-%m-%d %H:%M} to "
            f"{last:%Y-%m-%d %H:%M} Europe/Rome)",
        )
    return instant
