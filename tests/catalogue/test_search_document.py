"""The providers' search documents follow every write that changes what they hold.

Each test writes with plain SQL, as an import or another tool would, inside a transaction it
rolls back, and reads ``provider_search`` in the same transaction: the triggers (migration
0013) must have rebuilt the documents of exactly the providers the write touched.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ambrogio.ids import record_id
from ambrogio.taxonomy import term_id

SOURCE = "test-search-document"


@pytest.fixture
async def conn(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        transaction = await conn.begin()
        yield conn
        await transaction.rollback()


async def _provider(conn: AsyncConnection, key: str, name: str) -> uuid.UUID:
    org = record_id(SOURCE, key)
    await conn.execute(
        text(
            "INSERT INTO organization (id, source, external_id, name, kind, status)"
            " VALUES (:id, :source, :key, :name, 'business', 'published')"
        ),
        {"id": org, "source": SOURCE, "key": key, "name": name},
    )
    return org


async def _service(conn: AsyncConnection, org: uuid.UUID, key: str, name: str) -> uuid.UUID:
    service = record_id(SOURCE, key)
    await conn.execute(
        text(
            "INSERT INTO service (id, source, external_id, organization_id, name, status)"
            " VALUES (:id, :source, :key, :org, :name, 'published')"
        ),
        {"id": service, "source": SOURCE, "key": key, "org": org, "name": name},
    )
    return service


async def _finds(conn: AsyncConnection, org: uuid.UUID, words: str) -> bool:
    """Whether the provider's document matches the words, and its names hold them."""
    row = (
        await conn.execute(
            text(
                "SELECT document @@ websearch_to_tsquery('italian', ambrogio_unaccent(:words))"
                " FROM provider_search WHERE organization_id = :org"
            ),
            {"org": org, "words": words},
        )
    ).one()
    return bool(row[0])


async def _names(conn: AsyncConnection, org: uuid.UUID) -> str:
    return str(
        (
            await conn.execute(
                text("SELECT names FROM provider_search WHERE organization_id = :org"),
                {"org": org},
            )
        ).scalar_one()
    )


async def test_a_new_provider_and_its_services(conn: AsyncConnection) -> None:
    org = await _provider(conn, "p1", "Bottega Zefiro")
    assert await _finds(conn, org, "zefiro")
    assert not await _finds(conn, org, "ceramica")

    service = await _service(conn, org, "s1", "Laboratorio di ceramica")
    assert await _finds(conn, org, "ceramiche")  # stemmed
    assert await _names(conn, org) == "bottega zefiro laboratorio di ceramica"

    await conn.execute(
        text("INSERT INTO service_category (service_id, term_id) VALUES (:s, :t)"),
        {"s": service, "t": term_id("fisioterapia")},
    )
    # The category's label, a synonym, and its parent's label.
    for words in ("fisioterapia", "fisiokinesiterapia", "salute e benessere"):
        assert await _finds(conn, org, words), words


async def test_a_service_renamed_archived_moved_and_deleted(conn: AsyncConnection) -> None:
    first = await _provider(conn, "p2", "Studio Alfa")
    second = await _provider(conn, "p3", "Studio Beta")
    service = await _service(conn, first, "s2", "Corso di origami")
    assert await _finds(conn, first, "origami")

    await conn.execute(
        text("UPDATE service SET name = 'Corso di kirigami' WHERE id = :s"), {"s": service}
    )
    assert not await _finds(conn, first, "origami")
    assert await _finds(conn, first, "kirigami")

    await conn.execute(text("UPDATE service SET status = 'archived' WHERE id = :s"), {"s": service})
    assert not await _finds(conn, first, "kirigami")

    await conn.execute(
        text("UPDATE service SET status = 'published', organization_id = :o WHERE id = :s"),
        {"s": service, "o": second},
    )
    assert not await _finds(conn, first, "kirigami")
    assert await _finds(conn, second, "kirigami")

    await conn.execute(text("DELETE FROM service WHERE id = :s"), {"s": service})
    assert not await _finds(conn, second, "kirigami")
    assert await _names(conn, second) == "studio beta"


async def test_a_category_losing_a_service_and_gaining_a_synonym(conn: AsyncConnection) -> None:
    org = await _provider(conn, "p4", "Studio Gamma")
    service = await _service(conn, org, "s3", "Seduta")
    await conn.execute(
        text("INSERT INTO service_category (service_id, term_id) VALUES (:s, :t)"),
        {"s": service, "t": term_id("logopedia")},
    )
    assert not await _finds(conn, org, "balbuzie")

    await conn.execute(
        text("UPDATE taxonomy_term SET synonyms = synonyms || '{balbuzie}' WHERE id = :t"),
        {"t": term_id("logopedia")},
    )
    assert await _finds(conn, org, "balbuzie")

    await conn.execute(text("DELETE FROM service_category WHERE service_id = :s"), {"s": service})
    assert not await _finds(conn, org, "balbuzie")
    assert not await _finds(conn, org, "logopedia")


async def test_one_statement_writing_many_providers(conn: AsyncConnection) -> None:
    """A bulk ``INSERT … SELECT`` (the synthetic data, an import's merge) gets every document."""
    await conn.execute(
        text(
            "INSERT INTO organization (id, source, external_id, name, kind, status)"
            " SELECT uuid_generate_v5(uuid_nil(), 'bulk' || n), :source, 'bulk-' || n,"
            " 'Bulk ' || n || ' Quokka', 'business', 'published' FROM generate_series(1, 50) AS n"
        ),
        {"source": SOURCE},
    )
    await conn.execute(
        text(
            "INSERT INTO service (id, source, external_id, organization_id, name, status)"
            " SELECT uuid_generate_v5(uuid_nil(), 'bulk-s' || n), :source, 'bulk-s-' || n,"
            " uuid_generate_v5(uuid_nil(), 'bulk' || n), 'Wombat ' || n, 'published'"
            " FROM generate_series(1, 50) AS n"
        ),
        {"source": SOURCE},
    )
    counts = (
        await conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE document @@ to_tsquery('italian', 'quokka')),"
                " count(*) FILTER (WHERE document @@ to_tsquery('italian', 'wombat'))"
                " FROM provider_search JOIN organization ON id = organization_id"
                " WHERE source = :source"
            ),
            {"source": SOURCE},
        )
    ).one()
    assert tuple(counts) == (50, 50)
