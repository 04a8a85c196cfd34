"""A killed import leaves the catalogue exactly as it was: the data are one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from ambrogio.demo.purge import delete_source
from ambrogio.importing import jobs
from ambrogio.settings import Settings
from bench.import_bench import generate
from tests.support.import_db import CATALOGUE, ImportDb, import_db
from tests.support.import_files import feature, geojson

ROOT = Path(__file__).resolve().parents[2]
# Statements that only the merge runs: seeing one means the import is past staging.
MERGE_MARKERS = ("WITH up AS", "imp_changed", "INSERT INTO service_category")


@pytest.fixture(scope="module")
async def crash_db(settings: Settings, template_db: str) -> AsyncIterator[ImportDb]:
    async for db in import_db(settings, f"ambrogio_imp_crash_{os.getpid()}", template_db):
        yield db


async def _fingerprint(db: ImportDb) -> dict[str, str]:
    """Every row of every catalogue table, hashed: equal only when the contents are equal."""
    out = {}
    for table in (*CATALOGUE, "opening_hours_set"):
        out[table] = await db.scalar(
            "SELECT count(*) || ':' || "
            f"coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM {table} t"
        )
    return out


async def _merging(db: ImportDb) -> bool:
    queries = await db.rows(
        "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND state = 'active'"
    )
    return any(marker in query for (query,) in queries for marker in MERGE_MARKERS)


async def _backends_gone(db: ImportDb, seconds: float) -> None:
    """Wait until the killed process's server sessions are over (rolled back)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = await db.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND application_name = 'ambrogio' "
            "AND backend_type = 'client backend' AND state <> 'idle'"
        )
        if left == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the killed import's transaction is still open")


async def test_killing_an_import_in_the_merge_leaves_the_database_as_before(
    crash_db: ImportDb, tmp_path: Path
) -> None:
    # given: a catalogue with something in it, and a large file
    headers = await crash_db.login("crash-reviewer", "reviewer")
    first = await crash_db.upload(geojson(feature("kept")), source="crash", headers=headers)
    assert first.data["importProviders"]["created"] == 1
    path = tmp_path / "large.geojson"
    path.write_bytes(generate(8000, seed=7))
    env = {**os.environ, "DATABASE_URL": crash_db.settings.database_url or ""}
    env["DATABASE_URL"] = env["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    killed_in_merge = False
    for _attempt in range(3):
        before = await _fingerprint(crash_db)
        # when: the import is killed while it merges
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ambrogio.cli", "import", str(path), "--source", "crash",
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            while process.returncode is None and not killed_in_merge:
                if await _merging(crash_db):
                    process.send_signal(signal.SIGKILL)
                    killed_in_merge = True
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(process.wait(), 0.02)
        finally:
            if process.returncode is None and not killed_in_merge:
                process.kill()
            await process.wait()
        if killed_in_merge:
            break
        # It finished before its merge was seen: undo it and try again from there.
        async with crash_db.sessionmaker() as session:
            await delete_source(session, "crash")
            await session.commit()
    assert killed_in_merge, "the import never got caught in its merge"
    assert process.returncode == -signal.SIGKILL
    # then
    await _backends_gone(crash_db, seconds=60)
    assert await _fingerprint(crash_db) == before
    last_job = "SELECT status, failure FROM import_job WHERE source = 'crash' ORDER BY started_at DESC LIMIT 1"  # noqa: E501
    status, _ = (await crash_db.rows(last_job))[0]
    assert status == "running"
    # and once its grace period is over, the job that lost its process shows as interrupted
    # (a running import holds its lock: the sweep leaves it alone)
    async with crash_db.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE import_job SET started_at = started_at - interval '1 hour' "
                "WHERE source = 'crash' AND status = 'running'"
            )
        )
    listed = await crash_db.gql(
        "{ importJobs(first: 5) { edges { node { status failure } } } }", headers
    )
    interrupted = [
        edge["node"]
        for edge in listed.data["importJobs"]["edges"]
        if (edge["node"]["failure"] or "").startswith("interrupted")
    ]
    assert [node["status"] for node in interrupted] == ["FAILED"]
    statuses = await crash_db.rows(
        "SELECT status, count(*) FROM import_job WHERE source = 'crash' GROUP BY 1 ORDER BY 1"
    )
    assert ("running", 1) not in [tuple(row) for row in statuses]


async def test_a_running_import_holds_its_lock_and_is_not_swept(crash_db: ImportDb) -> None:
    # given a job that started an hour ago, still running
    job = await jobs.start_job(
        crash_db.sessionmaker,
        source="sweep",
        fmt="geojson",
        filename=None,
        data=b"{}",
        caller="cli",
        dry_run=False,
        skip_bad_rows=False,
    )
    async with crash_db.engine.begin() as conn:
        await conn.execute(
            text("UPDATE import_job SET started_at = now() - interval '1 hour' WHERE id = :id"),
            {"id": job.id},
        )
    status = "SELECT status FROM import_job WHERE id = :id"

    # while its process holds the lock, the sweep leaves it alone
    async with jobs.holding(crash_db.sessionmaker, job.id):
        async with crash_db.sessionmaker() as session, session.begin():
            await jobs.mark_interrupted(session)
        assert await crash_db.scalar(status, id=job.id) == "running"

    # once the lock is gone (as when the process dies), it is recorded as interrupted
    async with crash_db.sessionmaker() as session, session.begin():
        assert await jobs.mark_interrupted(session) >= 1
    assert await crash_db.scalar(status, id=job.id) == "failed"
