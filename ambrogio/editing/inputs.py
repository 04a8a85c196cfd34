"""Client input to validated column values, with the shared validators of ``ambrogio.validation``.

An input is a mapping of the fields the client sent, by their Python names (``tax_code``);
a field left out is not there, a field sent as null is there with ``None`` (cleared, where the
column allows it). The result maps columns (and, for services, the relations ``categories``,
``cost_options`` and ``location_ids``) to JSON values: geometries as GeoJSON, amounts as text.
It is applied to a row at once, or stored as a change request's payload and applied when a
reviewer publishes it, so it must survive a trip through JSON unchanged.

Errors name the GraphQL field (``input.taxCode``) and the value, and nothing is written. Every
bad field of an input is reported at once (``BadUserInputs``, one GraphQL error each), as the
import reports every bad field of a row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shapely.geometry import mapping

from ambrogio import validation
from ambrogio.enums import Delivery, PriceUnit, ProviderKind, TargetGroup, TuirCategory
from ambrogio.enums import WelfarePointKind as PointKind
from ambrogio.errors import BadUserInput
from ambrogio.validation import Known, Problems

Values = dict[str, Any]
Check = Callable[[str, Any], Any]


@dataclass(frozen=True)
class Rules:
    """What validation needs besides the value: reference data and the territory envelope."""

    known: Known
    territory: tuple[float, float, float, float] | None = None


def field_name(name: str) -> str:
    """``tax_code`` -> ``input.taxCode``: how the client named the field."""
    head, *rest = name.split("_")
    return "input." + head + "".join(part.title() for part in rest)


def _enum(enum: type[Any]) -> Check:
    def check(field: str, value: Any) -> str | None:
        member = validation.choice(field, value, enum)
        return member.value if member is not None else None

    return check


def _enums(enum: type[Any]) -> Check:
    return lambda field, value: [member.value for member in validation.choices(field, value, enum)]


def _boolean_or(default: bool) -> Check:
    def check(field: str, value: Any) -> bool:
        result = validation.boolean(field, value)
        return default if result is None else result

    return check


def _text(max_length: int = validation.MAX_TEXT) -> Check:
    return lambda field, value: validation.text(field, value, max_length=max_length)


def _required_choice(enum: type[Any]) -> Check:
    def check(field: str, value: Any) -> str:
        result: str | None = _enum(enum)(field, value)
        if result is None:
            raise BadUserInput(field, value, "is required")
        return result

    return check


def _checked(
    given: Mapping[str, Any], checks: Mapping[str, tuple[str, Check]], problems: Problems
) -> Values:
    return {
        column: problems.check(check, field_name(name), given[name])
        for name, (column, check) in checks.items()
        if name in given
    }


def _require(
    given: Mapping[str, Any], names: tuple[str, ...], creating: bool, problems: Problems
) -> None:
    for name in names:
        if creating and name not in given:
            problems.add(BadUserInput(field_name(name), None, "is required"))


def _point(given: Mapping[str, Any], rules: Rules, problems: Problems) -> Values:
    """``point`` ({lat, lon} or null) to the geometry, its precision and the territory flag."""
    if "point" not in given:
        return {}
    point = given["point"]
    if point is None:
        return {"geom": None, "geocode_precision": None, "outside_territory": False}
    before = len(problems.found)
    found = problems.check(
        validation.coordinates,
        "input.point.lat",
        point.get("lat"),
        "input.point.lon",
        point.get("lon"),
        rules.territory,
    )
    if found is None:
        if len(problems.found) == before:
            problems.add(BadUserInput("input.point", point, "needs lat and lon"))
        return {}
    lat, lon, outside = found
    return {
        "geom": {"type": "Point", "coordinates": [lon, lat]},
        # Given as coordinates: as exact as the client's survey.
        "geocode_precision": "exact",
        "outside_territory": outside,
    }


def _comune(rules: Rules) -> Check:
    return lambda field, value: validation.comune(field, value, rules.known)


def _hours(given: Mapping[str, Any]) -> Check:
    comune = given.get("comune_istat")
    return lambda field, value: validation.opening_hours(
        field, value, comune if isinstance(comune, str) else None
    )


def _ages(given: Mapping[str, Any], problems: Problems) -> Values:
    if "min_age" in given and "max_age" in given:
        ages = problems.check(
            validation.age_range, "input.minAge", given["min_age"], "input.maxAge", given["max_age"]
        )
        return {"min_age": ages[0], "max_age": ages[1]} if ages is not None else {}
    values: Values = {}
    for name in ("min_age", "max_age"):
        if name in given:
            values[name] = problems.check(validation.age, field_name(name), given[name])
    return values


def _all(values: Values, problems: Problems) -> Values:
    """The values, or every problem found on the way."""
    problems.raise_any()
    return values


def provider_values(given: Mapping[str, Any], rules: Rules, *, creating: bool) -> Values:
    problems = Problems()
    _require(given, ("name", "kind"), creating, problems)
    values = _checked(
        given,
        {
            "name": ("name", validation.name),
            "kind": ("kind", _required_choice(ProviderKind)),
            "tax_code": ("tax_code", validation.tax_code),
            "runts_id": ("runts_id", _text(40)),
            "description": ("description", _text()),
            "email": ("email", validation.email),
            "phone": ("phone", validation.phone),
            "website": ("website", validation.url),
        },
        problems,
    )
    return _all(values, problems)


def location_values(given: Mapping[str, Any], rules: Rules, *, creating: bool) -> Values:
    problems = Problems()
    values = _checked(
        given,
        {
            "name": ("name", _text(validation.MAX_NAME)),
            "address": ("address", _text(300)),
            "cap": ("cap", validation.cap),
            "comune_istat": ("comune_istat", _comune(rules)),
            "opening_hours": ("opening_hours", _hours(given)),
            "wheelchair_accessible": ("wheelchair_accessible", validation.boolean),
            "accessibility": ("accessibility", _text()),
        },
        problems,
    )
    return _all(values | _point(given, rules, problems), problems)


def welfare_point_values(given: Mapping[str, Any], rules: Rules, *, creating: bool) -> Values:
    problems = Problems()
    _require(given, ("name", "kind"), creating, problems)
    values = _checked(
        given,
        {
            "name": ("name", validation.name),
            "kind": ("kind", _required_choice(PointKind)),
            "address": ("address", _text(300)),
            "cap": ("cap", validation.cap),
            "comune_istat": ("comune_istat", _comune(rules)),
            "opening_hours": ("opening_hours", _hours(given)),
            "phone": ("phone", validation.phone),
            "email": ("email", validation.email),
            "comuni_served": (
                "comuni_served",
                lambda field, value: validation.comuni(field, value, rules.known),
            ),
        },
        problems,
    )
    return _all(values | _point(given, rules, problems), problems)


def _area(field: str, value: Any) -> dict[str, Any] | None:
    area = validation.area(field, value)
    return dict(mapping(area)) if area is not None else None


def _cost_options(field: str, value: Any) -> list[dict[str, Any]]:
    options: list[dict[str, Any]] = []
    problems = Problems()
    for index, option in enumerate(validation.split_list(field, value)):
        where = f"{field}[{index}]"
        if not isinstance(option, Mapping):
            problems.add(
                BadUserInput(where, option, "must be an object {amount, unit, description}")
            )
            continue
        unit = problems.check(_required_choice(PriceUnit), f"{where}.unit", option.get("unit"))
        amount = problems.check(validation.price, f"{where}.amount", option.get("amount"))
        if unit == PriceUnit.FREE.value and amount:
            problems.add(
                BadUserInput(f"{where}.amount", option.get("amount"), "must be 0 when FREE")
            )
        description = problems.check(
            validation.text, f"{where}.description", option.get("description")
        )
        options.append(
            {
                "amount": str(amount) if amount is not None else None,
                "unit": unit,
                "description": description,
            }
        )
    problems.raise_any()
    return options


def _location_ids(field: str, value: Any) -> list[str]:
    """Location keys (the resolver has turned global ids into uuids, or left them as sent)."""
    keys: list[str] = []
    problems = Problems()
    for index, item in enumerate(validation.split_list(field, value)):
        try:
            key = str(uuid.UUID(str(item)))
        except ValueError:
            problems.add(BadUserInput(f"{field}[{index}]", item, "is not the id of a Location"))
            continue
        if key not in keys:
            keys.append(key)
    problems.raise_any()
    return keys


def service_values(given: Mapping[str, Any], rules: Rules, *, creating: bool) -> Values:
    problems = Problems()
    _require(given, ("name",), creating, problems)
    values = _checked(
        given,
        {
            "name": ("name", validation.name),
            "description": ("description", _text()),
            "categories": (
                "categories",
                lambda field, value: validation.categories(field, value, rules.known),
            ),
            "tuir_category": ("tuir_category", _enum(TuirCategory)),
            "welfare_eligible": ("welfare_eligible", _boolean_or(False)),
            "target_groups": ("target_groups", _enums(TargetGroup)),
            "languages": ("languages", validation.languages),
            "delivery": ("delivery", _enums(Delivery)),
            "cost_options": ("cost_options", _cost_options),
            "service_area": ("service_area", _area),
            "service_area_comuni": (
                "service_area_comuni",
                lambda field, value: validation.comuni(field, value, rules.known),
            ),
            "location_ids": ("location_ids", _location_ids),
        },
        problems,
    )
    values |= _ages(given, problems)
    problems.raise_any()
    if values.get("tuir_category", "") is None:
        values["tuir_category"] = TuirCategory.NONE.value
    return values
