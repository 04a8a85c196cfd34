"""The stored GraphQL documents of persisted operations (``persisted_document``)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ambrogio.db.models import PersistedDocument

PREFIX = "sha256:"
# ``used_at`` is kept to this resolution: a document in use is written once an hour at most.
USE_RESOLUTION_SECONDS = 3600


def document_id(body: str) -> str:
    """A document's id: ``sha256:`` and the hex digest of its UTF-8 text (what Apollo Client's
    persisted-queries link and the persisted-documents manifests compute)."""
    return PREFIX + hashlib.sha256(body.encode()).hexdigest()


async def find(
    sessionmaker: async_sessionmaker[AsyncSession], ident: str
) -> tuple[str, bool] | None:
    """The document's text and whether an operator registered it, or None."""
    async with sessionmaker() as session:
        row = (
            await session.execute(
                select(PersistedDocument.body, PersistedDocument.registered).where(
                    PersistedDocument.id == ident
                )
            )
        ).one_or_none()
    return None if row is None else (row.body, row.registered)


async def remember(sessionmaker: async_sessionmaker[AsyncSession], body: str) -> None:
    """Keep a document a client sent with its hash (automatic persisted queries)."""
    async with sessionmaker() as session, session.begin():
        await session.execute(
            insert(PersistedDocument)
            .values(id=document_id(body), body=body)
            .on_conflict_do_nothing(index_elements=[PersistedDocument.id])
        )


async def touch(sessionmaker: async_sessionmaker[AsyncSession], ident: str) -> None:
    """Note that a document ran (``used_at``), unless that was noted within the hour."""
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(PersistedDocument)
            .where(
                PersistedDocument.id == ident,
                PersistedDocument.used_at < func.now() - timedelta(seconds=USE_RESOLUTION_SECONDS),
            )
            .values(used_at=func.now())
        )


async def register(session: AsyncSession, bodies: list[str], client: str | None) -> int:
    """Register documents from a client's manifest (trusted documents); returns how many were
    not registered before."""
    ids = {document_id(body): body for body in bodies}
    known = set(
        (
            await session.scalars(
                select(PersistedDocument.id).where(
                    PersistedDocument.id.in_(ids), PersistedDocument.registered
                )
            )
        ).all()
    )
    if ids:
        statement = insert(PersistedDocument).values(
            [{"id": i, "body": b, "registered": True, "client": client} for i, b in ids.items()]
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[PersistedDocument.id],
                set_={"registered": True, "client": statement.excluded.client},
            )
        )
    return len(set(ids) - known)
