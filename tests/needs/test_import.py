"""A CSV file of needs: any column that is not a field is refused by name, bad rows come back
as data and nothing is written, a second import of the same file updates."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from ambrogio.db.models import Need
from ambrogio.ids import to_global_id
from ambrogio.needs import analysis
from tests.support.import_db import ImportDb
from tests.support.needs import LECCO, VALMADRERA, Desk, desk, replace_needs

IMPORT = """
mutation ($file: Upload!, $dryRun: Boolean) {
  importNeeds(file: $file, dryRun: $dryRun) {
    rows created updated errors { row field value reason }
  }
}"""


def _day(days_ago: int) -> str:
    return (analysis.today_in_rome(datetime.now(UTC)) - timedelta(days=days_ago)).isoformat()


async def _upload(
    db: ImportDb, data: str | bytes, headers: dict[str, str], dry_run: bool = False
) -> Any:
    operations = {"query": IMPORT, "variables": {"file": None, "dryRun": dry_run}}
    response = await db.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("needs.csv", data.encode() if isinstance(data, str) else data, "text/csv")},
        headers={"Apollo-Require-Preflight": "true", **headers},
    )
    return response.json()


async def _count(db: ImportDb, point: Desk) -> int:
    async with db.sessionmaker() as session:
        query = select(func.count()).where(Need.welfare_point_id == point.id)
        return int(await session.scalar(query) or 0)


@pytest.fixture(scope="module")
async def point(needs_db: ImportDb) -> Desk:
    await replace_needs(needs_db.sessionmaker, [])
    return await desk(needs_db.sessionmaker, needs_db.settings, "import", LECCO)


async def test_a_column_that_is_no_field_is_refused_by_name(
    needs_db: ImportDb, point: Desk
) -> None:
    data = (
        "category;comune;urgency;recorded_on;outcome;cognome\n"
        f"badante;{LECCO};alta;{_day(3)};in attesa;Rossi\n"
    )
    body = await _upload(needs_db, data, point.operator)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "cognome"
    assert await _count(needs_db, point) == 0


async def test_a_file_that_is_not_utf8_is_bad_input(needs_db: ImportDb, point: Desk) -> None:
    body = await _upload(needs_db, b"category,comune\n\xe0\xe8,097042\n", point.operator)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "file"
    assert "UTF-8" in body["errors"][0]["message"]


async def test_bad_rows_come_back_and_nothing_is_written(needs_db: ImportDb, point: Desk) -> None:
    data = (
        "external_id,category,comune,urgency,recorded_on,outcome,age_band\n"
        f"a1,badante,{LECCO},high,{_day(3)},waiting,50_64\n"
        f"a2,astronautica,{LECCO},high,{_day(3)},waiting,\n"
        f"a3,asilo nido,{VALMADRERA},urgentissima,{_day(400 * 3)},waiting,\n"
        f"a1,badante,{LECCO},high,{_day(3)},waiting,\n"
    )
    body = await _upload(needs_db, data, point.operator)
    report = body["data"]["importNeeds"]
    problems = {(error["row"], error["field"]) for error in report["errors"]}
    assert problems == {
        (3, "category"),
        (4, "urgency"),
        (4, "recorded_on"),
        (5, "external_id"),
    }
    assert report["created"] == 0 and await _count(needs_db, point) == 0


async def test_a_good_file_is_imported_and_a_second_import_updates(
    needs_db: ImportDb, point: Desk
) -> None:
    service = await needs_db.scalar("SELECT id FROM service WHERE status = 'published' LIMIT 1")
    referral = to_global_id("Service", service) if service else ""
    outcome = "referred" if service else "declined"
    data = (
        "external_id,category,comune,urgency,recorded_on,outcome,referred_service_id,household\n"
        f"b1,Home care,{LECCO},medium,{_day(5)},{outcome},{referral},genitore solo\n"
        f"b2,doposcuola,{VALMADRERA},low,{_day(6)},no_local_service,,\n"
    )
    dry = (await _upload(needs_db, data, point.operator, dry_run=True))["data"]["importNeeds"]
    assert dry["errors"] == [] and dry["created"] == 0 and await _count(needs_db, point) == 0
    first = (await _upload(needs_db, data, point.operator))["data"]["importNeeds"]
    assert (first["created"], first["updated"], first["errors"]) == (2, 0, [])
    again = (await _upload(needs_db, data, point.operator))["data"]["importNeeds"]
    assert (again["created"], again["updated"]) == (0, 2)
    assert await _count(needs_db, point) == 2


async def test_planners_import_nothing(needs_db: ImportDb, point: Desk) -> None:
    planner = await needs_db.login("planner-import", "planner")
    data = f"category,comune,urgency,recorded_on,outcome\nbadante,{LECCO},low,{_day(1)},declined\n"
    body = await _upload(needs_db, data, planner)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
