"""Published providers as Open Referral HSDS 3.0 organizations (the compiled schema's shape).

Each organization nests its ``locations`` and ``services``; a service points at its locations
through ``service_at_locations`` (by ``location_id``), so a location is written once. Ids are
Ambrogio's own UUIDs; records HSDS needs that Ambrogio does not keep (phones, addresses,
schedules, attributes, service areas) get ids derived from their owner's, the same in every
export. A location's geocode precision and wheelchair access are location attributes, its
accessibility text an ``accessibility`` record, the RUNTS id an ``IT-RUNTS`` organization
identifier. How Ambrogio's facets, kinds, prices and hours are written is shared with the import,
which reads an export back without loss: see ``ambrogio.hsds``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from ambrogio.db.models import CostOption, Organization, TaxonomyTerm
from ambrogio.enums import PriceUnit
from ambrogio.export.catalogue import AreaService, Batch, PlacedLocation
from ambrogio.hsds.schedules import DESCRIPTION_PREFIX, weekly_hours
from ambrogio.hsds.vocabularies import (
    DELIVERY,
    EXTENT_COMUNE,
    GEOCODE_PRECISION,
    TARGET_GROUP,
    TUIR,
    UNIT_WORDS,
    WELFARE,
    WELFARE_CODE,
    WHEELCHAIR,
    WHEELCHAIR_CODE,
    term_uuid,
)

COUNTRY = "IT"


def _id(owner: uuid.UUID, what: str) -> str:
    return str(uuid.uuid5(owner, what))


def _compact(record: dict[str, Any]) -> dict[str, Any]:
    """The record without absent values and empty lists: HSDS fields are never null."""
    return {key: value for key, value in record.items() if value is not None and value != []}


def organizations(batch: Batch) -> Iterator[dict[str, Any]]:
    for provider in batch.providers:
        yield organization(provider, batch)


def organization(provider: Organization, batch: Batch) -> dict[str, Any]:
    phones = [{"id": _id(provider.id, "phone"), "number": provider.phone}] if provider.phone else []
    contacts = (
        [{"id": _id(provider.id, "contact"), "name": provider.name, "email": provider.email}]
        if provider.email
        else []
    )
    identifiers = [
        {
            "id": _id(provider.id, f"identifier:{scheme}"),
            "identifier_scheme": scheme,
            "identifier_type": kind,
            "identifier": value,
        }
        for scheme, kind, value in (
            ("IT-CF", "Codice fiscale / partita IVA", provider.tax_code),
            ("IT-RUNTS", "Registro unico nazionale del Terzo settore", provider.runts_id),
        )
        if value
    ]
    return _compact(
        {
            "id": str(provider.id),
            "name": provider.name,
            # Required by HSDS, optional in Ambrogio.
            "description": provider.description or "",
            "email": provider.email,
            "website": provider.website,
            "tax_id": provider.tax_code,
            # HSDS has no provider kind: the legal status carries it (read back on import).
            "legal_status": provider.kind,
            "phones": phones,
            "contacts": contacts,
            "organization_identifiers": identifiers,
            "locations": [_location(p, batch) for p in batch.locations.get(provider.id, [])],
            "services": [_service(s, batch) for s in batch.services.get(provider.id, [])],
        }
    )


def _location(placed: PlacedLocation, batch: Batch) -> dict[str, Any]:
    location = placed.location
    comune = batch.comuni.get(location.comune_istat or "")
    addresses = []
    if location.address or location.cap or comune is not None:
        # HSDS requires every part of an address; Ambrogio may lack the street or the comune.
        addresses.append(
            {
                "id": _id(location.id, "address"),
                "location_id": str(location.id),
                "address_1": location.address or "",
                "city": comune.name if comune else "",
                "state_province": comune.province_code if comune else "",
                "postal_code": location.cap or "",
                "country": COUNTRY,
                "address_type": "physical",
            }
        )
    wheelchair = location.wheelchair_accessible
    # The accessibility text as is; wheelchair access in words for people (``details``), and
    # as an attribute for programs (the import reads that).
    accessibility = []
    if location.accessibility is not None or wheelchair is not None:
        accessibility.append(
            _compact(
                {
                    "id": _id(location.id, "accessibility"),
                    "location_id": str(location.id),
                    "description": location.accessibility,
                    "details": None if wheelchair is None else _WHEELCHAIR_WORDS[wheelchair],
                }
            )
        )
    attributes = []
    if placed.lat is not None and location.geocode_precision:
        precision = _facet_term(
            GEOCODE_PRECISION, location.geocode_precision, "Precisione della posizione"
        )
        attributes.append(_attribute(location.id, precision, entity="location"))
    if wheelchair is not None:
        term = _facet_term(WHEELCHAIR, WHEELCHAIR_CODE, "Accessibile in sedia a rotelle")
        attributes.append(_attribute(location.id, term, json.dumps(wheelchair), "location"))
    return _compact(
        {
            "id": str(location.id),
            "organization_id": str(location.organization_id),
            "location_type": "physical",
            "name": location.name,
            "latitude": placed.lat,
            "longitude": placed.lon,
            "addresses": addresses,
            "schedules": _schedules(location.id, location.opening_hours),
            "accessibility": accessibility,
            "attributes": attributes,
        }
    )


_WHEELCHAIR_WORDS = {
    True: "Accessibile in sedia a rotelle",
    False: "Non accessibile in sedia a rotelle",
}


def _schedules(location_id: uuid.UUID, hours: str | None) -> list[dict[str, Any]]:
    """Weekly schedules, each with the whole ``opening_hours`` in its description."""
    if not hours or not hours.strip():
        return []
    description = DESCRIPTION_PREFIX + hours.strip()
    weekly = [
        {"freq": "WEEKLY", "byday": group.byday, "opens_at": opens, "closes_at": closes}
        for group in weekly_hours(hours)
        for opens, closes in group.ranges
    ]
    return [
        {
            "id": _id(location_id, f"schedule:{n}"),
            "location_id": str(location_id),
            **fields,
            "description": description,
        }
        for n, fields in enumerate(weekly or [{}], start=1)
    ]


def _service(entry: AreaService, batch: Batch) -> dict[str, Any]:
    service = entry.service
    sid = str(service.id)
    areas = [
        {
            "id": _id(service.id, f"area:{code}"),
            "service_id": sid,
            "name": batch.comuni[code].name if code in batch.comuni else code,
            "extent": code,
            "extent_type": EXTENT_COMUNE,
        }
        for code in service.service_area_comuni
    ]
    if entry.area_geojson:
        areas.append(
            {
                "id": _id(service.id, "area"),
                "service_id": sid,
                "name": "Area servita",
                "extent": entry.area_geojson,
                "extent_type": "geojson",
            }
        )
    return _compact(
        {
            "id": sid,
            "organization_id": str(service.organization_id),
            "name": service.name,
            "description": service.description,
            "status": "active",
            "minimum_age": service.min_age,
            "maximum_age": service.max_age,
            "last_modified": service.updated_at.isoformat(),
            "languages": [
                {"id": _id(service.id, f"language:{code}"), "service_id": sid, "code": code}
                for code in service.languages
            ],
            "cost_options": [_cost(o) for o in batch.cost_options.get(service.id, [])],
            "attributes": _attributes(entry, batch.categories.get(service.id, [])),
            "service_areas": areas,
            "service_at_locations": [
                {"id": str(site_id), "service_id": sid, "location_id": str(location_id)}
                for site_id, location_id in batch.sites.get(service.id, [])
            ],
        }
    )


def _cost(option: CostOption) -> dict[str, Any]:
    return _compact(
        {
            "id": str(option.id),
            "service_id": str(option.service_id),
            "option": option.description,
            "currency": option.currency,
            "amount": float(option.amount) if option.amount is not None else None,
            "amount_description": UNIT_WORDS[PriceUnit(option.unit)],
        }
    )


def _attribute(
    owner_id: uuid.UUID,
    term: dict[str, Any],
    value: str | None = None,
    entity: str = "service",
) -> dict[str, Any]:
    vocabulary, code = term["taxonomy"], term["code"]
    return _compact(
        {
            "id": _id(owner_id, f"attribute:{vocabulary}:{code}"),
            "link_id": str(owner_id),
            "link_type": "service_category" if vocabulary == "ambrogio" else vocabulary,
            "link_entity": entity,
            "taxonomy_term_id": term["id"],
            "value": value,
            "taxonomy_term": term,
        }
    )


def _facet_term(vocabulary: str, code: str, description: str) -> dict[str, Any]:
    return {
        "id": str(term_uuid(vocabulary, code)),
        "code": code,
        "name": code,
        "description": description,
        "taxonomy": vocabulary,
    }


def category_term(term: TaxonomyTerm) -> dict[str, Any]:
    # An external term keeps the code of its own vocabulary (an import's ``external_id``).
    own = term.vocabulary == "ambrogio"
    return _compact(
        {
            "id": str(term.id),
            "code": term.slug if own else term.external_id or term.slug,
            "name": term.label_it,
            "description": term.description_it or f"{term.label_it} ({term.label_en})",
            "parent_id": str(term.parent_id) if term.parent_id else None,
            "taxonomy": term.vocabulary,
            "language": "it",
        }
    )


def _attributes(entry: AreaService, terms: list[TaxonomyTerm]) -> list[dict[str, Any]]:
    service = entry.service
    attributes = [_attribute(service.id, category_term(term)) for term in terms]
    facets = [
        *((DELIVERY, code, "Modalità di erogazione") for code in service.delivery),
        *((TARGET_GROUP, code, "Destinatari") for code in service.target_groups),
        (TUIR, service.tuir_category, "Categoria di welfare (art. 51 TUIR)"),
    ]
    attributes.extend(
        _attribute(service.id, _facet_term(vocabulary, code, description))
        for vocabulary, code, description in facets
    )
    welfare = _facet_term(WELFARE, WELFARE_CODE, "Pagabile con il welfare aziendale")
    attributes.append(_attribute(service.id, welfare, json.dumps(service.welfare_eligible)))
    return attributes
