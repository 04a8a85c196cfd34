"""The change feed written once per statement (migration 0021): the entries of a statement
that writes many rows are those a trigger per row wrote, and one notification names them."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ambrogio.catalogue import changes as statements
from ambrogio.db.notifications import CATALOGUE_CHANNEL
from ambrogio.settings import Settings
from tests.support.import_db import ImportDb, import_db

ENTRIES = (
    "SELECT seq, txid, entity, record_id, change, survivor_id, published_before, published_after "
    "FROM change_event WHERE seq > :after ORDER BY seq"
)
NEW_PROVIDERS = (
    "INSERT INTO organization (id, name, kind, status) SELECT id, 'Nuova ' || n, 'business', s "
    "FROM unnest(CAST(:ids AS uuid[]), CAST(:statuses AS text[])) WITH ORDINALITY AS x(id, s, n)"
)


@pytest.fixture(scope="module")
async def fresh(settings: Settings, template_db: str) -> AsyncIterator[ImportDb]:
    async for db in import_db(settings, f"ambrogio_feedstmt_{os.getpid()}", template_db):
        yield db


async def entries(conn: AsyncConnection, after: int) -> list[dict[str, Any]]:
    rows = (await conn.execute(text(ENTRIES), {"after": after})).mappings().all()
    return [dict(row) for row in rows]


def changes(found: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    keys = ("entity", "record_id", "change", "survivor_id", "published_before", "published_after")
    return {tuple(entry[key] for key in keys) for entry in found}


async def test_each_kind_of_change_of_many_rows_is_one_entry_per_changed_row(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as conn:
        trans = await conn.begin()
        try:
            # given three published providers, and the feed so far
            p1, p2, p3 = (
                row[0]
                for row in await conn.execute(
                    text(
                        "SELECT id FROM organization WHERE status = 'published' "
                        "AND merged_into_id IS NULL ORDER BY id LIMIT 3"
                    )
                )
            )
            after = int(await conn.scalar(text("SELECT coalesce(max(seq), 0) FROM change_event")))
            # when one statement archives p1, rewrites p2 as it is and edits p3
            await conn.execute(
                text(
                    "UPDATE organization SET "
                    "status = CASE WHEN id = :a THEN 'archived' ELSE status END, "
                    "description = CASE WHEN id = :c THEN 'altro' ELSE description END "
                    "WHERE id IN (:a, :b, :c)"
                ),
                {"a": p1, "b": p2, "c": p3},
            )
            # then an entry for each changed row, none for the row left as it was
            first = await entries(conn, after)
            assert changes(first) == {
                ("provider", p1, "archive", None, True, False),
                ("provider", p3, "update", None, True, True),
            }
            # when p2 is merged into p3, p1 published again, two providers created and deleted
            await conn.execute(
                text("UPDATE organization SET merged_into_id = :c WHERE id = :b"),
                {"b": p2, "c": p3},
            )
            await conn.execute(
                text("UPDATE organization SET status = 'published' WHERE id = :a"), {"a": p1}
            )
            new = [uuid.uuid4(), uuid.uuid4()]
            await conn.execute(
                text(NEW_PROVIDERS), {"ids": new, "statuses": ["published", "draft"]}
            )
            await conn.execute(text("DELETE FROM organization WHERE id = ANY(:ids)"), {"ids": new})
            # then, statement after statement, in seq order, in one transaction
            found = await entries(conn, after)
            assert len({entry["txid"] for entry in found}) == 1
            later = found[len(first) :]
            assert [(e["record_id"], e["change"]) for e in later[:2]] == [
                (p2, "merge"),
                (p1, "publish"),
            ]
            assert changes(later) == {
                ("provider", p2, "merge", p3, True, False),
                ("provider", p1, "publish", None, False, True),
                ("provider", new[0], "create", None, False, True),
                ("provider", new[1], "create", None, False, False),
                ("provider", new[0], "delete", None, True, False),
                ("provider", new[1], "delete", None, False, False),
            }
            assert [e["change"] for e in later[2:]] == ["create", "create", "delete", "delete"]
        finally:
            await trans.rollback()


def test_a_notification_names_one_entry_or_a_statements_range() -> None:
    assert statements.notified("17") == (17, 17)
    assert statements.notified("17-42") == (17, 42)
    for bad in ("", "-", "17-", "a-b", "17-x", "-3"):
        assert statements.notified(bad) is None


async def test_a_statement_writing_many_public_rows_notifies_once_for_all(
    fresh: ImportDb,
) -> None:
    # given a listener
    async with fresh.engine.connect() as listening:
        raw: Any = (await listening.get_raw_connection()).driver_connection
        heard: asyncio.Queue[str] = asyncio.Queue()
        await raw.add_listener(CATALOGUE_CHANNEL, lambda *args: heard.put_nowait(args[3]))
        # when one statement creates three providers, two of them published, and commits
        new = [uuid.uuid4() for _ in range(3)]
        async with fresh.engine.begin() as conn:
            await conn.execute(
                text(NEW_PROVIDERS), {"ids": new, "statuses": ["published", "draft", "published"]}
            )
        payload = await asyncio.wait_for(heard.get(), timeout=10)
        await asyncio.sleep(0.2)
        # then one notification, whose range holds exactly the public entries of that statement
        assert heard.empty()
        entries = statements.notified(payload)
        assert entries is not None
        async with fresh.engine.connect() as conn:
            named = (
                await conn.execute(
                    text(
                        "SELECT record_id FROM change_event WHERE seq BETWEEN :a AND :b "
                        "AND (published_before OR published_after) ORDER BY seq"
                    ),
                    {"a": entries[0], "b": entries[1]},
                )
            ).all()
        assert [row[0] for row in named] == [new[0], new[2]]
