"""``totalCount`` of the reviewers' lists is the whole list's count, checked against the
database, and counted only when selected."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.ids import to_global_id

ROWS = 7
PAGE = 2
AUTHOR = "count-test"


@pytest.fixture
async def reviewer(login: Any) -> dict[str, str]:
    headers: dict[str, str] = await login("count-rita", "reviewer")
    return headers


@pytest.fixture
async def provider(engine: AsyncEngine) -> uuid.UUID:
    async with engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT id FROM organization WHERE status = 'published' ORDER BY id LIMIT 1")
        )
    assert found is not None
    return found


@pytest.fixture
async def extra_rows(engine: AsyncEngine, provider: uuid.UUID) -> AsyncIterator[None]:
    """More pending change requests, open duplicate pairs and audit events than one page."""
    async with engine.begin() as conn:
        for _ in range(ROWS):
            await conn.execute(
                text(
                    "INSERT INTO change_request (id, entity_type, entity_id, action, payload,"
                    " author) VALUES (:id, 'provider', :entity, 'update', '{}', :author)"
                ),
                {"id": uuid.uuid4(), "entity": provider, "author": AUTHOR},
            )
            await conn.execute(
                text(
                    "INSERT INTO audit_event (actor, action, entity_type, entity_id)"
                    " VALUES (:author, 'update', 'provider', :entity)"
                ),
                {"entity": provider, "author": AUTHOR},
            )
        ids = sorted(
            (await conn.execute(text("SELECT id FROM organization ORDER BY id LIMIT 40"))).scalars()
        )
        pairs = [(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]]
        made = (
            await conn.execute(
                text(
                    "INSERT INTO duplicate_candidate (provider_a, provider_b, reason)"
                    " SELECT a, b, 'tax_code' FROM unnest(CAST(:a AS uuid[]), CAST(:b AS uuid[]))"
                    " AS p(a, b) ON CONFLICT DO NOTHING RETURNING id"
                ),
                {"a": [a for a, _ in pairs[:ROWS]], "b": [b for _, b in pairs[:ROWS]]},
            )
        ).scalars()
        made_ids = list(made)
    yield
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM change_request WHERE author = :a"), {"a": AUTHOR})
        await conn.execute(text("DELETE FROM audit_event WHERE actor = :a"), {"a": AUTHOR})
        await conn.execute(
            text("DELETE FROM duplicate_candidate WHERE id = ANY(:ids)"), {"ids": made_ids}
        )


async def scalar(engine: AsyncEngine, sql: str, **params: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text(sql), params))


async def page(gql: Any, headers: dict[str, str], field: str, args: str) -> dict[str, Any]:
    result = await gql(
        f"{{ {field}({args}first: {PAGE}) {{ totalCount edges {{ cursor }} "
        "pageInfo { hasNextPage } } }",
        _headers=headers,
    )
    assert result.errors == [], result.errors
    connection: dict[str, Any] = result.data[field]
    assert len(connection["edges"]) == PAGE and connection["pageInfo"]["hasNextPage"]
    return connection


async def test_change_requests_count_the_whole_list(
    gql: Any, reviewer: dict[str, str], engine: AsyncEngine, extra_rows: None
) -> None:
    pending = await scalar(engine, "SELECT count(*) FROM change_request WHERE status = 'pending'")

    connection = await page(gql, reviewer, "changeRequests", "")

    assert pending >= ROWS > PAGE
    assert connection["totalCount"] == pending


async def test_duplicate_candidates_count_the_whole_list(
    gql: Any, reviewer: dict[str, str], engine: AsyncEngine, extra_rows: None
) -> None:
    open_pairs = await scalar(
        engine, "SELECT count(*) FROM duplicate_candidate WHERE status = 'open'"
    )
    dismissed = await scalar(
        engine, "SELECT count(*) FROM duplicate_candidate WHERE status = 'dismissed'"
    )

    connection = await page(gql, reviewer, "duplicateCandidates", "")
    other = await gql(
        "{ duplicateCandidates(status: DISMISSED) { totalCount } }", _headers=reviewer
    )

    assert open_pairs > PAGE
    assert connection["totalCount"] == open_pairs
    assert other.data["duplicateCandidates"]["totalCount"] == dismissed


async def test_the_audit_trail_counts_the_whole_trail(
    gql: Any, reviewer: dict[str, str], engine: AsyncEngine, provider: uuid.UUID, extra_rows: None
) -> None:
    events = await scalar(
        engine,
        "SELECT count(*) FROM audit_event WHERE entity_type = 'provider' AND entity_id = :id",
        id=provider,
    )
    entity = to_global_id("Provider", provider)

    connection = await page(gql, reviewer, "auditTrail", f'entityId: "{entity}", ')

    assert events >= ROWS
    assert connection["totalCount"] == events


async def test_the_freshness_queue_counts_every_due_record(
    gql: Any, reviewer: dict[str, str], engine: AsyncEngine
) -> None:
    # With olderThanMonths: 0 every published record is due (each was created in the past).
    published = await scalar(
        engine,
        "SELECT (SELECT count(*) FROM organization WHERE status = 'published'"
        " AND merged_into_id IS NULL)"
        " + (SELECT count(*) FROM location WHERE status = 'published')"
        " + (SELECT count(*) FROM service WHERE status = 'published')"
        " + (SELECT count(*) FROM welfare_point WHERE status = 'published')",
    )
    services = await scalar(engine, "SELECT count(*) FROM service WHERE status = 'published'")

    connection = await page(gql, reviewer, "freshnessQueue", "olderThanMonths: 0, ")
    only = await page(gql, reviewer, "freshnessQueue", "olderThanMonths: 0, entityType: SERVICE, ")

    assert published > services > 50
    assert connection["totalCount"] == published
    assert only["totalCount"] == services


async def test_the_count_runs_only_when_selected(
    gql: Any, reviewer: dict[str, str], statements: Any, extra_rows: None
) -> None:
    without = await gql("{ changeRequests(first: 2) { edges { cursor } } }", _headers=reviewer)
    counted_without = [s for s in statements.statements if "count(" in s.lower()]
    with_count = await gql("{ changeRequests(first: 2) { totalCount } }", _headers=reviewer)
    counted_with = [s for s in statements.statements if "count(" in s.lower()]

    assert without.errors == [] and with_count.errors == []
    assert counted_without == []
    assert len(counted_with) == 1 and "change_request" in counted_with[0]
