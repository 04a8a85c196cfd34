"""The HSDS tabular data package, nested back into organization documents.

The tables of the package (``organizations.csv``, ``services.csv``, …) link by id columns;
``nest`` turns them into the documents of the compiled schema (an organization with its
``locations`` and ``services``, a service with its ``cost_options``, ``attributes``,
``service_at_locations``, …), so that one mapping reads both forms of HSDS. Only the tables
and links Ambrogio uses are followed. Links to records the package does not hold are reported
as notes, not followed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Table = list[dict[str, Any]]

# Resource name (datapackage.json) -> the standard file name of its table.
STANDARD_PATHS: dict[str, str] = {
    "organization": "organizations.csv",
    "service": "services.csv",
    "attribute": "attributes.csv",
    "service_at_location": "service_at_location.csv",
    "location": "locations.csv",
    "phone": "phones.csv",
    "contact": "contacts.csv",
    "address": "addresses.csv",
    "schedule": "schedules.csv",
    "service_area": "service_areas.csv",
    "language": "languages.csv",
    "accessibility": "accessibility.csv",
    "taxonomy_term": "taxonomy_terms.csv",
    "cost_option": "cost_options.csv",
    "organization_identifier": "organization_identifiers.csv",
    "taxonomy": "taxonomies.csv",
}


@dataclass(frozen=True, slots=True)
class Note:
    """Something in the package that was not followed: its table.field, value and why."""

    field: str
    value: Any
    reason: str
    error: bool = False


def _clean(row: Mapping[str, Any]) -> dict[str, Any]:
    # CSV has no null: an empty cell is an absent value.
    return {
        str(key).strip(): (None if value == "" else value)
        for key, value in row.items()
        if key is not None
    }


def _key(value: Any) -> str | None:
    return None if value is None or value == "" else str(value).strip()


def _by(rows: Iterable[dict[str, Any]], column: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        key = _key(row.get(column))
        if key is not None:
            groups[key].append(row)
    return groups


def nest(
    tables: Mapping[str, Iterable[Mapping[str, Any]]],
) -> tuple[list[dict[str, Any]], list[Note]]:
    """Organizations with their nested records, and notes on what could not be linked.

    ``tables`` maps resource names (``organization``, ``service``, …) to their rows.
    """
    t: dict[str, Table] = {name: [_clean(row) for row in rows] for name, rows in tables.items()}
    notes: list[Note] = []
    organizations: dict[str, dict[str, Any]] = {}
    for row in t.get("organization", []):
        key = _key(row.get("id"))
        if key is None:
            notes.append(Note("organization.id", None, "missing: organization not imported", True))
            continue
        organizations.setdefault(key, dict(row))

    taxonomies = {_key(row.get("id")): row for row in t.get("taxonomy", [])}
    terms: dict[str | None, dict[str, Any]] = {}
    for row in t.get("taxonomy_term", []):
        term = dict(row)
        detail = taxonomies.get(_key(term.get("taxonomy_id")))
        if detail is not None:
            term["taxonomy_detail"] = dict(detail)
        terms[_key(term.get("id"))] = term

    attributes = _by(t.get("attribute", []), "link_id")
    cost_options = _by(t.get("cost_option", []), "service_id")
    languages = _by(t.get("language", []), "service_id")
    service_areas = _by(t.get("service_area", []), "service_id")
    links = _by(t.get("service_at_location", []), "service_id")
    schedules_at = _by(t.get("schedule", []), "location_id")
    addresses = _by(t.get("address", []), "location_id")
    accessibility = _by(t.get("accessibility", []), "location_id")
    phones_of = _by(t.get("phone", []), "organization_id")
    identifiers = _by(t.get("organization_identifier", []), "organization_id")

    services: dict[str, dict[str, Any]] = {}
    owner_of_service: dict[str, str] = {}
    for row in t.get("service", []):
        key, owner = _key(row.get("id")), _key(row.get("organization_id"))
        if key is None:
            notes.append(Note("service.id", None, "missing: service not imported", True))
            continue
        if owner not in organizations:
            reason = "is not an organization of the package: service not imported"
            notes.append(Note("service.organization_id", owner, f"{reason} (service {key})", True))
            continue
        service = dict(row)
        service["cost_options"] = cost_options.get(key, [])
        service["languages"] = languages.get(key, [])
        service["service_areas"] = service_areas.get(key, [])
        service["service_at_locations"] = links.get(key, [])
        service["attributes"] = [
            {**attribute, "taxonomy_term": terms.get(_key(attribute.get("taxonomy_term_id")))}
            for attribute in attributes.get(key, [])
        ]
        services[key] = service
        owner_of_service[key] = owner
        organizations[owner].setdefault("services", []).append(service)

    # A location belongs to its organization; one naming an organization the package lacks is
    # taken by the organization whose services are offered there.
    service_owner_at: dict[str, str] = {}
    for service_key, service in services.items():
        for link in service["service_at_locations"]:
            location_key = _key(link.get("location_id"))
            if location_key is not None:
                service_owner_at.setdefault(location_key, owner_of_service[service_key])
    for row in t.get("location", []):
        key, owner = _key(row.get("id")), _key(row.get("organization_id"))
        if key is None:
            notes.append(Note("location.id", None, "missing: location not imported"))
            continue
        if owner not in organizations:
            adopter = service_owner_at.get(key)
            if adopter is None:
                reason = "is not an organization of the package, and no service is offered "
                reason += f"there: location {key} not imported"
                notes.append(Note("location.organization_id", owner, reason))
                continue
            reason = f"is not an organization of the package: location {key} is taken as "
            reason += f"organization {adopter}'s, whose services are offered there"
            notes.append(Note("location.organization_id", owner, reason))
            owner = adopter
        location = dict(row)
        location["addresses"] = addresses.get(key, [])
        location["schedules"] = schedules_at.get(key, [])
        location["accessibility"] = accessibility.get(key, [])
        organizations[owner].setdefault("locations", []).append(location)

    for key, organization in organizations.items():
        organization["phones"] = phones_of.get(key, [])
        organization["organization_identifiers"] = identifiers.get(key, [])

    known = set(organizations) | set(services) | {_key(r.get("id")) for r in t.get("location", [])}
    for link_id, rows in attributes.items():
        if link_id not in known:
            for row in rows:
                reason = f"is no record of the package: attribute {row.get('id')} not imported"
                notes.append(Note("attribute.link_id", link_id, reason))
    return list(organizations.values()), notes
