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


# The child tables nested under each kind of record: document field -> resource.
SERVICE_CHILDREN = {
    "cost_options": "cost_option",
    "languages": "language",
    "service_areas": "service_area",
    "service_at_locations": "service_at_location",
}
LOCATION_CHILDREN = {
    "addresses": "address",
    "schedules": "schedule",
    "accessibility": "accessibility",
}
ORGANIZATION_CHILDREN = {"phones": "phone", "organization_identifiers": "organization_identifier"}

Children = dict[str, dict[str, list[dict[str, Any]]]]


def _children(t: dict[str, Table], link: str, fields: Mapping[str, str]) -> Children:
    """Each field's rows, grouped by the ``link`` column that names their parent."""
    return {name: _by(t.get(resource, []), link) for name, resource in fields.items()}


def _attach(record: dict[str, Any], key: str, children: Children) -> None:
    for name, groups in children.items():
        record[name] = groups.get(key, [])


def nest(
    tables: Mapping[str, Iterable[Mapping[str, Any]]],
) -> tuple[list[dict[str, Any]], list[Note]]:
    """Organizations with their nested records, and notes on what could not be linked.

    ``tables`` maps resource names (``organization``, ``service``, …) to their rows.
    """
    t: dict[str, Table] = {name: [_clean(row) for row in rows] for name, rows in tables.items()}
    notes: list[Note] = []
    organizations = _organizations(t, notes)
    attributes = _by(t.get("attribute", []), "link_id")
    services, owner_of_service = _nest_services(t, organizations, attributes, notes)
    _nest_locations(t, organizations, _service_owners_at(services, owner_of_service), notes)
    children = _children(t, "organization_id", ORGANIZATION_CHILDREN)
    for key, organization in organizations.items():
        _attach(organization, key, children)
    locations = {_key(row.get("id")) for row in t.get("location", [])}
    notes.extend(_unlinked_attributes(attributes, locations | set(organizations) | set(services)))
    return list(organizations.values()), notes


def _organizations(t: dict[str, Table], notes: list[Note]) -> dict[str, dict[str, Any]]:
    organizations: dict[str, dict[str, Any]] = {}
    for row in t.get("organization", []):
        key = _key(row.get("id"))
        if key is None:
            notes.append(Note("organization.id", None, "missing: organization not imported", True))
            continue
        organizations.setdefault(key, dict(row))
    return organizations


def _terms(t: dict[str, Table]) -> dict[str | None, dict[str, Any]]:
    """Taxonomy terms by id, each with its taxonomy's row as ``taxonomy_detail``."""
    taxonomies = {_key(row.get("id")): row for row in t.get("taxonomy", [])}
    terms: dict[str | None, dict[str, Any]] = {}
    for row in t.get("taxonomy_term", []):
        term = dict(row)
        detail = taxonomies.get(_key(term.get("taxonomy_id")))
        if detail is not None:
            term["taxonomy_detail"] = dict(detail)
        terms[_key(term.get("id"))] = term
    return terms


def _nest_services(
    t: dict[str, Table],
    organizations: dict[str, dict[str, Any]],
    attributes: dict[str, list[dict[str, Any]]],
    notes: list[Note],
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Each service under its organization; the services and their organizations, by key."""
    children = _children(t, "service_id", SERVICE_CHILDREN)
    terms = _terms(t)
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
        _attach(service, key, children)
        service["attributes"] = [
            {**attribute, "taxonomy_term": terms.get(_key(attribute.get("taxonomy_term_id")))}
            for attribute in attributes.get(key, [])
        ]
        services[key] = service
        owner_of_service[key] = owner
        organizations[owner].setdefault("services", []).append(service)
    return services, owner_of_service


def _service_owners_at(
    services: dict[str, dict[str, Any]], owner_of_service: dict[str, str]
) -> dict[str, str]:
    """Location key -> the organization of the first service offered there."""
    owners: dict[str, str] = {}
    for service_key, service in services.items():
        for link in service["service_at_locations"]:
            location_key = _key(link.get("location_id"))
            if location_key is not None:
                owners.setdefault(location_key, owner_of_service[service_key])
    return owners


def _nest_locations(
    t: dict[str, Table],
    organizations: dict[str, dict[str, Any]],
    service_owner_at: dict[str, str],
    notes: list[Note],
) -> None:
    """Each location under its organization, or under the one that adopts it."""
    children = _children(t, "location_id", LOCATION_CHILDREN)
    for row in t.get("location", []):
        key, owner = _key(row.get("id")), _key(row.get("organization_id"))
        if key is None:
            notes.append(Note("location.id", None, "missing: location not imported"))
            continue
        if owner not in organizations:
            owner = _adopter(key, owner, service_owner_at, notes)
            if owner is None:
                continue
        location = dict(row)
        _attach(location, key, children)
        organizations[owner].setdefault("locations", []).append(location)


def _adopter(
    key: str, owner: str | None, service_owner_at: dict[str, str], notes: list[Note]
) -> str | None:
    """A location naming an organization the package lacks is taken by the organization whose
    services are offered there; None (and a note) when there is none."""
    adopter = service_owner_at.get(key)
    if adopter is None:
        reason = "is not an organization of the package, and no service is offered "
        reason += f"there: location {key} not imported"
        notes.append(Note("location.organization_id", owner, reason))
        return None
    reason = f"is not an organization of the package: location {key} is taken as "
    reason += f"organization {adopter}'s, whose services are offered there"
    notes.append(Note("location.organization_id", owner, reason))
    return adopter


def _unlinked_attributes(
    attributes: dict[str, list[dict[str, Any]]], known: set[str | None]
) -> list[Note]:
    notes: list[Note] = []
    for link_id, rows in attributes.items():
        if link_id not in known:
            for row in rows:
                reason = f"is no record of the package: attribute {row.get('id')} not imported"
                notes.append(Note("attribute.link_id", link_id, reason))
    return notes
