"""Unchanged providers, recognised before validation: a digest of each provider's input.

Re-importing a file mostly re-sends what the catalogue already holds, and validating,
locating and staging it again is most of the work (phone numbers, e-mail addresses and tax
codes are parsed again row after row). So each provider an import writes gets a digest of its
input — every field of its rows, locations, services and prices as read from the file, in the
file's order, with the import's options that change what is written — in ``import_digest``.
The next import of the same source computes the digests of its rows first; a provider whose
digest is the stored one is counted unchanged and goes no further.

The digest stands for "the catalogue holds what this input writes", so it must not outlive
that:

- any write of the provider, its locations or services, their prices, categories or places
  other than an import's merge deletes it (statement triggers of migration 0021; the merge
  sets ``ambrogio.importing`` for its own statements);
- a provider whose rows had an error gets none (it was not written), nor one whose places the
  geocoder was asked about and warned of (its answer may differ next time); the warnings of
  the others (an at-home service given its provider's comuni, a row differing from another of
  the same provider) are kept with the digest and reported again, at the rows they now have,
  when the provider is skipped;
- a provider merged into another gets none (its places and services live on the survivor);
- ``DIGEST_VERSION`` is part of it: a change of what validation makes of a row bumps it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio import validation as check
from ambrogio.errors import BadUserInput
from ambrogio.ids import record_id
from ambrogio.importing.jobs import issue_json
from ambrogio.importing.rows import Parsed, RowIssue, SourceRow
from ambrogio.importing.validate import ROW_FIELD, Validated

DIGEST_VERSION = 1
IMPORTING = "ambrogio.importing"  # set (transaction-local) while the merge writes

STORED = """
SELECT d.organization_id, d.digest, d.warnings FROM import_digest d
JOIN organization o ON o.id = d.organization_id
WHERE o.source = :source AND o.merged_into_id IS NULL
"""

FORGET = "DELETE FROM import_digest WHERE organization_id = ANY(CAST(:ids AS uuid[]))"

REMEMBER = """
INSERT INTO import_digest (organization_id, digest, warnings)
SELECT o.id, d.digest, CAST(d.warnings AS jsonb)
FROM unnest(CAST(:ids AS uuid[]), CAST(:digests AS bytea[]), CAST(:warnings AS text[]))
    AS d(id, digest, warnings)
JOIN organization o ON o.id = d.id AND o.merged_into_id IS NULL
ON CONFLICT (organization_id) DO UPDATE SET digest = EXCLUDED.digest, warnings = EXCLUDED.warnings
"""


# A stored digest: the digest, and the provider's warnings at positions within its rows.
Stored = tuple[bytes, list[dict[str, Any]]]


@dataclass
class Digested:
    """A file's rows split: those to validate, and the providers found unchanged."""

    parsed: Parsed
    # Digest of each provider to validate, by its id (those without an external id have none).
    digests: dict[uuid.UUID, bytes] = field(default_factory=dict)
    # Each row number (and service row number) of the providers to validate: whose, and where
    # within the provider's rows — [row] or [row, service].
    where: dict[int, tuple[uuid.UUID, list[int]]] = field(default_factory=dict)
    unchanged: int = 0
    # The stored warnings of the unchanged providers, at their rows in this file.
    warnings: list[RowIssue] = field(default_factory=list)


def provider_id(source: str, row: SourceRow) -> uuid.UUID | None:
    """The id validation will give the row's provider, or None when its external id is bad
    (validation then reports it)."""
    value = row.fields.get("external_id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    try:
        external_id = check.text("external_id", value, required=True, max_length=200)
    except BadUserInput:
        return None
    assert external_id is not None
    return record_id(source, external_id)


def digest(rows: Iterable[SourceRow], options: dict[str, Any]) -> bytes:
    """The provider's input as read, without row numbers (a provider that moved in the file
    is still unchanged), and the options."""
    content = [
        DIGEST_VERSION,
        options,
        [
            [row.fields, [{k: v for k, v in s.items() if k != ROW_FIELD} for s in row.services]]
            for row in rows
        ],
    ]
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(encoded.encode()).digest()


def _row_at(rows: list[SourceRow], at: list[int]) -> int | None:
    if not at or at[0] >= len(rows):
        return None
    row = rows[at[0]]
    if len(at) == 1:
        return row.number
    number = row.services[at[1]].get(ROW_FIELD) if at[1] < len(row.services) else None
    return number if isinstance(number, int) else None


def _reissued(rows: list[SourceRow], warnings: list[dict[str, Any]]) -> list[RowIssue] | None:
    """The stored warnings at the rows they now have; None if one has no such row."""
    out = []
    for warning in warnings:
        number = _row_at(rows, warning["at"])
        if number is None:
            return None
        out.append(RowIssue(number, warning["field"], warning["value"], warning["reason"]))
    return out


def split(
    parsed: Parsed, source: str, options: dict[str, Any], stored: dict[uuid.UUID, Stored]
) -> Digested:
    """Leave out the rows of the providers whose digest is the stored one."""
    by_provider: dict[uuid.UUID, list[SourceRow]] = {}
    loose: list[SourceRow] = []
    for row in parsed.rows:
        pid = provider_id(source, row)
        if pid is None:
            loose.append(row)
        else:
            by_provider.setdefault(pid, []).append(row)
    out = Digested(Parsed(errors=parsed.errors, warnings=parsed.warnings))
    kept: set[int] = {id(row) for row in loose}
    for pid, rows in by_provider.items():
        value = digest(rows, options)
        known = stored.get(pid)
        if known is not None and known[0] == value:
            reissued = _reissued(rows, known[1])
            if reissued is not None:
                out.unchanged += 1
                out.warnings.extend(reissued)
                continue
        out.digests[pid] = value
        for index, row in enumerate(rows):
            kept.add(id(row))
            out.where[row.number] = (pid, [index])
            for position, service in enumerate(row.services):
                number = service.get(ROW_FIELD)
                if isinstance(number, int):
                    out.where[number] = (pid, [index, position])
    out.parsed.rows = [row for row in parsed.rows if id(row) in kept]
    return out


async def stored(session: AsyncSession, source: str) -> dict[uuid.UUID, Stored]:
    result = await session.execute(text(STORED), {"source": source})
    return {row.organization_id: (bytes(row.digest), row.warnings) for row in result}


async def remember(
    session: AsyncSession,
    digested: Digested,
    records: Validated,
    *,
    unsettled: set[uuid.UUID],
) -> None:
    """Store the digests, with their warnings, of the providers written; forget those of the
    others in the file: with an error, or ``unsettled`` (geocoded when the geocoder warned)."""
    barred = unsettled | {
        digested.where[issue.row][0] for issue in records.errors if issue.row in digested.where
    }
    warned: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for issue in records.warnings:
        if issue.row in digested.where:
            pid, at = digested.where[issue.row]
            item = issue_json(issue)
            warned.setdefault(pid, []).append(
                {"at": at, "field": item["field"], "value": item["value"], "reason": item["reason"]}
            )
    clean = [pid for pid in records.providers if pid in digested.digests and pid not in barred]
    clean_set = set(clean)
    others = [pid for pid in digested.digests if pid not in clean_set]
    if others:
        await session.execute(text(FORGET), {"ids": others})
    if clean:
        await session.execute(
            text(REMEMBER),
            {
                "ids": clean,
                "digests": [digested.digests[pid] for pid in clean],
                "warnings": [json.dumps(warned.get(pid, [])) for pid in clean],
            },
        )
