"""What every demo record shares: its provenance, and the names, streets and phones of the
territory. Used by the providers (``network``) and the welfare points alike."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from ambrogio.demo import archetypes as words
from ambrogio.demo.territory import Place
from ambrogio.enums import Status
from ambrogio.geo.gazetteer import fold
from ambrogio.ids import record_id

SOURCE = "demo"
BASE_TIME = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)

Row = dict[str, Any]


def provenance(external_id: str, status: Status, created: datetime, updated: datetime) -> Row:
    return {
        "id": record_id(SOURCE, external_id),
        "source": SOURCE,
        "external_id": external_id,
        "status": status.value,
        "created_at": created,
        "updated_at": updated,
        "version": 1,
    }


def slugify(text: str) -> str:
    kept = "".join(ch if ch.isalnum() else "-" for ch in fold(text))
    return "-".join(part for part in kept.split("-") if part)


def street_address(rng: random.Random) -> str:
    return f"{rng.choice(words.STREET_KINDS)} {rng.choice(words.STREETS)}, {rng.randint(1, 120)}"


def phone(rng: random.Random, place: Place) -> str:
    if rng.random() < 0.2:
        return f"+39 3{rng.randint(20, 49)} {rng.randint(1_000_000, 9_999_999)}"
    # Brianza towns dial 039, the lake and the valleys 0341.
    if place.lat < 45.76:
        return f"+39 039 {rng.randint(5_000_000, 9_999_999)}"
    return f"+39 0341 {rng.randint(200_000, 999_999)}"
