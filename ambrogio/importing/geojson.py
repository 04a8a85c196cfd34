"""The GeoJSON import profile: a FeatureCollection, one Feature per provider location.

Each Feature's ``properties`` carry the profile fields (see DESIGN.md, "Import profile") and its
Point geometry the coordinates; a Feature without geometry (``null``) is a location to be
located from its comune or CAP. Row numbers count Features from 1.
"""

from __future__ import annotations

import json
from typing import Any

from ambrogio.enums import ImportFormat
from ambrogio.errors import UnreadableFile
from ambrogio.importing.rows import Parsed, RowIssue, SourceRow
from ambrogio.importing.text import decode_utf8


def parse(
    data: bytes, *, fmt: ImportFormat = ImportFormat.GEOJSON, filename: str | None = None
) -> Parsed:
    text = decode_utf8(data)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise UnreadableFile(
            f"is not JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from error
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise UnreadableFile("is not a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise UnreadableFile("has no 'features' list")
    if not features:
        raise UnreadableFile("has no features")
    parsed = Parsed()
    for number, feature in enumerate(features, start=1):
        row = _row(number, feature, parsed.errors)
        if row is not None:
            parsed.rows.append(row)
    return parsed


def _row(number: int, feature: Any, errors: list[RowIssue]) -> SourceRow | None:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        errors.append(RowIssue(number, "type", _short(feature), "is not a GeoJSON Feature"))
        return None
    properties = feature.get("properties")
    if not isinstance(properties, dict):
        errors.append(RowIssue(number, "properties", _short(properties), "must be an object"))
        return None
    fields = {key: value for key, value in properties.items() if key != "services"}
    services = properties.get("services") or []
    if not isinstance(services, list) or not all(isinstance(s, dict) for s in services):
        errors.append(RowIssue(number, "services", _short(services), "must be a list of objects"))
        return None
    geometry = feature.get("geometry")
    if geometry is not None:
        coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            kind = geometry.get("type") if isinstance(geometry, dict) else _short(geometry)
            errors.append(RowIssue(number, "geometry.type", kind, "must be Point (or null)"))
            return None
        if not isinstance(coordinates, list) or len(coordinates) not in (2, 3):
            errors.append(
                RowIssue(
                    number,
                    "geometry.coordinates",
                    _short(coordinates),
                    "must be [longitude, latitude]",
                )
            )
            return None
        fields["lon"], fields["lat"] = coordinates[0], coordinates[1]
    return SourceRow(number=number, fields=fields, services=[dict(s) for s in services])


def _short(value: Any) -> Any:
    """A value small enough to quote in an error."""
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 80 else text[:79] + "…"
    return value
