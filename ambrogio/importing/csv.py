"""The CSV import profile: one row per location × service, the GeoJSON profile's names as columns.

Columns are the profile's property names, with ``lat`` and ``lon`` for the point and
``service_name`` / ``service_description`` for the service's name and description (``name`` and
``description`` are the provider's). List values are separated by ``|``; ``service_area`` may
hold a GeoJSON Polygon as JSON text. The delimiter is ``,`` or ``;`` (what Italian spreadsheets
write), taken from the header line. The file must be UTF-8 (a BOM is allowed).

Rows are grouped by (``external_id``, ``location_id``) into one ``SourceRow`` per location,
numbered as a spreadsheet numbers them (the header is row 1); each service keeps its own row
number. A later row of a location whose location or provider columns differ from its first row
is an error: it is the same location described twice.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ambrogio.enums import ImportFormat
from ambrogio.errors import UnreadableFile
from ambrogio.importing.rows import Parsed, RowIssue, SourceRow
from ambrogio.importing.text import decode_utf8

ROW_FIELD = "_row"  # the spreadsheet row a service came from, in the service's dict

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
SERVICE_COLUMNS = {
    "service_id": "service_id",
    "service_name": "name",
    "service_description": "description",
    "category": "category",
    "price_eur": "price_eur",
    "price_unit": "price_unit",
    "welfare_eligible": "welfare_eligible",
    "tuir_category": "tuir_category",
    "delivery": "delivery",
    "target_groups": "target_groups",
    "min_age": "min_age",
    "max_age": "max_age",
    "languages": "languages",
    "service_area_comuni": "service_area_comuni",
    "service_area": "service_area",
}


def parse(
    data: bytes, *, fmt: ImportFormat = ImportFormat.CSV, filename: str | None = None
) -> Parsed:
    text = decode_utf8(data)
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [column.strip().lower() for column in next(reader)]
    except (StopIteration, csv.Error) as error:
        raise UnreadableFile(f"has no header row: {error}") from error
    if "external_id" not in header:
        raise UnreadableFile(
            f"has no external_id column (columns separated by {delimiter!r}: "
            f"{', '.join(header[:8])})"
        )
    parsed = Parsed()
    known = set(RECORD_COLUMNS) | set(SERVICE_COLUMNS)
    unknown = [column for column in header if column and column not in known]
    if unknown:
        parsed.warnings.append(
            RowIssue(1, "header", ", ".join(unknown), "unknown columns, ignored")
        )
    groups: dict[tuple[str, str], SourceRow] = {}
    try:
        for index, values in enumerate(reader, start=2):
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(header):
                parsed.errors.append(
                    RowIssue(
                        index,
                        "row",
                        delimiter.join(values)[:80],
                        f"has {len(values)} columns, the header {len(header)}",
                    )
                )
                continue
            cells = {column: value.strip() for column, value in zip(header, values, strict=True)}
            _add(index, cells, groups, parsed)
    except csv.Error as error:
        raise UnreadableFile(f"is not valid CSV at line {reader.line_num}: {error}") from error
    parsed.rows = list(groups.values())
    if not parsed.rows and not parsed.errors:
        raise UnreadableFile("has a header but no rows")
    return parsed


def _add(
    index: int, cells: dict[str, str], groups: dict[tuple[str, str], SourceRow], parsed: Parsed
) -> None:
    fields = {column: cells[column] for column in RECORD_COLUMNS if cells.get(column)}
    key = (fields.get("external_id", f"\0{index}"), fields.get("location_id", ""))
    service = {
        name: _value(column, cells[column])
        for column, name in SERVICE_COLUMNS.items()
        if cells.get(column)
    }
    row = groups.get(key)
    if row is None:
        row = groups[key] = SourceRow(number=index, fields=fields)
    else:
        for column in sorted(set(fields) | set(row.fields)):
            if fields.get(column) != row.fields.get(column):
                parsed.errors.append(
                    RowIssue(
                        index,
                        column,
                        fields.get(column),
                        f"differs from row {row.number} of the same location "
                        f"({row.fields.get(column)!r}); a location is described once",
                    )
                )
                return
    if service:
        service[ROW_FIELD] = index
        row.services.append(service)


def _value(column: str, value: str) -> Any:
    if column == "service_area":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value  # validation says it is not a GeoJSON object
    return value
