"""Descriptions that several types of the schema share: the provenance and editorial state
every catalogue record carries, and the fields every input of an address has. One text each,
so the same field says the same thing on every type."""

from __future__ import annotations

CREATED_AT = "When the record was first stored (UTC)."
UPDATED_AT = (
    "When the record last changed (UTC); `modifiedAfter` filters and the change feed use it."
)
VERIFIED_AT = (
    "When a mapper or reviewer last confirmed the record against reality (UTC); null if "
    "never. The freshness queue lists records verified long ago."
)
VERIFIED_BY = "Who last verified the record (a user's name); null if never verified."
SOURCE = (
    "Where the record came from: `ambrogio` when made in this API, else the source an import "
    "named (a file's or a feed's name)."
)
EXTERNAL_ID = "The record's id in its source (an import's row key); null for records made here."
VERSION = (
    "Optimistic-concurrency version, 1 for a new record and one more on each change: an "
    "update names the version it read and fails with `CONFLICT` if it moved on."
)
STATUS = (
    "Editorial state. Public lists and `node` show PUBLISHED records only; editing payloads "
    "also return drafts."
)
NAME = "The name people know it by, as shown in lists and on the map (1–200 characters)."
ADDRESS = "Street and number, as written on a letter (`Via Roma 12`); null when unknown."
CAP = "The five-digit Italian postcode (CAP), e.g. `23900`; null when unknown."
EMAIL = "An e-mail address for the public (normalised); null when there is none."
PHONE = "A telephone number for the public, in E.164 form (`+390341123456`); null if none."
WEBSITE = "The web site, an absolute `http(s)://` URL (up to 2,000 characters); null if none."
DESCRIPTION = "Free text for the public, in Italian (plain text, up to 5,000 characters)."
