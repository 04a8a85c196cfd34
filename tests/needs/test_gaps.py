"""Gap figures against an independent computation: Python over the rows the test wrote, and
distances on the ellipsoid with ``pyproj.Geod`` (not the SQL that produced them)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from geoalchemy2 import WKTElement
from pyproj import Geod
from shapely.geometry import Point, box
from sqlalchemy import select

from ambrogio.db.models import (
    Comune,
    Location,
    Organization,
    Service,
    ServiceAtLocation,
    ServiceCategory,
    Slot,
)
from ambrogio.needs import analysis
from ambrogio.taxonomy import BY_SLUG, term_id
from tests.support.import_db import ImportDb
from tests.support.needs import (
    GALBIATE,
    LECCO,
    VALMADRERA,
    day_in,
    desk,
    ended_quarters,
    need_row,
    replace_needs,
)

GEOD = Geod(ellps="WGS84")
GAPS = """
query ($period: QuarterPeriod) {
  needsGaps(period: $period) {
    quarters weeks capacityWeeks onSiteRadiusMeters
    cells { comune { istatCode } category { slug } pooled needs unmetReferrals
            servicesReaching freeSeats gapScore }
  }
}"""
UNMET = {"waiting", "no_local_service"}


@dataclass
class Offer:
    """A service the test publishes, described as the oracle reads it."""

    slug: str
    delivery: list[str]
    points: list[tuple[float, float]] = field(default_factory=list)  # (lon, lat) on site
    area_comuni: list[str] = field(default_factory=list)
    area: Any = None  # a shapely polygon
    published: bool = True
    slots: list[tuple[timedelta, int, int, str]] = field(default_factory=list)
    id: uuid.UUID = field(default_factory=uuid.uuid4)


def _offset(lon: float, lat: float, azimuth: float, metres: float) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, azimuth, metres)
    return lon2, lat2


@pytest.fixture(scope="module")
async def world(needs_db: ImportDb) -> dict[str, Any]:
    async with needs_db.sessionmaker() as session:
        centroids = {
            code: (lon, lat)
            for code, lon, lat in (
                await session.execute(
                    select(
                        Comune.istat_code,
                        Comune.centroid.ST_X(),
                        Comune.centroid.ST_Y(),
                    ).where(Comune.centroid.is_not(None))
                )
            ).all()
        }
    radius = needs_db.settings.needs_onsite_radius_m
    lecco, valmadrera = centroids[LECCO], centroids[VALMADRERA]
    offers = [
        # just inside and just outside the on-site radius of Lecco's centroid
        Offer("badante", ["on_site"], [_offset(*lecco, 0, radius - 60)],
              slots=[(timedelta(days=2), 3, 1, "open"), (timedelta(days=9), 3, 0, "open"),
                     (timedelta(weeks=6), 10, 0, "open")]),
        Offer("badante", ["on_site"], [_offset(*lecco, 200, radius + 60)],
              slots=[(timedelta(days=3), 4, 0, "open")]),
        Offer("assistenza-domiciliare", ["at_home"], area_comuni=[LECCO],
              slots=[(timedelta(days=1), 2, 0, "cancelled"), (timedelta(days=5), 5, 0, "open")]),
        Offer("badante", ["at_home"],
              area=box(valmadrera[0] - 0.01, valmadrera[1] - 0.01, valmadrera[0] + 0.01,
                       valmadrera[1] + 0.01)),
        Offer("badante", ["on_site"], [_offset(*lecco, 90, 100)], published=False,
              slots=[(timedelta(days=2), 9, 0, "open")]),
        Offer("psicologo", ["on_site", "at_home"], [_offset(*centroids[GALBIATE], 45, 1500)],
              area_comuni=[VALMADRERA], slots=[(timedelta(days=4), 1, 1, "open")]),
    ]  # fmt: skip
    now = datetime.now(UTC)
    async with needs_db.sessionmaker() as session, session.begin():
        org = Organization(id=uuid.uuid4(), name="Cooperativa Oracolo", kind="business",
                           status="published")  # fmt: skip
        session.add(org)
        await session.flush()
        for offer in offers:
            status = "published" if offer.published else "draft"
            area = None
            if offer.area is not None:
                area = WKTElement(f"MULTIPOLYGON((({_ring(offer.area)})))", srid=4326)
            session.add(
                Service(
                    id=offer.id,
                    organization_id=org.id,
                    name=f"Servizio {offer.slug}",
                    status=status,
                    delivery=offer.delivery,
                    service_area=area,
                    service_area_comuni=offer.area_comuni,
                )
            )
            await session.flush()
            session.add(ServiceCategory(service_id=offer.id, term_id=term_id(offer.slug)))
            for lon, lat in offer.points:
                place = Location(id=uuid.uuid4(), organization_id=org.id, status="published",
                                 geom=WKTElement(f"POINT({lon} {lat})", srid=4326),
                                 geocode_precision="exact")  # fmt: skip
                session.add(place)
                await session.flush()
                session.add(ServiceAtLocation(service_id=offer.id, location_id=place.id))
            for ahead, capacity, taken, slot_status in offer.slots:
                starts = now + ahead
                session.add(Slot(service_id=offer.id, starts_at=starts,
                                 ends_at=starts + timedelta(hours=1), capacity=capacity,
                                 taken=taken, status=slot_status))  # fmt: skip
    point = await desk(needs_db.sessionmaker, needs_db.settings, "oracle", LECCO)
    quarter = ended_quarters(analysis.today_in_rome(now), 1)[0]
    week = quarter.first_week.next()
    groups = [
        (LECCO, "badante", "waiting", 7),
        (LECCO, "badante", "referred", 8),
        (LECCO, "assistenza-domiciliare", "no_local_service", 6),
        (VALMADRERA, "badante", "referred", 5),
        (VALMADRERA, "badante", "waiting", 5),
        (GALBIATE, "psicologo", "referred", 6),
    ]
    rows = [
        need_row(point.id, comune, slug, day_in(week, n % 5), outcome=outcome)
        for comune, slug, outcome, count in groups
        for n in range(count)
    ]
    await replace_needs(needs_db.sessionmaker, rows)
    return {"centroids": centroids, "offers": offers, "rows": rows, "quarter": quarter, "now": now}


def _ring(polygon: Any) -> str:
    return ", ".join(f"{x} {y}" for x, y in polygon.exterior.coords)


def _reaches(offer: Offer, code: str, centroid: tuple[float, float], radius: float) -> bool:
    if not offer.published:
        return False
    at_home = "at_home" in offer.delivery and (
        code in offer.area_comuni or (offer.area is not None and offer.area.covers(Point(centroid)))
    )
    on_site = "on_site" in offer.delivery and any(
        GEOD.inv(lon, lat, *centroid)[2] <= radius for lon, lat in offer.points
    )
    return at_home or on_site


def _in_row(slug: str, row: str | None) -> bool:
    return row is None or slug == row or BY_SLUG[slug].parent == row


def oracle(world: dict[str, Any], settings: Any) -> dict[tuple[str, str | None], dict[str, Any]]:
    radius, weeks_ahead = settings.needs_onsite_radius_m, settings.needs_capacity_weeks
    slugs = {term_id(term.slug): term.slug for term in BY_SLUG.values()}
    expected = {}
    for code in {row["comune_istat"] for row in world["rows"]}:
        here = [row for row in world["rows"] if row["comune_istat"] == code]
        for category in (
            {None}
            | {slugs[r["category_id"]] for r in here}
            | {BY_SLUG[slugs[r["category_id"]]].parent for r in here}
        ):
            mine = [r for r in here if _in_row(slugs[r["category_id"]], category)]
            reaching = [
                offer
                for offer in world["offers"]
                if _in_row(offer.slug, category)
                and _reaches(offer, code, world["centroids"][code], radius)
            ]
            free = sum(
                capacity - taken
                for offer in reaching
                for ahead, capacity, taken, status in offer.slots
                if status == "open" and ahead < timedelta(weeks=weeks_ahead)
            )
            needs = len(mine)
            unmet = sum(1 for r in mine if r["outcome"] in UNMET)
            demand, supply = needs / world["quarter"].weeks, free / weeks_ahead
            shortfall = max(0.0, 1 - supply / demand)
            expected[(code, category)] = {
                "needs": needs,
                "unmetReferrals": unmet,
                "servicesReaching": len(reaching),
                "freeSeats": free,
                "gapScore": round((unmet / needs + shortfall) / 2, 4),
            }
    return expected


async def test_gap_figures_match_an_independent_computation(
    needs_db: ImportDb, world: dict[str, Any]
) -> None:
    planner = await needs_db.login("planner-gaps", "planner")
    quarter = str(world["quarter"])
    result = await needs_db.gql(GAPS, planner, period={"from": quarter, "to": quarter})
    assert not result.errors, result.errors
    got = {
        (cell["comune"]["istatCode"], cell["category"]["slug"] if cell["category"] else None): {
            name: cell[name]
            for name in ("needs", "unmetReferrals", "servicesReaching", "freeSeats", "gapScore")
        }
        for cell in result.data["needsGaps"]["cells"]
        if not cell["pooled"]
    }
    expected = oracle(world, needs_db.settings)
    assert got == expected
    # guards: the oracle can tell the radius, drafts, cancelled and far slots apart
    assert expected[(LECCO, "badante")]["servicesReaching"] == 1
    assert expected[(LECCO, "badante")]["freeSeats"] == 2 + 3
    assert expected[(LECCO, None)]["servicesReaching"] >= 2
    assert expected[(VALMADRERA, "badante")]["servicesReaching"] >= 1
    assert {cell["pooled"] for cell in result.data["needsGaps"]["cells"]} == {False}
    assert result.data["needsGaps"]["weeks"] == world["quarter"].weeks


async def test_the_radius_is_a_setting(needs_db: ImportDb, world: dict[str, Any]) -> None:
    wider = needs_db.settings.model_copy(update={"needs_onsite_radius_m": 5200.0})
    async with needs_db.sessionmaker() as session:
        scope = await analysis.checked_scope(session, [LECCO], "badante")
        result = await analysis.gap_analysis(
            session, wider, scope, str(world["quarter"]), str(world["quarter"]), world["now"]
        )
    lecco = next(row for row in result.rows if row.category == "badante")
    assert lecco.services == 2  # the service 5060 m away now reaches Lecco
    assert lecco.free_seats == 2 + 3 + 4
