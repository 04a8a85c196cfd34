"""Locating rows that have an address or a comune but no coordinates.

Offline first, always available: the centroid of the row's comune (``comune_istat``, or the
comune of its CAP when exactly one comune has that CAP, which then also fills
``comune_istat``), stored with precision ``comune`` so that a map can show it as approximate.

Optionally, a Nominatim-compatible geocoder (``AMBROGIO_GEOCODER_URL``, e.g.
``http://127.0.0.1:8080/search``) is asked for rows with an address: one request at a time, at
least ``AMBROGIO_GEOCODER_MIN_INTERVAL_SECONDS`` apart (Nominatim's usage policy asks one a
second), each with ``AMBROGIO_GEOCODER_TIMEOUT_SECONDS``. Answers — "not found" too — go into
``geocode_cache``, so an address is asked once across imports. An answer outside the territory
envelope is taken for a namesake elsewhere and not used. When the geocoder fails (down, slow,
an HTTP error), the row falls back to the comune centroid and, after ``MAX_FAILURES`` failures
in a row, the geocoder is not asked again during this import: it is never required. Points
from the geocoder have precision ``address``; points given in the file, ``exact``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

import httpx
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.db.models import GeocodeCache
from ambrogio.enums import GeocodePrecision
from ambrogio.importing.rows import RowIssue
from ambrogio.importing.validate import LocationRecord
from ambrogio.settings import Settings
from ambrogio.validation import Known

log = logging.getLogger("ambrogio.importing")

MAX_FAILURES = 3
USER_AGENT = "Ambrogio welfare catalogue import (https://github.com/ambrogio)"


@dataclass(frozen=True)
class Centroid:
    name: str
    lat: float | None
    lon: float | None


async def load_centroids(session: AsyncSession) -> dict[str, Centroid]:
    rows = await session.execute(
        text("SELECT istat_code, name, ST_Y(centroid), ST_X(centroid) FROM comune")
    )
    return {code: Centroid(name, lat, lon) for code, name, lat, lon in rows}


class Nominatim:
    """A client of a Nominatim-compatible ``/search`` endpoint, paced and with a timeout."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        assert settings.geocoder_url
        self.url = settings.geocoder_url
        self.interval = settings.geocoder_min_interval_seconds
        self.client = client or httpx.AsyncClient(
            timeout=settings.geocoder_timeout_seconds, headers={"User-Agent": USER_AGENT}
        )
        self.failures = 0
        self._last = 0.0

    @property
    def given_up(self) -> bool:
        return self.failures >= MAX_FAILURES

    async def search(self, query: str) -> tuple[float, float] | None:
        """(lat, lon) of the best answer, None when there is none; raises ``httpx.HTTPError``."""
        wait = self._last + self.interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        try:
            response = await self.client.get(
                self.url, params={"q": query, "format": "jsonv2", "limit": 1, "countrycodes": "it"}
            )
        finally:
            self._last = time.monotonic()
        response.raise_for_status()
        answers = response.json()
        if not isinstance(answers, list) or not answers:
            return None
        return float(answers[0]["lat"]), float(answers[0]["lon"])

    async def aclose(self) -> None:
        await self.client.aclose()


def _query(location: LocationRecord, centroids: dict[str, Centroid]) -> str:
    place = centroids[location.comune_istat].name if location.comune_istat else ""
    tail = " ".join(part for part in (location.cap, place) if part)
    return ", ".join(part for part in (location.address, tail, "Italia") if part)


async def _cached(
    session: AsyncSession, queries: list[str]
) -> dict[str, tuple[float, float] | None]:
    rows = await session.execute(
        text("SELECT query, lat, lon FROM geocode_cache WHERE query = ANY(:queries)"),
        {"queries": queries},
    )
    return {q: (lat, lon) if lat is not None and lon is not None else None for q, lat, lon in rows}


async def _ask(
    session: AsyncSession,
    geocoder: Nominatim,
    queries: list[str],
    warnings: list[RowIssue],
) -> dict[str, tuple[float, float] | None]:
    """Answers for the queries: the cache's, then the geocoder's (cached as they come)."""
    answers = await _cached(session, queries)
    for query in (q for q in queries if q not in answers):
        if geocoder.given_up:
            break
        try:
            answer = await geocoder.search(query)
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            geocoder.failures += 1
            log.warning("geocoder failed for %r: %s", query, error)
            if geocoder.given_up:
                warnings.append(
                    RowIssue(
                        0,
                        "geocoder",
                        geocoder.url,
                        f"failed {MAX_FAILURES} times in a row ({error}); comune "
                        "centroids used instead",
                    )
                )
            continue
        geocoder.failures = 0
        answers[query] = answer
        await session.execute(
            pg_insert(GeocodeCache)
            .values(
                query=query, lat=answer[0] if answer else None, lon=answer[1] if answer else None
            )
            .on_conflict_do_nothing()
        )
        await session.commit()
    return answers


def _inside(point: tuple[float, float], bbox: tuple[float, float, float, float]) -> bool:
    west, south, east, north = bbox
    return south <= point[0] <= north and west <= point[1] <= east


async def locate(
    session: AsyncSession,
    locations: Iterable[LocationRecord],
    known: Known,
    settings: Settings,
    geocoder: Nominatim | None = None,
) -> list[RowIssue]:
    """Give a point to each location without one, where possible; returns the warnings.

    ``session`` only reads the gazetteer and reads and writes the geocoder cache (committing
    it): call it before the import's data transaction.
    """
    pending = [location for location in locations if location.precision is None]
    warnings: list[RowIssue] = []
    if not pending:
        return warnings
    centroids = await load_centroids(session)
    for location in pending:
        if location.comune_istat is None and location.cap is not None:
            location.comune_istat = known.comune_of_cap(location.cap)
    answers: dict[str, tuple[float, float] | None] = {}
    own = geocoder is None and settings.geocoder_url is not None
    if own:
        geocoder = Nominatim(settings)
    try:
        if geocoder is not None:
            queries = sorted({_query(loc, centroids) for loc in pending if loc.address})
            answers = await _ask(session, geocoder, queries, warnings)
    finally:
        if own and geocoder is not None:
            await geocoder.aclose()
    for location in pending:
        answer = answers.get(_query(location, centroids)) if location.address else None
        if answer is not None and _inside(answer, settings.territory_bbox):
            location.lat, location.lon = answer
            location.precision = GeocodePrecision.ADDRESS.value
            continue
        centroid = centroids.get(location.comune_istat or "")
        if centroid is not None and centroid.lat is not None and centroid.lon is not None:
            location.lat, location.lon = centroid.lat, centroid.lon
            location.precision = GeocodePrecision.COMUNE.value
            location.outside_territory = not _inside(
                (centroid.lat, centroid.lon), settings.territory_bbox
            )
            continue
        reason = (
            f"has no centroid for comune {location.comune_istat}"
            if location.comune_istat
            else "has no coordinates, no comune_istat and no CAP of a single comune"
        )
        warnings.append(
            RowIssue(
                location.row, "lat", None, f"{reason}: the location is imported without a point"
            )
        )
    return warnings
