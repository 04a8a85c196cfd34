"""Where the imported places are: their comune, whether it is in the territory, and the area of
at-home services that name none.

After ``geocode.locate`` (every place that can have a point has one):

- a place with a point and no ``comune_istat`` gets the comune the point falls in
  (``geo.comune_of``), with its precision (``boundary`` or ``centroid``); a comune the file
  gave, or its CAP, is ``given``;
- a located place is outside the territory when its comune is in none of the provinces or
  regions of ``Settings.territory``, or when its point is outside the envelope of the
  territory's comuni (a point far from the comune the file names is outside too);
- an at-home service with neither a polygon nor comuni as its area gets the comuni of its
  provider's places in the file, with a warning saying so; without any, a warning that it
  reaches nobody.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.enums import Delivery
from ambrogio.geo.comune_of import comuni_of
from ambrogio.importing.rows import RowIssue
from ambrogio.importing.validate import LocationRecord, ServiceRecord, Validated

GIVEN = "given"
NO_AREA = "an at-home service without an area"


async def place(
    session: AsyncSession, records: Validated, territory: Iterable[str]
) -> list[RowIssue]:
    """Complete the records' comuni, territory flags and at-home areas; returns the warnings."""
    locations = list(records.locations.values())
    for location in locations:
        if location.comune_istat is not None and location.comune_precision is None:
            location.comune_precision = GIVEN
    pending = [loc for loc in locations if loc.comune_istat is None and loc.lat is not None]
    points = [(loc.lat, loc.lon) for loc in pending if loc.lat is not None and loc.lon is not None]
    for location, found in zip(pending, await comuni_of(session, points), strict=True):
        location.comune_istat, location.comune_precision = found.istat_code, found.precision
    areas = await _territory(session)
    wanted = frozenset(item.casefold() for item in territory)
    inside = {code for code, parts in areas.items() if parts & wanted}
    envelope = await _envelope(session, sorted(inside))
    for location in locations:
        if location.lat is None or location.lon is None:
            continue
        location.outside_territory = (
            location.comune_istat in areas and location.comune_istat not in inside
        ) or not _within(envelope, location.lat, location.lon)
    names = await _names(session, {loc.comune_istat for loc in locations if loc.comune_istat})
    return _home_areas(records.services.values(), locations, names)


async def _territory(session: AsyncSession) -> dict[str, frozenset[str]]:
    """Each comune's province code, region code and region name, case-folded."""
    rows = await session.execute(
        text("SELECT istat_code, province_code, region_code, region_name FROM comune")
    )
    return {code: frozenset(part.casefold() for part in parts if part) for code, *parts in rows}


async def _envelope(
    session: AsyncSession, codes: list[str]
) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of the territory's comuni; None when it has none."""
    row = (
        await session.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
                "ST_Extent(coalesce(boundary, centroid)) AS e FROM comune "
                "WHERE istat_code = ANY(:codes)) AS x"
            ),
            {"codes": codes},
        )
    ).one()
    return None if row[0] is None else (row[0], row[1], row[2], row[3])


def _within(envelope: tuple[float, float, float, float] | None, lat: float, lon: float) -> bool:
    if envelope is None:
        return False
    west, south, east, north = envelope
    return west <= lon <= east and south <= lat <= north


async def _names(session: AsyncSession, codes: set[str]) -> dict[str, str]:
    rows = await session.execute(
        text("SELECT istat_code, name FROM comune WHERE istat_code = ANY(:codes)"),
        {"codes": sorted(codes)},
    )
    return {code: name for code, name in rows}


def _home_areas(
    services: Iterable[ServiceRecord], locations: list[LocationRecord], names: dict[str, str]
) -> list[RowIssue]:
    comuni: dict[uuid.UUID, list[str]] = {}
    for location in locations:
        if location.comune_istat:
            found = comuni.setdefault(location.provider_id, [])
            if location.comune_istat not in found:
                found.append(location.comune_istat)
    warnings = []
    for service in services:
        if (
            Delivery.AT_HOME.value not in service.delivery
            or service.service_area is not None
            or service.service_area_comuni
        ):
            continue
        own = sorted(comuni.get(service.provider_id, []))
        if own:
            service.service_area_comuni = own
            shown = ", ".join(f"{names.get(code, code)} ({code})" for code in own)
            why = f"{NO_AREA}: its provider's comuni are its area: {shown}"
        else:
            why = f"{NO_AREA}, and its provider has no comune: it reaches nobody"
        warnings.append(RowIssue(service.row, "service_area_comuni", None, why))
    return warnings
