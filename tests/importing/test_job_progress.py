"""A running import's job says how many rows are validated, of how many, for GraphQL clients."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest

from ambrogio.db.models import ImportJob
from ambrogio.importing.jobs import JobProgress
from ambrogio.importing.validate import VALIDATING
from ambrogio.settings import Settings
from tests.support.import_db import ImportDb, import_db
from tests.support.import_files import feature, geojson


@pytest.fixture(scope="module")
async def imp(settings: Settings, template_db: str) -> AsyncIterator[ImportDb]:
    async for db in import_db(settings, f"ambrogio_jobprogress_{os.getpid()}", template_db):
        yield db


async def test_a_job_records_the_rows_validated_from_the_validating_thread(imp: ImportDb) -> None:
    # given a running job
    async with imp.sessionmaker() as session, session.begin():
        job = ImportJob(source="tracked", format="geojson", caller="tests", status="running")
        session.add(job)
    forwarded: list[tuple[str, int, int | None]] = []
    progress = JobProgress(imp.sessionmaker, job.id, lambda *call: forwarded.append(call))

    # when validation reports from its thread (later reports may commit first)
    def validating() -> None:
        progress(VALIDATING, 0, 3000)
        progress(VALIDATING, 2000, 3000)
        progress(VALIDATING, 1000, 3000)
        progress("writing", 0, None)

    await asyncio.to_thread(validating)
    await progress.flush()

    # then the job says how far it got, never less than the furthest report
    done, total = (
        await imp.rows("SELECT rows_done, rows_total FROM import_job WHERE id = :id", id=job.id)
    )[0]
    assert (done, total) == (2000, 3000)
    assert [step for step, _, _ in forwarded] == [VALIDATING] * 3 + ["writing"]


async def test_a_finished_import_shows_every_row_done_over_graphql(
    imp: ImportDb,
) -> None:
    reviewer = await imp.login("progress-reviewer", "reviewer")
    rows = 3
    data = geojson(*[feature(f"g{n}", lat=45.80 + n / 1000) for n in range(rows)])
    report = (await imp.upload(data, source="graphql-progress", headers=reviewer)).data
    job_id = report["importProviders"]["id"]

    result = await imp.gql(
        "query J($id: ID!) { importJob(id: $id) { status rowsDone rowsTotal } }",
        reviewer,
        id=job_id,
    )

    assert result.data["importJob"] == {"status": "SUCCEEDED", "rowsDone": rows, "rowsTotal": rows}
