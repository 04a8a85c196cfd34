"""An Ambrogio of its own for the import tests: a fresh database, its app, users and uploads.

Imports write thousands of rows; the session database's demo data, which other tests count
on, stays untouched.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ambrogio.app import build_app
from ambrogio.auth.tokens import issue_token
from ambrogio.db.models import AppUser
from ambrogio.db.session import create_engine, create_sessionmaker, drop_database
from ambrogio.reference import load_reference
from ambrogio.settings import Settings
from tests.support.database import create_test_database
from tests.support.graphql import GraphQLResult

IMPORT = """
mutation Import($file: Upload!, $format: ImportFormat!, $source: String!, $dryRun: Boolean,
                $skipBadRows: Boolean) {
  importProviders(file: $file, format: $format, source: $source, dryRun: $dryRun,
                  skipBadRows: $skipBadRows) {
    id status dryRun rows created updated unchanged skipped duplicatesFlagged failure
    startedAt finishedAt
    errors { row field value reason }
    warnings { row field value reason }
  }
}
"""

CATALOGUE = (
    "organization",
    "location",
    "service",
    "service_category",
    "cost_option",
    "service_at_location",
    "taxonomy_term",
    "duplicate_candidate",
    "audit_event",
)


@dataclass
class ImportDb:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    client: httpx.AsyncClient

    async def login(self, name: str, role: str) -> dict[str, str]:
        async with self.sessionmaker() as session:
            await session.execute(
                pg_insert(AppUser)
                .values(name=name, role=role)
                .on_conflict_do_update(index_elements=[AppUser.name], set_={"role": role})
            )
            await session.commit()
        return {"Authorization": f"Bearer {issue_token(self.settings, name)}"}

    async def gql(
        self, query: str, _headers: dict[str, str] | None = None, **variables: Any
    ) -> GraphQLResult:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=_headers or {}
        )
        body = response.json()
        return GraphQLResult(response.status_code, body.get("data"), body.get("errors") or [])

    async def upload(
        self,
        data: bytes,
        *,
        source: str,
        headers: dict[str, str] | None,
        filename: str = "providers.geojson",
        fmt: str = "GEOJSON",
        dry_run: bool = False,
        skip_bad_rows: bool = False,
    ) -> GraphQLResult:
        """``importProviders`` as a GraphQL multipart request (operations, map, file)."""
        operations = {
            "query": IMPORT,
            "variables": {
                "file": None,
                "format": fmt,
                "source": source,
                "dryRun": dry_run,
                "skipBadRows": skip_bad_rows,
            },
        }
        response = await self.client.post(
            "/graphql",
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.file"]}),
            },
            files={"0": (filename, data, "application/octet-stream")},
            # multipart/form-data is a "simple" content type: the CSRF rule wants this header
            headers={"Apollo-Require-Preflight": "true", **(headers or {})},
        )
        body = response.json()
        return GraphQLResult(response.status_code, body.get("data"), body.get("errors") or [])

    async def counts(self) -> dict[str, int]:
        async with self.engine.connect() as conn:
            return {
                table: int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
                for table in CATALOGUE
            }

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())


async def import_db(settings: Settings, name: str, template: str) -> AsyncIterator[ImportDb]:
    """An Ambrogio on a copy of the migrated ``template`` named ``name``, dropped at the end."""
    await drop_database(settings, name)
    url = await create_test_database(settings, name, template)
    own = settings.model_copy(update={"database_url": url, "database_name": name})
    engine = create_engine(own, url)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        await load_reference(session)
        await session.commit()
    app = build_app(own, engine=engine)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ambrogio.test") as c:
                yield ImportDb(own, engine, sessionmaker, c)
    finally:
        await engine.dispose()
        await drop_database(settings, name)
