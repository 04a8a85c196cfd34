"""The command line takes the global ids the API hands out (or the bare uuids inside them)
and names the option when an id is of the wrong type."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.ids import from_global_id
from tests.auth.test_auth import _cli

IDS = """
{
  welfarePoints(first: 1) { edges { node { id name } } }
  services(first: 1, orderBy: NAME) { edges { node { id } } }
}
"""


async def test_users_and_slots_take_the_apis_global_ids(
    gql: Any, db_url: str, engine: AsyncEngine
) -> None:
    data = (await gql(IDS)).data
    point = data["welfarePoints"]["edges"][0]["node"]
    service = data["services"]["edges"][0]["node"]["id"]
    start = (datetime.now(UTC) + timedelta(days=9)).replace(hour=3, minute=7, second=0)
    window = ("--start", start.isoformat(), "--end", (start + timedelta(minutes=17)).isoformat())
    run = asyncio.to_thread

    added = await run(
        _cli, db_url, "users", "add", "cli-ids", "--role", "mapper", "--welfare-point", point["id"]
    )
    wrong = await run(
        _cli, db_url, "users", "add", "cli-ids-2", "--role", "mapper", "--welfare-point", service
    )
    listing = (await run(_cli, db_url, "users", "list")).stdout
    published = await run(_cli, db_url, "slots", service, *window)
    try:
        async with engine.connect() as conn:
            made = await conn.scalar(
                text("SELECT count(*) FROM slot WHERE service_id = :s AND starts_at = :t"),
                {"s": from_global_id(service)[1], "t": start},
            )
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM slot WHERE starts_at = :t"), {"t": start})

    assert added.returncode == 0, added.stderr
    rows = listing.splitlines()
    assert any(row.startswith("cli-ids ") and row.endswith(point["name"]) for row in rows)
    assert wrong.returncode == 2 and "--welfare-point" in wrong.stderr
    assert "is not the id of a WelfarePoint" in wrong.stderr
    assert published.returncode == 0 and made == 1, published.stderr
