"""Files for the import tests: GeoJSON and CSV of the import profile, built from plain dicts."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

# Valid tax codes (checked by python-stdnum): a partita IVA and a codice fiscale.
PARTITA_IVA = "02830740136"
PARTITA_IVA_2 = "01234560124"
CODICE_FISCALE = "RSSMRA85T10A562S"
LECCO = "097042"  # Lecco: CAP 23900
MERATE = "097048"  # Merate: CAP 23807

SERVICE_COLUMNS = {
    "service_id": "service_id", "name": "service_name", "description": "service_description",
    "category": "category", "price_eur": "price_eur", "price_unit": "price_unit",
    "welfare_eligible": "welfare_eligible", "tuir_category": "tuir_category",
    "delivery": "delivery", "target_groups": "target_groups", "min_age": "min_age",
    "max_age": "max_age", "languages": "languages", "service_area_comuni": "service_area_comuni",
}  # fmt: skip
RECORD_COLUMNS = (
    "external_id",
    "location_id",
    "name",
    "kind",
    "tax_code",
    "description",
    "address",
    "cap",
    "comune_istat",
    "phone",
    "email",
    "website",
    "opening_hours",
    "lat",
    "lon",
)


def service(name: str = "Assistenza domiciliare", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "category": "assistenza-domiciliare",
        "price_eur": 22.5,
        "price_unit": "hour",
        "welfare_eligible": True,
        "tuir_category": "art51_f_ter",
        "delivery": ["at_home", "on_site"],
        "target_groups": ["elderly"],
        "min_age": 65,
        "languages": ["it"],
        "service_area_comuni": [LECCO, MERATE],
        **extra,
    }


def feature(
    external_id: str,
    *,
    lat: float | None = 45.8566,
    lon: float | None = 9.3932,
    services: list[dict[str, Any]] | None = None,
    **properties: Any,
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "external_id": external_id,
        "name": f"Cooperativa Sociale {external_id}",
        "kind": "social_cooperative",
        "address": "Via Roma 1",
        "cap": "23900",
        "comune_istat": LECCO,
        "phone": "0341 123456",
        "email": f"info@{external_id}.example.it",
        "opening_hours": "Mo-Fr 09:00-17:00",
        "services": [service()] if services is None else services,
        **properties,
    }
    props = {key: value for key, value in props.items() if value is not None}
    geometry = None if lat is None else {"type": "Point", "coordinates": [lon, lat]}
    return {"type": "Feature", "geometry": geometry, "properties": props}


def geojson(*features: dict[str, Any]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def to_csv(*features: dict[str, Any], delimiter: str = ",") -> bytes:
    """The CSV profile's equivalent of these features: one row per location × service."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow([*RECORD_COLUMNS, *SERVICE_COLUMNS.values()])
    for item in features:
        props = dict(item["properties"])
        if item["geometry"] is not None:
            props["lon"], props["lat"] = item["geometry"]["coordinates"]
        record = [_cell(props.get(column)) for column in RECORD_COLUMNS]
        for svc in props.get("services") or [{}]:
            writer.writerow([*record, *(_cell(svc.get(key)) for key in SERVICE_COLUMNS)])
    return out.getvalue().encode()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "|".join(str(item) for item in value)
    return str(value)
