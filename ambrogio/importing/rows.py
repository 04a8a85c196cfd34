"""What every import format is read into: one ``SourceRow`` per provider location.

A row is the import profile's GeoJSON Feature, flattened: ``fields`` holds the provider's and
the location's properties under the profile names (``external_id``, ``location_id``, ``name``,
``kind``, ``tax_code``, ``description``, ``address``, ``cap``, ``comune_istat``, ``phone``,
``email``, ``website``, ``opening_hours``, ``lat``, ``lon``), and ``services`` the row's services
as profile dicts (``service_id``, ``name``, ``category``, ``price_eur``, ``price_unit``,
``welfare_eligible``, ``tuir_category``, ``delivery``, ``target_groups``, ``min_age``, ``max_age``,
``languages``, ``service_area_comuni``, and optionally ``description``, ``service_area`` (a
GeoJSON polygon), ``categories``: more category slugs besides ``category``,
``external_categories``: terms of another vocabulary, kept as they are,
``[{"vocabulary", "code", "name"}]``, and ``cost_options``: every price of the service,
``[{"amount", "unit", "description"}]``, which replaces ``price_eur``/``price_unit`` when given).

Optional fields, which the exports write so that an export imports without loss:
``runts_id`` (the provider's RUNTS registration); ``location_name``; ``geocode_precision``
(``exact``, ``address`` or ``comune``: how the given ``lat``/``lon`` were obtained; ``exact``
when not said, refused without coordinates); ``wheelchair_accessible`` (true or false) and
``accessibility`` (text). ``runts_id``, ``location_name``, ``wheelchair_accessible`` and
``accessibility``, unlike the other fields, are written only when given: a file that leaves
them out keeps what the catalogue has.

Values are as read from the file (text, numbers, lists); validation happens after parsing, in
one place, whatever the format. A category may be named by its slug, its Italian or English
label or a synonym (``ambrogio.taxonomy.SYNONYMS``), and enumerations by their value or as
people write them (``ambrogio.enums.ALIASES``: "a domicilio", "anziani", "ora"), case and
accents ignored; an unknown one is a row error suggesting the nearest known values. A row
with no location fields at all (no ``location_id``, ``address``, ``lat``/``lon``,
``comune_istat``) describes a provider and its services only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RowIssue:
    """A row error or warning: which row (1-based, as a person counts them), field, value, why."""

    row: int
    field: str
    value: Any
    reason: str


@dataclass
class SourceRow:
    number: int
    fields: dict[str, Any]
    services: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)


@dataclass
class Parsed:
    """A parsed file: its rows, and the problems found while reading it (not yet validating)."""

    rows: list[SourceRow] = field(default_factory=list)
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
