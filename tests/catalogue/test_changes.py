"""The change feed: a copy of the published catalogue kept through ``changes`` alone equals the
catalogue after imports, edits, archives and merges; a transaction that commits late is never
skipped; a purged cursor says to read afresh."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from ambrogio.catalogue import changes as statements
from ambrogio.ids import from_global_id, to_global_id
from ambrogio.settings import Settings
from tests.support.editing import ARCHIVE_PROVIDER, UPDATE_PROVIDER
from tests.support.import_db import ImportDb, import_db
from tests.support.import_files import feature, geojson

FEED = """
query Feed($after: String) {
  changes(after: $after, first: 100) {
    edges { cursor node { type id change published survivorId at } }
    pageInfo { hasNextPage endCursor }
  }
  changesHead
}
"""

MERGE = """
mutation Merge($keep: ID!, $merge: ID!) {
  mergeProviders(keepId: $keep, mergeId: $merge) { provider { id } }
}
"""

PUBLISHED = {
    "Provider": "SELECT id FROM organization WHERE status = 'published' AND merged_into_id IS NULL",
    "Service": "SELECT id FROM service WHERE status = 'published'",
    "Location": "SELECT id FROM location WHERE status = 'published'",
}


@pytest.fixture(scope="module")
async def feed_db(settings: Settings, template_db: str) -> AsyncIterator[ImportDb]:
    async for db in import_db(settings, f"ambrogio_feed_{os.getpid()}", template_db):
        yield db


async def published(db: ImportDb) -> dict[str, set[str]]:
    return {kind: {str(row[0]) for row in await db.rows(sql)} for kind, sql in PUBLISHED.items()}


async def settled(db: ImportDb) -> None:
    """Wait until every transaction begun before now has ended, on the whole server (the feed
    shows a change once all older transactions are over; other databases' count too)."""
    now = int(await db.scalar("SELECT pg_current_xact_id()::text::bigint"))
    for _ in range(600):
        oldest = int(
            await db.scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        )
        if oldest > now:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("a transaction on the server stayed open for 30 s")


async def follow(db: ImportDb, after: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Every change after the cursor, and the cursor to go on from."""
    await settled(db)
    seen: list[dict[str, Any]] = []
    while True:
        result = await db.gql(FEED, after=after)
        assert not result.errors, result.errors
        page = result.data["changes"]
        seen += [edge["node"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"] or after
        if not page["pageInfo"]["hasNextPage"]:
            return seen, after


async def read_now(db: ImportDb, after: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The changes the feed shows right now, without waiting for open transactions."""
    result = await db.gql(FEED, after=after)
    page = result.data["changes"]
    return [edge["node"] for edge in page["edges"]], page["pageInfo"]["endCursor"] or after


def replay(mirror: dict[str, set[str]], seen: list[dict[str, Any]]) -> None:
    for change in seen:
        if change["type"] not in mirror:
            continue
        key = from_global_id(change["id"])[1]
        (mirror[change["type"]].add if change["published"] else mirror[change["type"]].discard)(key)


async def version(db: ImportDb, key: str) -> int:
    return int(await db.scalar("SELECT version FROM organization WHERE id = :k", k=uuid.UUID(key)))


async def test_a_copy_kept_through_the_feed_equals_the_catalogue(feed_db: ImportDb) -> None:
    db = feed_db
    reviewer = await db.login("feed-reviewer", "reviewer")
    # given a catalogue imported once, and a copy of it read whole, with the feed's head
    first = geojson(*(feature(f"f{n}", lat=45.85 + n / 1000) for n in range(6)))
    assert (await db.upload(first, source="feed", headers=reviewer)).data
    head = (await db.gql(FEED)).data["changesHead"]
    mirror = await published(db)
    assert len(mirror["Provider"]) == 6

    # when providers are re-imported (one renamed, one added), edited, archived and merged,
    # some of it at the same time
    ids = sorted(mirror["Provider"])
    again = geojson(
        *(feature(f"f{n}", lat=45.85 + n / 1000) for n in range(1, 6)),
        feature("f0", lat=45.85, name="Cooperativa Rinominata"),
        feature("f9", lat=45.86),
    )
    edits = [
        db.upload(again, source="feed", headers=reviewer),
        db.gql(
            UPDATE_PROVIDER,
            _headers=reviewer,
            id=to_global_id("Provider", ids[1]),
            version=await version(db, ids[1]),
            input={"name": "Nome Nuovo Srl"},
        ),
    ]
    for result in await asyncio.gather(*edits):
        assert not result.errors, result.errors
    archived = await db.gql(
        ARCHIVE_PROVIDER,
        _headers=reviewer,
        id=to_global_id("Provider", ids[2]),
        version=await version(db, ids[2]),
    )
    merged = await db.gql(
        MERGE,
        _headers=reviewer,
        keep=to_global_id("Provider", ids[3]),
        merge=to_global_id("Provider", ids[4]),
    )
    assert not archived.errors and not merged.errors, (archived.errors, merged.errors)

    # then replaying the feed from the head gives the catalogue, record for record
    seen, _ = await follow(db, head)
    replay(mirror, seen)
    assert mirror == await published(db)
    kinds = {(c["type"], c["change"]) for c in seen}
    assert {("Provider", kind) for kind in ("CREATE", "UPDATE", "ARCHIVE", "MERGE")} <= kinds
    merge = next(c for c in seen if c["change"] == "MERGE")
    assert merge["survivorId"] == to_global_id("Provider", ids[3])


async def test_a_late_commit_is_never_skipped(feed_db: ImportDb) -> None:
    db = feed_db
    keys = [str(row[0]) for row in await db.rows(PUBLISHED["Provider"] + " ORDER BY id LIMIT 2")]
    _, cursor = await follow(db, None)
    async with db.engine.connect() as early, db.engine.connect() as late:
        # given a transaction that writes first and commits last
        early_tx = await early.begin()
        await early.execute(
            text("UPDATE organization SET description = 'early' WHERE id = :k"),
            {"k": uuid.UUID(keys[0])},
        )
        async with late.begin():
            await late.execute(
                text("UPDATE organization SET description = 'late' WHERE id = :k"),
                {"k": uuid.UUID(keys[1])},
            )
        # when the feed is read while the first is still open
        during, cursor = await read_now(db, cursor)
        await early_tx.commit()
    after, _ = await follow(db, cursor)

    # then neither change is lost: the one committed first waits for the older transaction
    ids = [from_global_id(c["id"])[1] for c in during + after]
    assert keys[0] in ids and keys[1] in ids
    assert [from_global_id(c["id"])[1] for c in during] == []


async def test_a_cursor_behind_the_purge_says_to_read_afresh(feed_db: ImportDb) -> None:
    db = feed_db
    seen, cursor = await follow(db, None)
    assert seen and cursor
    first = (await db.gql(FEED)).data["changes"]["edges"][0]["cursor"]
    async with db.sessionmaker() as session, session.begin():
        last = (await session.execute(statements.head())).first()
        assert last is not None
        for statement in statements.purge(*last):
            await session.execute(statement)

    stale = await db.gql(FEED, after=first)
    fresh = await db.gql(FEED, after=cursor)
    garbage = await db.gql(FEED, after="not-a-cursor")

    assert stale.codes == ["BAD_USER_INPUT"] and "afresh" in stale.errors[0]["message"]
    assert not fresh.errors and fresh.data["changes"]["edges"] == []
    assert garbage.codes == ["BAD_USER_INPUT"]
