"""Open Referral HSDS 3.0 files read into import rows.

Accepted: HSDS JSON of any of the shapes the specification's examples use, and the tabular
data package as a zip of its CSV tables (``package_bytes`` zips a folder); both are first
gathered into organization documents (``ambrogio.hsds.documents``).

How HSDS becomes the import profile:

- organization ``id`` → ``external_id``; ``name``, ``description``, ``email``;
  ``website`` (or 2.x ``url``) → ``website``; ``tax_id`` (or an ``IT-CF`` identifier) →
  ``tax_code``; an ``IT-RUNTS`` identifier → ``runts_id``; the first organization phone →
  ``phone``. HSDS has no provider kind: a
  ``legal_status`` naming one ("Cooperativa sociale", "Limited Company", or an Ambrogio kind
  as the export writes it) gives it, otherwise ``third_sector`` with a warning.
- each physical location → one row: ``id`` → ``location_id``; ``name`` →
  ``location_name``; ``latitude``/``longitude`` → ``lat``/``lon`` when both are valid WGS84
  degrees (otherwise the location comes without a point and a warning: the HSDS examples carry
  latitude 100), with the precision of an ``ambrogio:geocode_precision`` attribute →
  ``geocode_precision``; the physical (else the first) address: ``address_1`` → ``address``,
  an Italian ``postal_code`` → ``cap``, a ``city`` that is a comune of the territory →
  ``comune_istat``; weekly ``schedules`` → ``opening_hours``; the ``accessibility``
  descriptions → ``accessibility``, an ``ambrogio:wheelchair_accessible`` attribute →
  ``wheelchair_accessible``. Virtual and postal locations are skipped with a warning.
- a service goes into the row of every physical location it is offered at
  (``service_at_locations``); services offered at none go into one row without location
  fields. ``id`` → ``service_id``; ``minimum_age``/``maximum_age``; ``languages`` codes; the
  first cost option in EUR with a unit its words name (``amount_description``: "per hour",
  "per session", …) → ``price_eur``/``price_unit``; attributes on Ambrogio's category tree →
  ``category`` (the first) and ``categories`` (all, when several; a code may be a slug, a
  label or a synonym, as in the profile), on Ambrogio's facet
  vocabularies (see ``ambrogio.hsds.vocabularies``) →
  ``delivery``, ``target_groups``, ``tuir_category``, ``welfare_eligible``, on any other
  taxonomy → ``external_categories`` (kept, never rejected); service areas naming an ISTAT
  comune → ``service_area_comuni``, a GeoJSON extent → ``service_area``.

What has no place in the profile (programs, funding, contacts, required documents,
metadata, other location attributes) is left out silently; a warning says so where data the
file gives would otherwise vanish unnoticed (a price in another currency or without a unit,
service schedules, an area naming no comune, an inactive service).

Issues of a row carry its number and sit in ``SourceRow.warnings``; issues of the file as a
whole (a record that belongs to no organization) carry row 0 and sit in ``Parsed.errors`` /
``Parsed.warnings``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ambrogio import validation
from ambrogio.enums import ImportFormat
from ambrogio.errors import BadUserInput
from ambrogio.geo.gazetteer import fold, lecco_comuni
from ambrogio.hsds.documents import merge, package_bytes, read
from ambrogio.hsds.schedules import NotWeekly, opening_hours
from ambrogio.hsds.tabular import Note
from ambrogio.hsds.vocabularies import (
    DEFAULT_KIND,
    EXTENT_COMUNE,
    FACETS,
    GEOCODE_PRECISION,
    WELFARE,
    WELFARE_CODE,
    WHEELCHAIR,
    WHEELCHAIR_CODE,
    is_category,
    kind_of,
    unit_of,
)
from ambrogio.importing.rows import Parsed, RowIssue, SourceRow

__all__ = ["package_bytes", "parse"]

_CAP = re.compile(r"^\d{5}$")


def parse(data: bytes, *, fmt: ImportFormat, filename: str | None = None) -> Parsed:
    """Rows of an HSDS file; raises ``UnreadableFile`` when the file cannot be read at all."""
    documents, notes = read(data, fmt, filename)
    return _Reader().read(documents, notes)


# Documents into rows


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any) -> Any:
    """A number as JSON would hold it (12, 35.5), whether the file gave 12 or "12"."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return int(value) if isinstance(value, float) and value.is_integer() else value
    text = str(value).strip()
    if not text:
        return None
    try:
        number = float(text.replace(",", ".") if text.count(",") == 1 else text)
    except ValueError:
        return value
    if not math.isfinite(number):
        return value
    return int(number) if number.is_integer() and "." not in text else number


def _records(value: Any) -> list[dict[str, Any]]:
    return (
        [record for record in value if isinstance(record, dict)] if isinstance(value, list) else []
    )


def _record(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _comuni_by_name() -> dict[str, str]:
    return {fold(comune.name): comune.istat_code for comune in lecco_comuni()}


@dataclass
class _Service:
    profile: dict[str, Any]
    issues: list[RowIssue] = field(default_factory=list)
    location_ids: list[str] = field(default_factory=list)
    placed: bool = False


class _Reader:
    def __init__(self) -> None:
        self.parsed = Parsed()
        self.comuni = _comuni_by_name()

    def read(self, documents: list[dict[str, Any]], notes: list[Note]) -> Parsed:
        for note in notes:
            issue = RowIssue(0, note.field, note.value, note.reason)
            (self.parsed.errors if note.error else self.parsed.warnings).append(issue)
        for document in documents:
            self._organization(document)
        return self.parsed

    def _row(self, fields: dict[str, Any], services: list[_Service]) -> SourceRow:
        number = len(self.parsed.rows) + 1
        row = SourceRow(number=number, fields=fields)
        for service in services:
            row.services.append(dict(service.profile))
            if not service.placed:
                row.warnings.extend(replace(issue, row=number) for issue in service.issues)
                service.placed = True
        self.parsed.rows.append(row)
        return row

    def _organization(self, org: Mapping[str, Any]) -> None:
        issues: list[RowIssue] = []
        fields = self._provider(org, issues)
        services = [
            entry
            for entry in (self._service(s, issues) for s in _records(org.get("services")))
            if entry is not None
        ]
        # Locations of the organization, then those only its services name.
        locations: dict[str, dict[str, Any]] = {}
        for location in _records(org.get("locations")):
            _add_location(locations, location)
        for service in _records(org.get("services")):
            for link in _records(service.get("service_at_locations")):
                if isinstance(link.get("location"), dict):
                    _add_location(locations, link["location"])
        rows: list[SourceRow] = []
        placed: set[int] = set()
        for key, location in locations.items():
            kind = str(location.get("location_type") or "physical").strip().lower()
            if kind != "physical":
                reason = f"only physical locations have a place on the map: location {key} skipped"
                issues.append(RowIssue(0, "location.location_type", kind, reason))
                continue
            here = [s for s in services if key in s.location_ids]
            placed.update(id(s) for s in here)
            location_issues: list[RowIssue] = []
            row_fields = {**fields, **self._location(key, location, location_issues)}
            row = self._row(row_fields, here)
            row.warnings.extend(replace(i, row=row.number) for i in location_issues)
            rows.append(row)
        elsewhere = [s for s in services if id(s) not in placed]
        if elsewhere or not rows:
            rows.append(self._row(dict(fields), elsewhere))
        first = rows[0]
        first.warnings[:0] = [replace(issue, row=first.number) for issue in issues]

    def _provider(self, org: Mapping[str, Any], issues: list[RowIssue]) -> dict[str, Any]:
        legal_status = _text(org.get("legal_status"))
        kind = kind_of(legal_status)
        if kind is None:
            kind = DEFAULT_KIND
            reason = f"names no provider kind: {kind.value} assumed"
            issues.append(RowIssue(0, "organization.legal_status", legal_status, reason))
        tax_code = _text(org.get("tax_id"))
        runts_id = None
        for identifier in _records(org.get("organization_identifiers")):
            scheme = str(identifier.get("identifier_scheme") or "").upper()
            if scheme == "IT-CF" and tax_code is None:
                tax_code = _text(identifier.get("identifier"))
            elif scheme == "IT-RUNTS" and runts_id is None:
                runts_id = _text(identifier.get("identifier"))
        if tax_code is not None:
            # HSDS tax ids are national: one that is no codice fiscale or partita IVA is
            # another country's, dropped with a warning rather than refusing the organization.
            try:
                validation.tax_code("organization.tax_id", tax_code)
            except BadUserInput as error:
                issues.append(RowIssue(0, error.field, error.value, f"{error.reason}: not kept"))
                tax_code = None
        phones = _records(org.get("phones"))
        for contact in _records(org.get("contacts")):
            phones.extend(_records(contact.get("phones")))
        phone = next((_phone(p.get("number")) for p in phones if _phone(p.get("number"))), None)
        fields = {
            "external_id": _text(org.get("id")),
            "name": _text(org.get("name")),
            "kind": kind.value,
            "tax_code": tax_code,
            "runts_id": runts_id,
            "description": _text(org.get("description")),
            "email": _text(org.get("email")),
            "website": _text(org.get("website")) or _text(org.get("url")),
            "phone": phone,
        }
        return {key: value for key, value in fields.items() if value is not None}

    def _location(
        self, key: str, location: Mapping[str, Any], issues: list[RowIssue]
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {"location_id": key}
        name = _text(location.get("name"))
        if name is not None:
            fields["location_name"] = name
        lat, lon = _number(location.get("latitude")), _number(location.get("longitude"))
        if lat is not None or lon is not None:
            point = _point(key, lat, lon, issues)
            if point is not None:
                fields["lat"], fields["lon"] = point
        for attribute in _records(location.get("attributes")):
            term = _record(attribute.get("taxonomy_term"))
            vocabulary, code = _vocabulary(term), _text(term.get("code"))
            if vocabulary == GEOCODE_PRECISION and "lat" in fields:
                fields["geocode_precision"] = code
            elif vocabulary == WHEELCHAIR and code == WHEELCHAIR_CODE:
                answer = str(attribute.get("value") or "true").strip().lower()
                fields["wheelchair_accessible"] = answer == "true"
        accessibility = [
            text
            for record in _records(location.get("accessibility"))
            if (text := _text(record.get("description"))) is not None
        ]
        if accessibility:
            fields["accessibility"] = "\n".join(accessibility)
        addresses = _records(location.get("addresses"))
        address = next(
            (a for a in addresses if str(a.get("address_type")).lower() == "physical"),
            addresses[0] if addresses else None,
        )
        if address is not None:
            fields.update(self._address(key, address, issues))
        schedules = _records(location.get("schedules"))
        try:
            hours = opening_hours(schedules)
        except NotWeekly as error:
            reason = f"{error}: location {key} imported without opening hours"
            value = [s.get("id") for s in schedules]
            issues.append(RowIssue(0, "location.schedules", value, reason))
        else:
            if hours is not None:
                fields["opening_hours"] = hours
        return fields

    def _address(
        self, key: str, address: Mapping[str, Any], issues: list[RowIssue]
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        street = _text(address.get("address_1"))
        if street is not None:
            fields["address"] = street
        country = (_text(address.get("country")) or "IT").upper()
        postal_code = _text(address.get("postal_code"))
        if postal_code is not None:
            if country == "IT" and _CAP.match(postal_code):
                fields["cap"] = postal_code
            else:
                reason = f"is not an Italian CAP (country {country}): location {key} has no CAP"
                issues.append(RowIssue(0, "address.postal_code", postal_code, reason))
        city = _text(address.get("city"))
        if city is not None and country == "IT" and fold(city) in self.comuni:
            fields["comune_istat"] = self.comuni[fold(city)]
        return fields

    def _service(self, service: Mapping[str, Any], org_issues: list[RowIssue]) -> _Service | None:
        key = _text(service.get("id"))
        status = str(service.get("status") or "active").strip().lower()
        if status in ("inactive", "defunct"):
            reason = f"service {key} ({service.get('name')}) is {status}: not imported"
            org_issues.append(RowIssue(0, "service.status", status, reason))
            return None
        issues: list[RowIssue] = []
        profile: dict[str, Any] = {
            "service_id": key,
            "name": _text(service.get("name")),
            "description": _text(service.get("description")),
            "min_age": _number(service.get("minimum_age")),
            "max_age": _number(service.get("maximum_age")),
        }
        languages = [
            _text(language.get("code")) or _text(language.get("name"))
            for language in _records(service.get("languages"))
        ]
        if languages:
            profile["languages"] = [language for language in languages if language]
        profile.update(_price(key, _records(service.get("cost_options")), issues))
        profile.update(_terms(key, _records(service.get("attributes")), issues))
        profile.update(self._areas(key, _records(service.get("service_areas")), issues))
        if _records(service.get("schedules")):
            reason = f"Ambrogio keeps opening hours per location: service {key}'s not imported"
            issues.append(RowIssue(0, "service.schedules", None, reason))
        entry = _Service({k: v for k, v in profile.items() if v is not None}, issues)
        for link in _records(service.get("service_at_locations")):
            location = _record(link.get("location"))
            location_id = _text(link.get("location_id")) or _text(location.get("id"))
            if location_id is not None and location_id not in entry.location_ids:
                entry.location_ids.append(location_id)
        return entry

    def _areas(
        self, key: str | None, areas: list[dict[str, Any]], issues: list[RowIssue]
    ) -> dict[str, Any]:
        comuni: list[str] = []
        polygon: Any = None
        for area in areas:
            extent_type = str(area.get("extent_type") or "").strip().lower()
            extent = area.get("extent")
            name = _text(area.get("name"))
            if extent_type == EXTENT_COMUNE and _text(extent):
                comuni.append(str(extent).strip())
            elif extent_type == "geojson" and _geojson_area(extent) is not None and polygon is None:
                polygon = _geojson_area(extent)
            elif name is not None and fold(name) in self.comuni:
                comuni.append(self.comuni[fold(name)])
            else:
                reason = (
                    f"names no comune and no GeoJSON polygon: service {key}'s area not imported"
                )
                issues.append(RowIssue(0, "service_area.extent", extent, reason))
        result: dict[str, Any] = {}
        if comuni:
            result["service_area_comuni"] = list(dict.fromkeys(comuni))
        if polygon is not None:
            result["service_area"] = polygon
        return result


def _add_location(locations: dict[str, dict[str, Any]], location: Mapping[str, Any]) -> None:
    key = _text(location.get("id"))
    if key is None:
        return
    if key in locations:
        merge(locations[key], location)
    else:
        locations[key] = dict(location)


def _phone(value: Any) -> str | None:
    # The HSDS examples quote their numbers ("\"+44 1234 234567\"").
    text = _text(value)
    return text.strip("\"' ") or None if text else None


def _point(key: str, lat: Any, lon: Any, issues: list[RowIssue]) -> tuple[float, float] | None:
    for name, value, limit in (("latitude", lat, 90), ("longitude", lon, 180)):
        if not isinstance(value, int | float) or isinstance(value, bool):
            reason = f"is not a number of degrees: location {key} imported without a point"
            issues.append(RowIssue(0, f"location.{name}", value, reason))
            return None
        if not -limit <= value <= limit:
            reason = f"is out of range (-{limit}..{limit}): location {key} imported without a point"
            issues.append(RowIssue(0, f"location.{name}", value, reason))
            return None
    return lat, lon


def _geojson_area(extent: Any) -> dict[str, Any] | None:
    value = extent
    if isinstance(extent, str):
        try:
            value = json.loads(extent)
        except json.JSONDecodeError:
            return None
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if isinstance(value, dict) and value.get("type") in ("Polygon", "MultiPolygon"):
        return value
    return None


def _price(
    key: str | None, options: list[dict[str, Any]], issues: list[RowIssue]
) -> dict[str, Any]:
    """Every EUR cost option with a unit, as the row's ``cost_options``."""
    prices: list[dict[str, Any]] = []
    for option in options:
        currency = (_text(option.get("currency")) or "EUR").upper()
        amount = _number(option.get("amount"))
        unit = unit_of(_text(option.get("amount_description")), _text(option.get("option")))
        if unit is None and amount == 0:
            unit = unit_of("free")
        where = f"service {key}'s cost option {option.get('id')}"
        if currency != "EUR":
            reason = f"is not EUR: {where} not imported"
            issues.append(RowIssue(0, "cost_option.currency", currency, reason))
            continue
        if unit is None:
            reason = f"names no unit (per hour, per session, …): {where} not imported"
            issues.append(
                RowIssue(
                    0, "cost_option.amount_description", option.get("amount_description"), reason
                )
            )
            continue
        price: dict[str, Any] = {"unit": unit.value, "amount": amount}
        description = _text(option.get("option"))
        if description is not None:
            price["description"] = description
        prices.append(price)
    return {"cost_options": prices} if prices else {}


def _vocabulary(term: Mapping[str, Any]) -> str:
    detail = _record(term.get("taxonomy_detail"))
    return (
        _text(term.get("taxonomy"))
        or _text(detail.get("name"))
        or _text(term.get("taxonomy_id"))
        or "hsds"
    )


def _terms(
    key: str | None, attributes: Iterable[dict[str, Any]], issues: list[RowIssue]
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    external: list[dict[str, Any]] = []
    for attribute in attributes:
        term = attribute.get("taxonomy_term")
        if not isinstance(term, dict):
            reason = f"has no taxonomy term: service {key}'s attribute not imported"
            issues.append(
                RowIssue(0, "attribute.taxonomy_term_id", attribute.get("taxonomy_term_id"), reason)
            )
            continue
        vocabulary = _vocabulary(term)
        code = _text(term.get("code")) or _text(term.get("id"))
        if is_category(vocabulary) and code:
            result.setdefault("category", code)
            if code != result["category"]:
                result.setdefault("categories", [result["category"]]).append(code)
        elif vocabulary in FACETS:
            name, _enum, many = FACETS[vocabulary]
            if many:
                result.setdefault(name, []).append(code)
            else:
                result[name] = code
        elif vocabulary == WELFARE and code == WELFARE_CODE:
            result["welfare_eligible"] = str(attribute.get("value") or "true").lower() == "true"
        else:
            external.append(
                {"vocabulary": vocabulary, "code": code, "name": _text(term.get("name"))}
            )
    if external:
        result["external_categories"] = external
    return result
