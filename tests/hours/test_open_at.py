"""``openAt`` in SQL against opening-hours-py in Python, on every location of the demo data.

The GraphQL checks use the window the demo load computed (around today). The checks at fixed
dates — a public holiday, the DST change, San Nicolò in Lecco — recompute the table for that
date inside a transaction that is rolled back, and compare the SQL clause with Python.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from opening_hours import OpeningHours
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from ambrogio.catalogue.visibility import provider_visible
from ambrogio.db.models import Location, Organization
from ambrogio.hours.calendar import COUNTRY, PATRON_SUBDIVISION, TIMEZONE, Schedule, patron_days
from ambrogio.hours.intervals import refresh_open_intervals, sync_open_intervals
from ambrogio.hours.open_at import location_open_at, provider_open_at
from ambrogio.ids import from_global_id, to_global_id

SERVICES = """
query Services($filter: ServiceFilter, $near: LatLonInput, $radius: Float, $first: Int,
               $after: String) {
  services(filter: $filter, near: $near, radiusMeters: $radius, first: $first, after: $after) {
    totalCount
    edges { node { id } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

PROVIDERS = """
query Providers($filter: ServiceFilter, $near: LatLonInput, $radius: Float, $first: Int,
                $after: String) {
  providers(filter: $filter, near: $near, radiusMeters: $radius, first: $first, after: $after) {
    totalCount
    edges { node { id } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

LOCATION_HOURS = """
query LocationHours($id: ID!, $time: DateTime!, $from: Date!) {
  node(id: $id) {
    ... on Location {
      openingHours
      hours {
        raw
        error
        isOpenAt(time: $time)
        nextChange(after: $time)
        week(from: $from, days: 3) {
          date weekday publicHoliday patronSaint
          periods { opens closes start end }
        }
      }
    }
  }
}
"""

WELFARE_POINT_HOURS = """
query WelfarePointHours($time: DateTime!) {
  welfarePoints(first: 100) {
    edges { node { openingHours hours { raw isOpenAt(time: $time) } } }
  }
}
"""

LECCO = "097042"
LECCO_CENTRE = {"lat": 45.8566, "lon": 9.3977}
NEAR_LECCO = {"near": LECCO_CENTRE, "radius": 8000.0}


@dataclass(frozen=True)
class Place:
    id: uuid.UUID
    organization_id: uuid.UUID
    hours: str | None
    comune: str | None


@dataclass(frozen=True)
class Demo:
    places: dict[uuid.UUID, Place]
    # Published services of visible providers → their published locations.
    service_places: dict[uuid.UUID, list[Place]]
    provider_places: dict[uuid.UUID, list[Place]]
    # Visible providers with at least one published service (what a provider filter needs).
    providers_with_services: set[uuid.UUID]


@pytest.fixture(scope="module")
async def demo(engine: AsyncEngine) -> Demo:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    """
                    SELECT l.id, l.organization_id, l.opening_hours, l.comune_istat
                    FROM location l JOIN organization o ON o.id = l.organization_id
                    WHERE l.status = 'published' AND o.status = 'published'
                      AND o.merged_into_id IS NULL
                    """
                )
            )
        ).all()
        places = {row[0]: Place(*row) for row in rows}
        links = (
            await conn.execute(
                text(
                    """
                    SELECT s.id, sal.location_id, s.organization_id
                    FROM service s JOIN organization o ON o.id = s.organization_id
                    LEFT JOIN service_at_location sal ON sal.service_id = s.id
                    WHERE s.status = 'published' AND o.status = 'published'
                      AND o.merged_into_id IS NULL
                    """
                )
            )
        ).all()
    service_places: dict[uuid.UUID, list[Place]] = defaultdict(list)
    for service_id, location_id, _ in links:
        service_places[service_id] += [places[location_id]] if location_id in places else []
    provider_places: dict[uuid.UUID, list[Place]] = defaultdict(list)
    for place in places.values():
        provider_places[place.organization_id].append(place)
    with_services = {organization_id for _, _, organization_id in links}
    return Demo(places, dict(service_places), dict(provider_places), with_services)


def library_open(place: Place, instant: datetime) -> bool:
    """The oracle: opening-hours-py itself, with Italy's holidays, in Rome time."""
    if place.hours is None:
        return False
    hours = OpeningHours(place.hours, timezone=TIMEZONE, country=COUNTRY)
    return hours.is_open(instant.astimezone(TIMEZONE))


def is_patron_day(instant: datetime) -> bool:
    day = instant.astimezone(TIMEZONE).date()
    return any(day in patron_days(code, [day.year]) for code in PATRON_SUBDIVISION)


def sample_times() -> list[datetime]:
    """Several instants of the coming days in the window: mornings, afternoons, evenings,
    nights, a Saturday and a Sunday; patron saints' days are left to their own test."""
    today = datetime.now(UTC).astimezone(TIMEZONE).date()
    picks = [(1, "10:17"), (2, "15:47"), (3, "21:07"), (4, "03:33"), (5, "11:11"),
             (6, "17:59"), (8, "09:03"), (9, "12:45"), (11, "14:29")]  # fmt: skip
    times = [
        datetime.combine(today + timedelta(days=d), time.fromisoformat(t), TIMEZONE)
        for d, t in picks
    ]
    return [t for t in times if not is_patron_day(t)]


async def _ids(gql: Any, query: str, field: str, **variables: Any) -> set[uuid.UUID]:
    ids: list[uuid.UUID] = []
    after = None
    while True:
        result = await gql(query, first=100, after=after, **variables)
        assert result.errors == [], result.errors
        connection = result.data[field]
        ids += [uuid.UUID(from_global_id(e["node"]["id"])[1]) for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            assert connection["totalCount"] == len(ids) == len(set(ids))
            return set(ids)
        after = connection["pageInfo"]["endCursor"]


async def test_open_at_matches_the_library_for_every_location(gql, demo: Demo) -> None:
    splits = []
    for instant in sample_times():
        expected = {
            service
            for service, places in demo.service_places.items()
            if any(library_open(place, instant) for place in places)
        }

        got = await _ids(gql, SERVICES, "services", filter={"openAt": instant.isoformat()})

        assert got == expected, instant
        splits.append(0 < len(expected) < len(demo.service_places))
    assert any(splits), "some sample time tells open from closed"


async def test_providers_are_open_when_one_of_their_locations_is(gql, demo: Demo) -> None:
    for instant in sample_times()[:3]:
        expected = {
            provider
            for provider, places in demo.provider_places.items()
            if provider in demo.providers_with_services
            and any(library_open(place, instant) for place in places)
        }

        got = await _ids(gql, PROVIDERS, "providers", filter={"openAt": instant.isoformat()})
        got_near = await _ids(
            gql, PROVIDERS, "providers", filter={"openAt": instant.isoformat()}, **NEAR_LECCO
        )
        near = await _ids(gql, PROVIDERS, "providers", filter={}, **NEAR_LECCO)

        assert got == expected, instant
        assert got_near == expected & near, instant


async def test_the_provider_clause_asks_for_an_open_location(
    engine: AsyncEngine, demo: Demo
) -> None:
    instant = sample_times()[0]
    expected = {
        provider
        for provider, places in demo.provider_places.items()
        if any(library_open(place, instant) for place in places)
    }
    stmt = select(Organization.id).where(provider_visible(), provider_open_at(instant))

    async with engine.connect() as conn:
        got = set((await conn.scalars(stmt)).all())

    assert got == expected


async def test_open_at_combines_with_near_and_other_filters(gql) -> None:
    near = {"near": LECCO_CENTRE, "radius": 8000.0}
    kind = {"categories": ["assistenza-e-cura"]}
    nearby = await _ids(gql, SERVICES, "services", filter=kind, **near)
    splits = []
    for instant in sample_times()[:4]:
        at = instant.isoformat()

        both = await _ids(gql, SERVICES, "services", filter={"openAt": at, **kind}, **near)
        open_then = await _ids(gql, SERVICES, "services", filter={"openAt": at})

        assert both == open_then & nearby, instant
        splits.append(0 < len(both) < len(nearby))
    assert any(splits), "some sample time tells open from closed near Lecco"


async def test_a_time_without_offset_is_rome_time(gql) -> None:
    instant = sample_times()[0]

    naive = await _ids(gql, SERVICES, "services", filter={"openAt": f"{instant:%Y-%m-%dT%H:%M}"})
    aware = await _ids(gql, SERVICES, "services", filter={"openAt": instant.isoformat()})

    assert naive == aware


@pytest.mark.parametrize("days", [-3, 30])
async def test_open_at_outside_the_window_names_field_and_value(gql, days: int) -> None:
    instant = (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)

    result = await gql(SERVICES, filter={"openAt": instant.isoformat()}, first=1)

    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == "filter.openAt"
    assert result.errors[0]["extensions"]["value"] == instant.isoformat()
    assert "Europe/Rome" in result.errors[0]["message"]


# At fixed dates, in a transaction rolled back at the end.


@asynccontextmanager
async def rolled_back(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with engine.connect() as conn:
        transaction = await conn.begin()
        session = AsyncSession(bind=conn)
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()


async def open_in_sql(session: AsyncSession, instant: datetime) -> set[uuid.UUID]:
    stmt = select(Location.id).where(Location.status == "published", location_open_at(instant))
    return set((await session.scalars(stmt)).all())


def rome(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TIMEZONE)


@pytest.mark.parametrize(
    ("refreshed_on", "instants"),
    [
        # Immacolata (Tuesday 8 December) and the days around it.
        ("2026-12-07", ["2026-12-07T10:17", "2026-12-08T10:17", "2026-12-09T08:47"]),
        # Christmas and Santo Stefano, a Friday and a Saturday.
        ("2026-12-24", ["2026-12-24T16:17", "2026-12-25T10:17", "2026-12-26T10:17"]),
        # Summer time starts on Sunday 28 March 2027: the week around it.
        (
            "2027-03-26",
            [
                "2027-03-26T08:47",
                "2027-03-27T11:47",
                "2027-03-28T10:17",
                "2027-03-29T08:47",
                "2027-03-29T17:59",
                "2027-04-02T19:30",
            ],
        ),
        # ...and ends on Sunday 25 October 2026.
        ("2026-10-23", ["2026-10-23T17:59", "2026-10-26T07:45", "2026-10-26T08:47"]),
    ],
)
async def test_sql_agrees_with_the_library_around_holidays_and_dst(
    engine: AsyncEngine, demo: Demo, refreshed_on: str, instants: list[str]
) -> None:
    async with rolled_back(engine) as session:
        await refresh_open_intervals(session, rome(refreshed_on + "T12:00"))
        for value in map(rome, instants):
            expected = {p.id for p in demo.places.values() if library_open(p, value)}

            got = await open_in_sql(session, value) & set(demo.places)

            assert got == expected, value


async def test_san_nicolo_closes_lecco_only(engine: AsyncEngine, demo: Demo) -> None:
    monday = rome("2027-12-06T10:17")  # San Nicolò, patron saint of Lecco, is a Monday
    async with rolled_back(engine) as session:
        await refresh_open_intervals(session, rome("2027-12-05T12:00"))

        got = await open_in_sql(session, monday) & set(demo.places)

    library = {p.id for p in demo.places.values() if library_open(p, monday)}
    closed_for_the_saint = {
        p.id
        for p in demo.places.values()
        if p.comune == LECCO and p.hours is not None and "PH off" in p.hours
    }
    assert closed_for_the_saint & library, "the demo has Lecco offices open on Mondays"
    assert got == library - closed_for_the_saint
    for place in demo.places.values():
        schedule = Schedule.of(place.hours, place.comune) if place.hours else None
        assert (place.id in got) == bool(schedule and schedule.is_open_at(monday)), place


async def test_changed_hours_are_open_at_once_after_sync(engine: AsyncEngine, demo: Demo) -> None:
    place = next(p for p in demo.places.values() if p.hours == "24/7")
    friday_night = rome("2026-12-11T23:30")
    saturday_late = rome("2026-12-12T02:30")
    async with rolled_back(engine) as session:
        await refresh_open_intervals(session, rome("2026-12-10T12:00"))
        await session.execute(
            update(Location).where(Location.id == place.id).values(opening_hours="Fr 20:00-02:00")
        )
        assert place.id not in await open_in_sql(session, friday_night)

        report = await sync_open_intervals(session, [("Fr 20:00-02:00", place.comune)])

        assert report.sets == 1
        assert place.id in await open_in_sql(session, friday_night)
        assert place.id in await open_in_sql(session, rome("2026-12-12T01:30"))
        assert place.id not in await open_in_sql(session, saturday_late)
        again = await sync_open_intervals(session, [("Fr 20:00-02:00", place.comune)])
        assert again.sets == 0


async def test_an_invalid_stored_string_is_kept_out(engine: AsyncEngine, demo: Demo) -> None:
    place = next(p for p in demo.places.values() if p.hours == "24/7")
    async with rolled_back(engine) as session:
        await session.execute(
            update(Location).where(Location.id == place.id).values(opening_hours="Mo-Fr 9-17")
        )

        report = await refresh_open_intervals(session, rome("2026-12-10T12:00"))

        assert report.invalid == 1
        assert place.id not in await open_in_sql(session, rome("2026-12-10T10:00"))


# The hours of one location, through GraphQL.


async def test_a_lecco_location_shows_its_week_and_next_change(gql, demo: Demo) -> None:
    place = next(
        p
        for p in demo.places.values()
        if p.comune == LECCO and p.hours == "Mo-Fr 08:30-12:30,14:00-18:00; PH off"
    )
    sunday = "2027-12-05T12:00:00+01:00"

    result = await gql(
        LOCATION_HOURS, id=to_global_id("Location", place.id), time=sunday, **{"from": "2027-12-05"}
    )

    assert result.errors == []
    hours = result.data["node"]["hours"]
    assert hours["raw"] == place.hours and hours["error"] is None
    assert hours["isOpenAt"] is False
    # Monday is San Nicolò: next opening is Tuesday 08:30.
    assert datetime.fromisoformat(hours["nextChange"]) == rome("2027-12-07T08:30")
    sunday_, monday, tuesday = hours["week"]
    assert [d["weekday"] for d in hours["week"]] == ["SU", "MO", "TU"]
    assert monday["patronSaint"] and not monday["publicHoliday"] and monday["periods"] == []
    assert sunday_["periods"] == []
    assert [(p["opens"], p["closes"]) for p in tuesday["periods"]] == [
        ("08:30", "12:30"),
        ("14:00", "18:00"),
    ]
    assert datetime.fromisoformat(tuesday["periods"][0]["start"]) == rome("2027-12-07T08:30")


async def test_welfare_points_have_hours_too(gql) -> None:
    wednesday = rome("2026-12-09T10:17")

    result = await gql(WELFARE_POINT_HOURS, time=wednesday.isoformat())

    assert result.errors == []
    points = [edge["node"] for edge in result.data["welfarePoints"]["edges"]]
    assert points and all(p["hours"]["raw"] == p["openingHours"] for p in points)
    for point in points:
        expected = Schedule.of(point["openingHours"]).is_open_at(wednesday)
        assert point["hours"]["isOpenAt"] == expected


async def test_a_bad_week_length_names_the_argument(gql, demo: Demo) -> None:
    place = next(p for p in demo.places.values() if p.hours is not None)
    query = LOCATION_HOURS.replace("days: 3", "days: 0")

    result = await gql(
        query,
        id=to_global_id("Location", place.id),
        time="2026-12-09T10:00:00Z",
        **{"from": "2026-12-07"},
    )

    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "days", "value": 0}


def test_sample_times_avoid_patron_days() -> None:
    assert all(not is_patron_day(t) for t in sample_times())
    assert is_patron_day(rome("2027-12-06T10:00"))
    assert date(2027, 12, 6).weekday() == 0
