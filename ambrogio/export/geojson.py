"""Published providers as GeoJSON in Ambrogio's import profile (README, "Importing providers").

One Feature per published location, with the provider's and the location's properties and the
services offered there; the services offered at no published location (at home, online) go
into one more Feature of the provider with a null geometry and no location fields, as does a
provider without locations. Keys are Ambrogio's UUIDs (``external_id`` is the provider's id,
``location_id`` and ``service_id`` the location's and the service's), unique across sources:
importing an export under a new source name reproduces the catalogue.

Beyond the fields every import file has, the export writes what an import reads back so that
nothing is lost: the provider's ``runts_id``; the location's ``location_name``,
``geocode_precision`` (how its point was obtained), ``wheelchair_accessible`` and
``accessibility``; a service's ``categories`` when it has more than one (``category`` is the
first), its ``external_categories``, every price (``cost_options``) and its ``service_area``.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from ambrogio.db.models import Organization
from ambrogio.export.catalogue import AreaService, Batch, PlacedLocation
from ambrogio.taxonomy import VOCABULARY


def _compact(properties: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in properties.items() if value is not None}


def features(batch: Batch) -> Iterator[dict[str, Any]]:
    for provider in batch.providers:
        yield from provider_features(provider, batch)


def provider_features(provider: Organization, batch: Batch) -> Iterator[dict[str, Any]]:
    base = _compact(
        {
            "external_id": str(provider.id),
            "name": provider.name,
            "kind": provider.kind,
            "tax_code": provider.tax_code,
            "runts_id": provider.runts_id,
            "description": provider.description,
            "phone": provider.phone,
            "email": provider.email,
            "website": provider.website,
        }
    )
    at: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    elsewhere: list[dict[str, Any]] = []
    for entry in batch.services.get(provider.id, []):
        profile = _service(entry, batch)
        sites = batch.sites.get(entry.service.id, [])
        for _site, location_id in sites:
            at[location_id].append(profile)
        if not sites:
            elsewhere.append(profile)
    locations = batch.locations.get(provider.id, [])
    for placed in locations:
        yield _location_feature(base, placed, at.get(placed.location.id, []))
    if elsewhere or not locations:
        yield {"type": "Feature", "geometry": None, "properties": {**base, "services": elsewhere}}


def _location_feature(
    base: dict[str, Any], placed: PlacedLocation, services: list[dict[str, Any]]
) -> dict[str, Any]:
    location = placed.location
    geometry = (
        {"type": "Point", "coordinates": [placed.lon, placed.lat]}
        if placed.lat is not None and placed.lon is not None
        else None
    )
    properties = {
        **base,
        **_compact(
            {
                "location_id": str(location.id),
                "location_name": location.name,
                "geocode_precision": location.geocode_precision if geometry else None,
                "address": location.address,
                "cap": location.cap,
                "comune_istat": location.comune_istat,
                "opening_hours": location.opening_hours or None,
                "wheelchair_accessible": location.wheelchair_accessible,
                "accessibility": location.accessibility,
            }
        ),
        "services": services,
    }
    return {
        "type": "Feature",
        "id": str(location.id),
        "geometry": geometry,
        "properties": properties,
    }


def _service(entry: AreaService, batch: Batch) -> dict[str, Any]:
    service = entry.service
    terms = batch.categories.get(service.id, [])
    own = [term.slug for term in terms if term.vocabulary == VOCABULARY]
    external = [
        {
            "vocabulary": term.vocabulary,
            "code": term.external_id or term.slug,
            "name": term.label_it,
        }
        for term in terms
        if term.vocabulary != VOCABULARY
    ]
    # The profile's one price is the first (lowest) cost option; ``cost_options`` carries them
    # all, with their descriptions, so that a re-import loses none.
    options = batch.cost_options.get(service.id, [])
    price = options[0] if options else None
    every_price = [
        _compact(
            {
                "amount": float(option.amount) if option.amount is not None else None,
                "unit": option.unit,
                "description": option.description,
            }
        )
        for option in options
    ]
    return _compact(
        {
            "service_id": str(service.id),
            "name": service.name,
            "description": service.description,
            "category": own[0] if own else None,
            "categories": own if len(own) > 1 else None,
            "external_categories": external or None,
            "price_eur": float(price.amount) if price and price.amount is not None else None,
            "price_unit": price.unit if price else None,
            "cost_options": every_price or None,
            "welfare_eligible": service.welfare_eligible,
            "tuir_category": service.tuir_category,
            "delivery": list(service.delivery),
            "target_groups": list(service.target_groups),
            "min_age": service.min_age,
            "max_age": service.max_age,
            "languages": list(service.languages),
            "service_area_comuni": list(service.service_area_comuni),
            "service_area": json.loads(entry.area_geojson) if entry.area_geojson else None,
        }
    )
