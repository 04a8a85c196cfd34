"""Need records for their welfare point's operators (every read audited), and the
k-anonymous aggregates for planners: the gap analysis and weekly trends."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import strawberry

from ambrogio import ids
from ambrogio.auth.needs import record_scope
from ambrogio.auth.permissions import Permission, require
from ambrogio.catalogue.pagination import (
    date_key,
    decode_cursor,
    encode_cursor,
    page_size,
    uuid_key,
)
from ambrogio.context import Context
from ambrogio.errors import BadUserInput, NotFound, UnreadableFile
from ambrogio.needs import analysis, records, writing
from ambrogio.needs.csv import read_needs
from ambrogio.needs.vocabulary import FIELDS
from ambrogio.resolvers.importing import read_upload
from ambrogio.schema.types.needs import (
    GapAnalysis,
    GapCell,
    Need,
    NeedImport,
    NeedInput,
    NeedPage,
    NeedRowError,
    NeedTrendPoint,
    QuarterPeriod,
)

Info = strawberry.Info[Context, None]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _input_name(field: str) -> str:
    return f"input.{_camel(field)}"


def _today(info: Info) -> tuple[date, date]:
    today = analysis.today_in_rome(datetime.now(UTC))
    return today, records.retention_start(today, info.context.settings.needs_retention_months)


async def _values(info: Info, given: NeedInput) -> records.NeedValues:
    today, earliest = _today(info)
    raw: dict[str, Any] = {field: getattr(given, field) for field in FIELDS}
    async with info.context.sessionmaker() as session:
        known = await analysis.known_values(session)
    return records.check_values(raw, known, today, earliest, _input_name)


def _point(welfare_point_id: str | None) -> uuid.UUID | None:
    if welfare_point_id is None:
        return None
    return ids.decode(welfare_point_id, "WelfarePoint", "welfarePointId")


async def need_page(
    info: Info, first: int | None, after: str | None, welfare_point_id: str | None
) -> NeedPage:
    scope = record_scope(info.context.caller)
    limit = page_size(first, info.context.settings)
    cursor = decode_cursor(after, [date_key, uuid_key])
    _, earliest = _today(info)
    point = _point(welfare_point_id)
    async with info.context.sessionmaker() as session, session.begin():
        rows = (
            await session.scalars(
                records.listing(
                    scope, earliest, (cursor[0], cursor[1]) if cursor else None, limit + 1, point
                )
            )
        ).all()
        total = int(await session.scalar(records.counted(scope, earliest)) or 0)
        page = list(rows[:limit])
        records.audit_reads(
            session, info.context.caller.actor, [row.id for row in page], info.context.request_id
        )
    end = encode_cursor([page[-1].recorded_on.isoformat(), page[-1].id]) if page else None
    return NeedPage(
        nodes=[Need.from_row(row) for row in page],
        end_cursor=end,
        has_next_page=len(rows) > limit,
        total_count=total,
    )


async def need(info: Info, need_id: str) -> Need:
    scope = record_scope(info.context.caller)
    key = ids.decode(need_id, "Need", "id")
    async with info.context.sessionmaker() as session, session.begin():
        row = (await session.scalars(records.one(scope, key))).one_or_none()
        if row is None:
            raise NotFound(f"id: no need record {need_id!r} of yours")
        records.audit_reads(session, info.context.caller.actor, [row.id], info.context.request_id)
    return Need.from_row(row)


async def create_need(info: Info, given: NeedInput, welfare_point_id: str | None) -> Need:
    scope = record_scope(info.context.caller)
    values = await _values(info, given)
    async with info.context.sessionmaker() as session, session.begin():
        point = await writing.checked_point(
            session, scope, _point(welfare_point_id), "welfarePointId"
        )
        row = await writing.create(
            session, point, values, info.context.caller.actor, info.context.request_id
        )
    return Need.from_row(row)


async def update_need(info: Info, need_id: str, version: int, given: NeedInput) -> Need:
    scope = record_scope(info.context.caller)
    key = ids.decode(need_id, "Need", "id")
    values = await _values(info, given)
    async with info.context.sessionmaker() as session, session.begin():
        row = await writing.replace(
            session, scope, key, version, values, info.context.caller.actor, info.context.request_id
        )
    return Need.from_row(row)


async def delete_need(info: Info, need_id: str) -> strawberry.ID:
    scope = record_scope(info.context.caller)
    key = ids.decode(need_id, "Need", "id")
    async with info.context.sessionmaker() as session, session.begin():
        await writing.remove(
            session, scope, key, info.context.caller.actor, info.context.request_id
        )
    return strawberry.ID(need_id)


async def import_needs(
    info: Info, file: Any, welfare_point_id: str | None, dry_run: bool
) -> NeedImport:
    scope = record_scope(info.context.caller)
    data, name = await read_upload(file, info.context.settings.import_max_bytes)
    today, earliest = _today(info)
    async with info.context.sessionmaker() as session:
        known = await analysis.known_values(session)
    try:
        read = read_needs(data, known, today, earliest)
    except UnreadableFile as error:
        raise BadUserInput("file", name, error.reason) from None
    errors = [
        NeedRowError(
            row=issue.row,
            field=issue.field,
            value=None if issue.value is None else str(issue.value),
            reason=issue.reason,
        )
        for issue in read.errors
    ]
    created = updated = 0
    async with info.context.sessionmaker() as session, session.begin():
        point = await writing.checked_point(
            session, scope, _point(welfare_point_id), "welfarePointId"
        )
        if not errors and not dry_run:
            created, updated = await writing.import_rows(
                session, point, read.rows, info.context.caller.actor, info.context.request_id
            )
    return NeedImport(
        rows=len(read.rows) + len({issue.row for issue in read.errors}),
        created=created,
        updated=updated,
        errors=errors,
    )


async def needs_gaps(
    info: Info, period: QuarterPeriod | None, comuni: list[str] | None, category: str | None
) -> GapAnalysis:
    require(info.context.caller, Permission.PLAN)
    settings = info.context.settings
    async with info.context.sessionmaker() as session:
        scope = await analysis.checked_scope(session, comuni, category)
        result = await analysis.gap_analysis(
            session,
            settings,
            scope,
            period.from_ if period else None,
            period.to if period else None,
            datetime.now(UTC),
        )
    return GapAnalysis(
        k=settings.needs_k,
        quarters=[str(quarter) for quarter in result.quarters],
        weeks=sum(quarter.weeks for quarter in result.quarters),
        capacity_weeks=settings.needs_capacity_weeks,
        on_site_radius_meters=settings.needs_onsite_radius_m,
        cells=[GapCell.from_row(row) for row in result.rows],
    )


async def needs_trends(
    info: Info, from_week: str, to_week: str, comuni: list[str] | None, category: str | None
) -> list[NeedTrendPoint]:
    require(info.context.caller, Permission.PLAN)
    async with info.context.sessionmaker() as session:
        scope = await analysis.checked_scope(session, comuni, category)
        points = await analysis.trends(
            session, info.context.settings, scope, from_week, to_week, datetime.now(UTC)
        )
    return [NeedTrendPoint.from_point(point) for point in points]
