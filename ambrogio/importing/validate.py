"""Validating parsed rows into the records an import writes, with every row error found.

One place for every format: each ``SourceRow`` goes through the shared field validators of
``ambrogio.validation``; each ``BadUserInput`` they raise becomes a row error (row, field, value,
reason) and validation goes on, so a row reports all its errors at once. A row with an error
contributes nothing; the caller decides whether that fails the import or skips the row.

Ids are deterministic (``ambrogio.ids.record_id``) from the import's ``source`` and these keys,
which are also the records' ``external_id``:

- provider: ``external_id``;
- location: ``{external_id}/location/{location_id}``, or ``{external_id}/location`` for a
  provider's single location without ``location_id``;
- service: ``{external_id}/service/{service_id}``, or ``{external_id}/service/{name}`` with the
  name normalised (lower case, single spaces) when the service has no ``service_id``;
- cost option: ``{service key}/cost``.

A provider's fields repeat on each of its locations' rows: the first row's win, and a later
row that says otherwise gets a warning. A service listed at several locations of its provider
is one service offered at each (the first description wins, likewise).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar, cast

from shapely.geometry import MultiPolygon

from ambrogio import validation as check
from ambrogio.enums import Delivery, PriceUnit, ProviderKind, TargetGroup, TuirCategory
from ambrogio.errors import BadUserInput
from ambrogio.ids import record_id
from ambrogio.importing.rows import Parsed, RowIssue, SourceRow
from ambrogio.progress import Report, silent
from ambrogio.validation import Known

T = TypeVar("T")
VALIDATING = "validating rows"
PROGRESS_EVERY = 1000  # rows between two progress reports
ROW_FIELD = "_row"  # a service's own row number, when its format has one (CSV)
LOCATION_FIELDS = (
    "location_id",
    "location_name",
    "address",
    "cap",
    "comune_istat",
    "lat",
    "lon",
    "geocode_precision",
    "opening_hours",
    "wheelchair_accessible",
    "accessibility",
)
PROVIDER_FIELDS = (
    "name", "kind", "tax_code", "runts_id", "description", "phone", "email", "website"
)  # fmt: skip


@dataclass
class ProviderRecord:
    id: uuid.UUID
    external_id: str
    row: int
    name: str
    kind: str
    tax_code: str | None
    runts_id: str | None
    description: str | None
    email: str | None
    phone: str | None
    website: str | None


@dataclass
class LocationRecord:
    id: uuid.UUID
    external_id: str
    provider_id: uuid.UUID
    row: int
    address: str | None
    cap: str | None
    comune_istat: str | None
    opening_hours: str | None
    lat: float | None = None
    lon: float | None = None
    precision: str | None = None
    outside_territory: bool = False
    # How the comune was found: "given", "boundary" or "centroid" (``importing.placing``).
    comune_precision: str | None = None
    # Written only when the file gives them (see ``merge``).
    name: str | None = None
    wheelchair_accessible: bool | None = None
    accessibility: str | None = None


@dataclass
class ServiceRecord:
    id: uuid.UUID
    external_id: str
    provider_id: uuid.UUID
    row: int
    name: str
    description: str | None
    welfare_eligible: bool
    tuir_category: str
    target_groups: list[str]
    min_age: int | None
    max_age: int | None
    languages: list[str]
    delivery: list[str]
    service_area: MultiPolygon | None
    service_area_comuni: list[str]
    categories: list[str]
    # (vocabulary, code, name) of terms of other vocabularies, kept as external terms.
    external_terms: list[tuple[str, str, str]]
    # (amount, unit, description) of each price, in the file's order.
    costs: list[tuple[Decimal | None, str, str | None]]
    location_ids: list[uuid.UUID] = field(default_factory=list)

    @property
    def on_site(self) -> bool:
        return not self.delivery or Delivery.ON_SITE.value in self.delivery


@dataclass
class Validated:
    providers: dict[uuid.UUID, ProviderRecord] = field(default_factory=dict)
    locations: dict[uuid.UUID, LocationRecord] = field(default_factory=dict)
    services: dict[uuid.UUID, ServiceRecord] = field(default_factory=dict)
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    rows: int = 0

    @property
    def bad_rows(self) -> int:
        return len({issue.row for issue in self.errors})


# Outcomes of validator calls within one import, by (validator, field, value). Files repeat the
# same enumerations, lists, comuni, prices and opening hours on row after row. Only for
# validators whose other arguments are the same for the whole import (the enumeration, the
# known comuni and categories); results are shared between records, never mutated.
_Memo = dict[tuple[Any, ...], tuple[bool, Any]]
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _key(value: Any) -> Any:
    kind = type(value)
    if kind in _SCALARS:
        return (kind, value)
    if kind is list and all(type(item) in _SCALARS for item in value):
        return (list, *value)
    return None


class _Row:
    """Collects one row's errors: ``row.get(validator, field, *args)`` never raises."""

    def __init__(self, number: int, memo: _Memo | None = None) -> None:
        self.number = number
        self.errors: list[RowIssue] = []
        self.memo: _Memo = {} if memo is None else memo

    def get(self, validator: Callable[..., T], field: str, *args: Any, **kwargs: Any) -> T | None:
        try:
            return validator(field, *args, **kwargs)
        except BadUserInput as error:
            self._error(error)
            return None

    def same(self, validator: Callable[..., T], field: str, value: Any, *other: Any) -> T | None:
        """``get`` remembered by value; ``other`` arguments that are not scalars (an
        enumeration, the ``Known`` values) are told apart by identity."""
        value_key = _key(value)
        if value_key is None:
            return self.get(validator, field, value, *other)
        if other:
            key: tuple[Any, ...] = (
                validator,
                field,
                value_key,
                *[_key(c) or id(c) for c in other],
            )
        else:
            key = (validator, field, value_key)
        outcome = self.memo.get(key)
        if outcome is None:
            try:
                outcome = (True, validator(field, value, *other))
            except BadUserInput as error:
                outcome = (False, error)
            self.memo[key] = outcome
        if outcome[0]:
            return cast(T, outcome[1])
        self._error(cast(BadUserInput, outcome[1]))
        return None

    def _error(self, error: BadUserInput) -> None:
        self.errors.append(RowIssue(self.number, error.field, error.value, error.reason))


def validate(
    parsed: Parsed,
    source: str,
    known: Known,
    territory: tuple[float, float, float, float],
    progress: Report = silent,
) -> Validated:
    out = Validated(errors=list(parsed.errors), warnings=list(parsed.warnings))
    seen_locations: dict[str, int] = {}
    memo: _Memo = {}
    total = len(parsed.rows)
    progress(VALIDATING, 0, total)
    for done, source_row in enumerate(parsed.rows, start=1):
        out.warnings.extend(source_row.warnings)
        _validate_row(source_row, source, known, territory, out, seen_locations, memo)
        if done % PROGRESS_EVERY == 0:
            progress(VALIDATING, done, total)
    progress(VALIDATING, total, total)
    out.rows = len({row.number for row in parsed.rows} | {issue.row for issue in parsed.errors})
    out.errors.sort(key=lambda issue: issue.row)
    out.warnings.sort(key=lambda issue: issue.row)
    return out


def _validate_row(
    source_row: SourceRow,
    source: str,
    known: Known,
    territory: tuple[float, float, float, float],
    out: Validated,
    seen_locations: dict[str, int],
    memo: _Memo,
) -> None:
    f = source_row.fields
    row = _Row(source_row.number, memo)
    external_id = row.get(
        check.text, "external_id", _as_text(f.get("external_id")), required=True, max_length=200
    )
    provider = _provider(row, f)
    location = _location(row, f, known, territory)
    services = [
        _service(source_row, index, service, known, memo)
        for index, service in enumerate(source_row.services)
    ]
    location_key = None
    if external_id is not None and location is not None:
        location_key = _location_key(row, f, external_id, seen_locations)
    for service_row, _ in services:
        row.errors.extend(service_row.errors)
    if row.errors or external_id is None or provider is None:
        out.errors.extend(row.errors)
        return
    provider_id = record_id(source, external_id)
    _add_provider(out, provider_id, external_id, row.number, provider)
    location_uuid = None
    if location is not None and location_key is not None:
        seen_locations[location_key] = row.number
        location_uuid = _add_location(out, location, source, location_key, provider_id)
    for _, service in services:
        assert service is not None
        _add_service(out, service, source, external_id, provider_id, location_uuid)


def _location_key(
    row: _Row, f: dict[str, Any], external_id: str, seen_locations: dict[str, int]
) -> str:
    location_id = row.get(check.text, "location_id", _as_text(f.get("location_id")), max_length=200)
    suffix = f"/{location_id}" if location_id else ""
    location_key = f"{external_id}/location{suffix}"
    first = seen_locations.get(location_key)
    if first is not None:
        row.errors.append(
            RowIssue(
                row.number,
                "location_id",
                f.get("location_id"),
                f"is the same location as row {first} (external_id "
                f"{external_id!r}); give each location of a provider its own "
                "location_id",
            )
        )
    return location_key


def _add_location(
    out: Validated, location: LocationRecord, source: str, key: str, provider_id: uuid.UUID
) -> uuid.UUID:
    location.id, location.external_id, location.provider_id = (
        record_id(source, key),
        key,
        provider_id,
    )
    out.locations[location.id] = location
    return location.id


def _add_service(
    out: Validated,
    service: ServiceRecord,
    source: str,
    external_id: str,
    provider_id: uuid.UUID,
    location_id: uuid.UUID | None,
) -> None:
    """The service once per provider, offered at each of its rows' locations."""
    key = f"{external_id}/service/{service.external_id}"
    service.id, service.external_id, service.provider_id = (
        record_id(source, key),
        key,
        provider_id,
    )
    existing = out.services.setdefault(service.id, service)
    if existing is not service and _differs(existing, service):
        out.warnings.append(
            RowIssue(
                service.row,
                "services",
                service.name,
                f"describes the service of row {existing.row} differently; "
                f"row {existing.row} is kept",
            )
        )
    if location_id is not None and location_id not in existing.location_ids:
        existing.location_ids.append(location_id)


def _as_text(value: Any) -> Any:
    # Ids and codes written as JSON numbers (``"external_id": 17``) are meant as text.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _provider(row: _Row, f: dict[str, Any]) -> dict[str, Any] | None:
    before = len(row.errors)
    values = {
        "name": row.get(check.name, "name", f.get("name")),
        "kind": row.same(check.choice, "kind", f.get("kind"), ProviderKind),
        "tax_code": row.get(check.tax_code, "tax_code", _as_text(f.get("tax_code"))),
        "runts_id": row.get(check.text, "runts_id", _as_text(f.get("runts_id")), max_length=40),
        "description": row.get(check.text, "description", f.get("description")),
        "email": row.get(check.email, "email", f.get("email")),
        "phone": row.get(check.phone, "phone", _as_text(f.get("phone"))),
        "website": row.get(check.url, "website", f.get("website")),
    }
    if values["kind"] is None and len(row.errors) == before:
        allowed = ", ".join(kind.value for kind in ProviderKind)
        row.errors.append(
            RowIssue(row.number, "kind", f.get("kind"), f"is required: one of {allowed}")
        )
    if len(row.errors) > before:
        return None
    values["kind"] = str(values["kind"])
    return values


def _location(
    row: _Row, f: dict[str, Any], known: Known, territory: tuple[float, float, float, float]
) -> LocationRecord | None:
    if not any(f.get(name) not in (None, "") for name in LOCATION_FIELDS):
        return None  # a provider and its services, no place
    comune = row.same(check.comune, "comune_istat", f.get("comune_istat"), known)
    point = row.get(check.coordinates, "lat", f.get("lat"), "lon", f.get("lon"), territory)
    location = LocationRecord(
        id=uuid.UUID(int=0),
        external_id="",
        provider_id=uuid.UUID(int=0),
        row=row.number,
        address=row.get(check.text, "address", f.get("address"), max_length=500),
        cap=row.same(check.cap, "cap", f.get("cap")),
        comune_istat=comune,
        opening_hours=row.same(
            check.opening_hours, "opening_hours", f.get("opening_hours"), comune
        ),
        name=row.get(check.text, "location_name", f.get("location_name"), max_length=200),
        wheelchair_accessible=row.same(
            check.boolean, "wheelchair_accessible", f.get("wheelchair_accessible")
        ),
        accessibility=row.get(check.text, "accessibility", f.get("accessibility")),
    )
    # Given coordinates are exact unless the file says how they were obtained; without them
    # the point is found later (``ambrogio.importing.geocode``).
    location.precision = row.same(
        check.geocode_precision, "geocode_precision", f.get("geocode_precision"), point is not None
    )
    if point is not None:
        location.lat, location.lon, location.outside_territory = point
    return location


def _service(
    source_row: SourceRow, index: int, s: dict[str, Any], known: Known, memo: _Memo
) -> tuple[_Row, ServiceRecord | None]:
    row = _Row(int(s.get(ROW_FIELD, source_row.number)), memo)
    p = f"services[{index}]."
    name = row.get(check.name, p + "name", s.get("name"))
    service_id = row.get(
        check.text, p + "service_id", _as_text(s.get("service_id")), max_length=200
    )
    ages = row.get(
        check.age_range, p + "min_age", s.get("min_age"), p + "max_age", s.get("max_age")
    )
    options = s.get("cost_options")
    if options is None:
        prices = [{"amount": s.get("price_eur"), "unit": s.get("price_unit")}]
        amount_field, unit_field = p + "price_eur", p + "price_unit"
    elif isinstance(options, list):
        prices = options
        amount_field, unit_field = p + "cost_options[{}].amount", p + "cost_options[{}].unit"
    else:
        row.errors.append(RowIssue(row.number, p + "cost_options", options, "must be a list"))
        prices = []
    costs = [
        cost
        for index, option in enumerate(prices)
        if (
            cost := _cost(
                row,
                p + f"cost_options[{index}]",
                amount_field.format(index),
                unit_field.format(index),
                option,
            )
        )
        is not None
    ]
    terms = _external_terms(row, p + "external_categories", s.get("external_categories"))
    record = ServiceRecord(
        id=uuid.UUID(int=0),
        # The key within the provider: the service_id, or the normalised name.
        external_id=service_id or " ".join((name or "").split()).lower(),
        provider_id=uuid.UUID(int=0),
        row=row.number,
        name=name or "",
        description=row.get(check.text, p + "description", s.get("description")),
        welfare_eligible=bool(
            row.same(check.boolean, p + "welfare_eligible", s.get("welfare_eligible"))
        ),
        tuir_category=str(
            row.same(check.choice, p + "tuir_category", s.get("tuir_category"), TuirCategory)
            or TuirCategory.NONE
        ),
        target_groups=[
            str(g)
            for g in row.same(
                check.choices, p + "target_groups", s.get("target_groups"), TargetGroup
            )
            or []
        ],
        min_age=ages[0] if ages else None,
        max_age=ages[1] if ages else None,
        languages=row.same(check.languages, p + "languages", s.get("languages")) or [],
        delivery=[
            str(d)
            for d in row.same(check.choices, p + "delivery", s.get("delivery"), Delivery) or []
        ],
        service_area=row.get(check.area, p + "service_area", s.get("service_area")),
        service_area_comuni=row.same(
            check.comuni, p + "service_area_comuni", s.get("service_area_comuni"), known
        )
        or [],
        categories=_categories(row, p, s, known),
        external_terms=terms,
        costs=costs,
    )
    return row, (record if not row.errors else None)


def _cost(
    row: _Row, option_field: str, amount_field: str, unit_field: str, option: Any
) -> tuple[Decimal | None, str, str | None] | None:
    """One price: (amount, unit, description); None when the option names no price at all."""
    if not isinstance(option, dict):
        row.errors.append(RowIssue(row.number, option_field, option, "must be an object"))
        return None
    price = row.same(check.price, amount_field, option.get("amount"))
    unit = row.same(check.choice, unit_field, option.get("unit"), PriceUnit)
    if unit is None:
        if price is not None:
            reason = f"is required with {amount_field.rsplit('.', 1)[-1]}"
            row.errors.append(RowIssue(row.number, unit_field, option.get("unit"), reason))
        return None
    if unit is PriceUnit.FREE and price not in (None, Decimal("0.00")):
        reason = "must be 0 or empty when price_unit is free"
        row.errors.append(RowIssue(row.number, amount_field, option.get("amount"), reason))
    description = row.get(check.text, option_field + ".description", option.get("description"))
    return (Decimal("0.00") if unit is PriceUnit.FREE else price, unit.value, description)


def _categories(row: _Row, prefix: str, service: dict[str, Any], known: Known) -> list[str]:
    """The profile's ``category`` (one slug, or a list of them: ``|`` in CSV), then those of
    ``categories`` (a list), each once."""
    value = service.get("category")
    if isinstance(value, str) and "|" not in value:
        slug = row.same(check.category, prefix + "category", value, known)
        slugs = [slug] if slug else []
    else:
        slugs = row.same(check.categories, prefix + "category", value, known) or []
    more = row.same(check.categories, prefix + "categories", service.get("categories"), known)
    return list(dict.fromkeys([*slugs, *(more or [])]))


_VOCABULARY = re.compile(r"[^a-z0-9]+")


def _external_terms(row: _Row, field_name: str, value: Any) -> list[tuple[str, str, str]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        row.errors.append(RowIssue(row.number, field_name, value, "must be a list of terms"))
        return []
    terms: list[tuple[str, str, str]] = []
    for index, term in enumerate(value):
        vocabulary = term.get("vocabulary") if isinstance(term, dict) else None
        code = term.get("code") if isinstance(term, dict) else None
        if not isinstance(vocabulary, str) or not vocabulary.strip() or code in (None, ""):
            row.errors.append(
                RowIssue(
                    row.number, f"{field_name}[{index}]", term, "needs a vocabulary and a code"
                )
            )
            continue
        label = term.get("name") or code
        terms.append((vocabulary.strip(), str(code).strip(), str(label).strip()))
    return terms


def external_slug(vocabulary: str, code: str) -> str:
    """The taxonomy slug of an external term: ``x-<vocabulary>-<code>``, folded to [a-z0-9-]."""
    return "x-" + _VOCABULARY.sub("-", f"{vocabulary}-{code}".lower()).strip("-")


def _add_provider(
    out: Validated, provider_id: uuid.UUID, external_id: str, row: int, values: dict[str, Any]
) -> None:
    existing = out.providers.get(provider_id)
    if existing is None:
        out.providers[provider_id] = ProviderRecord(provider_id, external_id, row, **values)
        return
    for name in PROVIDER_FIELDS:
        value = values[name]
        if value is not None and value != getattr(existing, name):
            out.warnings.append(
                RowIssue(
                    row,
                    name,
                    value,
                    f"differs from row {existing.row} of the same provider; row "
                    f"{existing.row}'s value is kept",
                )
            )


def _differs(a: ServiceRecord, b: ServiceRecord) -> bool:
    skip = {"row", "location_ids"}
    return any(
        getattr(a, name) != getattr(b, name) for name in a.__dataclass_fields__ if name not in skip
    )
