"""A CSV file of needs: one row per need, the record's field names as columns.

Columns: ``category`` (slug, label or synonym), ``comune`` (ISTAT code), ``age_band``,
``household``, ``employment``, ``urgency``, ``recorded_on`` (YYYY-MM-DD), ``outcome`` and
``referred_service_id`` (a Service id), enumerations as their values or as people write them;
``external_id`` optionally names the row in its source, so a second import of the same file
updates instead of adding. Any other column is refused before a row is read, naming it: a file
cannot smuggle a name or a phone number in. The delimiter is ``,`` or ``;``, the file UTF-8.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from ambrogio.errors import BadUserInput, BadUserInputs, UnreadableFile
from ambrogio.importing.rows import RowIssue
from ambrogio.importing.text import decode_utf8
from ambrogio.needs.records import NeedValues, check_values
from ambrogio.needs.vocabulary import FIELDS
from ambrogio.validation import Known

EXTERNAL_ID = "external_id"
COLUMNS = (*FIELDS, EXTERNAL_ID)


@dataclass(frozen=True)
class NeedRow:
    row: int  # as a spreadsheet numbers it: the header is row 1
    external_id: str | None
    values: NeedValues


@dataclass(frozen=True)
class ReadNeeds:
    rows: list[NeedRow]
    errors: list[RowIssue]


def _header(text: str) -> tuple[csv.DictReader[str], list[str]]:
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    columns = [name.strip() for name in reader.fieldnames or []]
    if not columns:
        raise UnreadableFile("has no header row")
    return reader, columns


def read_needs(data: bytes, known: Known, today: date, earliest: date) -> ReadNeeds:
    """The file's rows, each checked; ``BadUserInput`` naming the first column that is not a
    field of a need record (no row is read then)."""
    reader, columns = _header(decode_utf8(data))
    for column in columns:
        if column not in COLUMNS:
            raise BadUserInput(
                column,
                column,
                f"is not a column of a needs file (it keeps no personal data); the columns are "
                f"{', '.join(COLUMNS)}",
            )
    rows: list[NeedRow] = []
    errors: list[RowIssue] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(reader, start=2):
        given: dict[str, Any] = {
            (key or "").strip(): (value or "").strip() for key, value in raw.items() if key
        }
        if None in raw:
            errors.append(RowIssue(number, "row", raw[None], "has more values than the header"))
            continue
        external = given.pop(EXTERNAL_ID, "") or None
        if external is not None and seen.setdefault(external, number) != number:
            errors.append(
                RowIssue(number, EXTERNAL_ID, external, f"is also the id of row {seen[external]}")
            )
            continue
        try:
            values = check_values(given, known, today, earliest)
        except BadUserInput as error:
            problems = error.problems if isinstance(error, BadUserInputs) else (error,)
            errors.extend(
                RowIssue(number, problem.field, problem.value, problem.reason)
                for problem in problems
            )
            continue
        rows.append(NeedRow(number, external, values))
    return ReadNeeds(rows, errors)
