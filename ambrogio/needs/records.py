"""Need records: their values checked, and the statements that write and read them.

A record is checked field by field (every bad field reported at once) from a mapping of the
``vocabulary.FIELDS`` names, so the GraphQL input and a CSV row go through the same checks; a
name outside ``FIELDS`` is refused, naming it. Reads are always within a ``RecordScope`` (the
caller's welfare point, or every point for admins) and each read is audited.
"""

from __future__ import annotations

import uuid
from calendar import monthrange
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Delete, Select, Text, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.dml import ReturningDelete

from ambrogio import ids, validation
from ambrogio.auth.needs import RecordScope
from ambrogio.catalogue.visibility import service_visible
from ambrogio.db.models import AuditEvent, Comune, Need, Service, TaxonomyTerm
from ambrogio.errors import BadUserInput
from ambrogio.needs.vocabulary import (
    FIELDS,
    AgeBand,
    Employment,
    Household,
    Outcome,
    Urgency,
)
from ambrogio.taxonomy import term_id
from ambrogio.validation import Known, Problems

ENTITY = "need"
REQUIRED = ("category", "comune", "urgency", "recorded_on", "outcome")


@dataclass(frozen=True)
class NeedValues:
    """A checked record, as its columns hold it."""

    category: str
    comune: str
    age_band: AgeBand | None
    household: Household | None
    employment: Employment | None
    urgency: Urgency
    recorded_on: date
    outcome: Outcome
    referred_service_id: uuid.UUID | None

    def columns(self) -> dict[str, Any]:
        return {
            "category_id": term_id(self.category),
            "comune_istat": self.comune,
            "age_band": self.age_band.value if self.age_band else None,
            "household": self.household.value if self.household else None,
            "employment": self.employment.value if self.employment else None,
            "urgency": self.urgency.value,
            "recorded_on": self.recorded_on,
            "outcome": self.outcome.value,
            "referred_service_id": self.referred_service_id,
        }


def retention_start(today: date, months: int) -> date:
    """The first day still kept: ``months`` calendar months before ``today``."""
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return date(year, month + 1, min(today.day, monthrange(year, month + 1)[1]))


def _day(field: str, value: Any, today: date, earliest: date) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise BadUserInput(field, value, "is not a date YYYY-MM-DD") from None
    if not isinstance(value, date):
        raise BadUserInput(field, value, "is not a date YYYY-MM-DD")
    if value > today:
        raise BadUserInput(field, value.isoformat(), "is in the future")
    if value < earliest:
        raise BadUserInput(
            field, value.isoformat(), f"is older than the retention period (from {earliest})"
        )
    return value


def _service(field: str, value: Any) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    return ids.decode(str(value).strip(), "Service", field)


def check_values(
    given: Mapping[str, Any],
    known: Known,
    today: date,
    earliest: date,
    name: Callable[[str], str] = lambda field: field,
) -> NeedValues:
    """The record ``given`` spells, or every bad field at once (named by ``name``)."""
    problems = Problems()
    for extra in given.keys() - set(FIELDS):
        problems.add(
            BadUserInput(
                extra,
                given[extra],
                "is not a field of a need record (it keeps no "
                f"personal data); the fields are {', '.join(map(name, FIELDS))}",
            )
        )
    for field in REQUIRED:
        if given.get(field) in (None, ""):
            problems.add(BadUserInput(name(field), given.get(field), "is required"))
    category = problems.check(validation.category, name("category"), given.get("category"), known)
    comune = problems.check(validation.comune, name("comune"), given.get("comune"), known)
    enums: dict[str, Any] = {}
    for field, enum in (
        ("age_band", AgeBand),
        ("household", Household),
        ("employment", Employment),
        ("urgency", Urgency),
        ("outcome", Outcome),
    ):
        enums[field] = problems.check(validation.choice, name(field), given.get(field), enum)
    day = None
    if given.get("recorded_on") not in (None, ""):
        day = problems.check(_day, name("recorded_on"), given["recorded_on"], today, earliest)
    service = problems.check(
        _service, name("referred_service_id"), given.get("referred_service_id")
    )
    if service is not None and enums["outcome"] not in (None, Outcome.REFERRED):
        problems.add(
            BadUserInput(
                name("referred_service_id"),
                given.get("referred_service_id"),
                "goes only with the outcome `referred`",
            )
        )
    problems.raise_any()
    assert category and comune and day and enums["urgency"] and enums["outcome"]
    return NeedValues(
        category=category,
        comune=comune,
        age_band=enums["age_band"],
        household=enums["household"],
        employment=enums["employment"],
        urgency=enums["urgency"],
        recorded_on=day,
        outcome=enums["outcome"],
        referred_service_id=service,
    )


def published_services(ids_: set[uuid.UUID]) -> Select[uuid.UUID]:
    """Of these services, the ones the public sees (a referral names a visible service)."""
    return select(Service.id).where(Service.id.in_(ids_), service_visible())


async def check_referrals(session: AsyncSession, referred: Mapping[str, uuid.UUID]) -> None:
    """BAD_USER_INPUT for each referral (by its field name) to a service the public cannot see."""
    if not referred:
        return
    found = set((await session.scalars(published_services(set(referred.values())))).all())
    problems = Problems()
    for field, service in referred.items():
        if service not in found:
            problems.add(
                BadUserInput(field, ids.to_global_id("Service", service), "is no published service")
            )
    problems.raise_any()


def _scoped(scope: RecordScope) -> list[Any]:
    return [] if scope.welfare_point is None else [Need.welfare_point_id == scope.welfare_point]


def listing(
    scope: RecordScope,
    earliest: date,
    after: tuple[date, uuid.UUID] | None,
    limit: int,
    welfare_point: uuid.UUID | None = None,
) -> Select[Need]:
    """The scope's records, newest first, by the keyset (recorded_on, id)."""
    query = select(Need).where(*_scoped(scope), Need.recorded_on >= earliest)
    if welfare_point is not None:
        query = query.where(Need.welfare_point_id == welfare_point)
    if after is not None:
        day, key = after
        query = query.where(
            (Need.recorded_on < day) | ((Need.recorded_on == day) & (Need.id < key))
        )
    return query.order_by(Need.recorded_on.desc(), Need.id.desc()).limit(limit)


def counted(scope: RecordScope, earliest: date) -> Select[int]:
    return (
        select(func.count()).select_from(Need).where(*_scoped(scope), Need.recorded_on >= earliest)
    )


def one(scope: RecordScope, need: uuid.UUID) -> Select[Need]:
    return select(Need).where(Need.id == need, *_scoped(scope))


def removal(scope: RecordScope, need: uuid.UUID) -> ReturningDelete[uuid.UUID]:
    return delete(Need).where(Need.id == need, *_scoped(scope)).returning(Need.id)


def purge(before: date) -> Delete:
    """The records past their retention."""
    return delete(Need).where(Need.recorded_on < before)


def facts(earliest: date) -> Select[str, str, str, str, date, str, datetime]:
    """Every kept need as the lattice sees it: comune, province, category, root, day, outcome."""
    parent = aliased(TaxonomyTerm)
    return (
        select(
            Need.comune_istat,
            Comune.province_code,
            TaxonomyTerm.slug,
            func.coalesce(parent.slug, TaxonomyTerm.slug),
            Need.recorded_on,
            Need.outcome,
            Need.created_at,
        )
        .join(Comune, Comune.istat_code == Need.comune_istat)
        .join(TaxonomyTerm, TaxonomyTerm.id == Need.category_id)
        .outerjoin(parent, parent.id == TaxonomyTerm.parent_id)
        .where(Need.recorded_on >= earliest)
    )


def data_version() -> Select[int, datetime, datetime, str]:
    """What changes whenever a record is added, changed or removed (a cache key)."""
    return select(
        func.count(),
        func.max(Need.updated_at),
        func.max(Need.created_at),
        func.current_database(type_=Text),
    )


def audit_reads(
    session: AsyncSession, actor: str, needs: list[uuid.UUID], request_id: str | None
) -> None:
    """One audit event per record read: who read which record, when, in which request."""
    session.add_all(
        AuditEvent(
            actor=actor,
            action="read",
            entity_type=ENTITY,
            entity_id=need,
            before=None,
            after=None,
            request_id=request_id,
        )
        for need in needs
    )
