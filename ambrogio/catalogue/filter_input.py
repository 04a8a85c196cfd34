"""What a caller asks a search to keep, checked and resolved into a ``ServiceFilterSpec``.

One pipeline for every way in: the GraphQL ``ServiceFilter`` input (``resolvers/filters.py``)
and the tile query parameters (``http/tiles.py``) both convert to ``FilterInput``, a plain
dataclass; ``resolve_filter`` checks it with ``validation``'s rules and reads what it names
(category sub-trees, the known comuni, the opening-hours window), so every entry point
refuses the same values with the same messages. A field added here reaches the tiles by
itself: their parameters are derived from these fields.

Field names in errors are the GraphQL paths (``filter.price.min``); the tiles endpoint says
its parameter names instead.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio import taxonomy, validation
from ambrogio.catalogue.filters import PriceRange, ServiceFilterSpec, descendant_terms, known_comuni
from ambrogio.enums import Delivery, PriceUnit, TargetGroup, TuirCategory
from ambrogio.errors import BadUserInput
from ambrogio.folding import closest, fold
from ambrogio.hours.calendar import local
from ambrogio.hours.open_at import coverage


@dataclass(frozen=True)
class PriceInput:
    min: float | None = None
    max: float | None = None
    unit: PriceUnit | None = None


@dataclass(frozen=True)
class FilterInput:
    """A ``ServiceFilter`` as asked, before checking. Within a list: any value; across
    fields: all must hold."""

    categories: list[str] | None = None
    target_groups: list[TargetGroup] | None = None
    age: int | None = None
    welfare_eligible: bool | None = None
    tuir_categories: list[TuirCategory] | None = None
    price: PriceInput | None = None
    languages: list[str] | None = None
    wheelchair_accessible: bool | None = None
    delivery: list[Delivery] | None = None
    comuni: list[str] | None = None
    modified_after: datetime | None = None
    open_at: datetime | None = None
    free_between: tuple[datetime, datetime] | None = None


async def resolve_filter(session: AsyncSession, given: FilterInput | None) -> ServiceFilterSpec:
    """The checked filter; BAD_USER_INPUT naming the first bad field and its value."""
    if given is None:
        return ServiceFilterSpec()
    return ServiceFilterSpec(
        category_ids=await _categories(session, given.categories),
        target_groups=[group.value for group in given.target_groups or []] or None,
        age=validation.age("filter.age", given.age),
        welfare_eligible=given.welfare_eligible,
        tuir_categories=[tuir.value for tuir in given.tuir_categories or []] or None,
        price=_price(given.price) if given.price is not None else None,
        languages=validation.languages("filter.languages", given.languages) or None,
        wheelchair_accessible=given.wheelchair_accessible,
        delivery=[mode.value for mode in given.delivery or []] or None,
        comuni=await _comuni(session, given.comuni),
        modified_after=given.modified_after,
        open_at=await _open_at(session, given.open_at) if given.open_at is not None else None,
        free_between=_window(given.free_between) if given.free_between is not None else None,
    )


async def _categories(session: AsyncSession, names: list[str] | None) -> list[uuid.UUID] | None:
    """The terms under the categories named: by slug, or by a label or synonym of the taxonomy
    (``taxonomy.NAMES``, as the import and the editing mutations accept them)."""
    if names is None:
        return None
    slugs = [taxonomy.NAMES.get(fold(name), name) for name in names]
    rows = (await session.execute(descendant_terms(slugs))).all()
    found = {root for root, _ in rows}
    for name, slug in zip(names, slugs, strict=True):
        if slug not in found:
            guesses = closest(fold(name), taxonomy.NAMES)
            hint = f"; did you mean {' or '.join(f'`{g}`' for g in guesses)}?" if guesses else ""
            raise BadUserInput("filter.categories", name, f"is not a category slug or name{hint}")
    return sorted({term_id for _, term_id in rows})


async def _comuni(session: AsyncSession, codes: list[str] | None) -> list[str] | None:
    if not codes:
        return None
    for index, code in enumerate(codes):
        validation.istat_code(f"filter.comuni[{index}]", code)
    found = set((await session.scalars(known_comuni(codes))).all())
    for index, code in enumerate(codes):
        if code not in found:
            raise BadUserInput(f"filter.comuni[{index}]", code, "is not a known comune")
    return codes


def _price(given: PriceInput) -> PriceRange:
    for name, value in (("min", given.min), ("max", given.max)):
        if value is not None and (not math.isfinite(value) or value < 0):
            raise BadUserInput(f"filter.price.{name}", value, "must be a non-negative amount")
    low, high = given.min, given.max
    if low is not None and high is not None and low > high:
        raise BadUserInput("filter.price.min", low, f"is above filter.price.max ({high})")
    return PriceRange(min=low, max=high, unit=given.unit.value if given.unit else None)


def _window(window: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
    start, end = window
    return validation.time_window("filter.freeBetween.from", start, "filter.freeBetween.to", end)


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
