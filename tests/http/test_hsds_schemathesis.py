"""The HSDS REST API fuzzed by schemathesis from the OpenAPI document it serves, against a
real ``ambrogio serve``: every answer conforms to the document (status, content type, headers,
body against the HSDS 3.0 schemas the document refers to, resolved from the server itself),
and none is a server error.

Bounded: a few examples per operation (about half of the ids and id filters are real ones, see
``tests/support/schemathesis_hooks.py``), one worker, a fixed seed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.export.pages import taxonomy_id
from tests.support.servers import serving

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)

OPERATIONS = 12
ROOT = Path(__file__).resolve().parents[2]

# A few real ids for each record path and id filter (published ones: the API shows no other).
REAL_IDS = {
    "/services/{id}": "SELECT s.id FROM service s JOIN organization o ON o.id = s.organization_id"
    " WHERE s.status = 'published' AND o.status = 'published' AND o.merged_into_id IS NULL",
    "/organizations/{id}": "SELECT id FROM organization"
    " WHERE status = 'published' AND merged_into_id IS NULL",
    "/service_at_locations/{id}": "SELECT sl.id FROM service_at_location sl"
    " JOIN service s ON s.id = sl.service_id JOIN location l ON l.id = sl.location_id"
    " JOIN organization o ON o.id = s.organization_id WHERE s.status = 'published'"
    " AND l.status = 'published' AND o.status = 'published' AND o.merged_into_id IS NULL",
    "/taxonomy_terms/{id}": "SELECT id FROM taxonomy_term WHERE status = 'published'",
    "postcode": "SELECT DISTINCT cap FROM location WHERE cap IS NOT NULL",
}
REAL_IDS["organization_id"] = REAL_IDS["/organizations/{id}"]
REAL_IDS["taxonomy_term_id"] = REAL_IDS["parent_id"] = REAL_IDS["/taxonomy_terms/{id}"]


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    logs = tmp_path_factory.mktemp("hsds-schemathesis")
    with serving(db_url, logs) as (port,):
        yield port, logs


@pytest.fixture(scope="module")
async def real_ids(engine: AsyncEngine) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    async with engine.connect() as conn:
        for key, sql in REAL_IDS.items():
            rows = await conn.execute(text(f"SELECT * FROM ({sql}) AS r ORDER BY 1 LIMIT 20"))
            found[key] = [str(row[0]) for row in rows]
        vocabularies = await conn.execute(
            text("SELECT DISTINCT vocabulary FROM taxonomy_term WHERE status = 'published'")
        )
        taxonomies = [str(taxonomy_id(row[0])) for row in vocabularies]
    return {**found, "/taxonomies/{id}": taxonomies, "taxonomy_id": taxonomies}


def test_every_answer_conforms_to_the_served_openapi_document(
    server: tuple[int, Path], real_ids: dict[str, list[str]], tmp_path: Path
) -> None:
    port, logs = server
    ids = real_ids
    assert all(ids.values()), ids
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.support.schemathesis_hooks",
        "AMBROGIO_HSDS_IDS": json.dumps(ids),
        "PYTHONPATH": str(ROOT),
    }
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"http://127.0.0.1:{port}/hsds/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "10",
        "--workers",
        "1",
        "--seed",
        "20261202",
        "--request-timeout",
        "30",
    ]
    run = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )

    log = (logs / f"serve-{port}.log").read_text(errors="replace")
    assert run.returncode == 0, f"{run.stdout[-20000:]}\n{run.stderr[-5000:]}"
    assert "Traceback" not in log, log[-5000:]
    # Every $ref resolved (from this server: the HSDS schemas it serves under /hsds/schemas/).
    assert "Unresolvable" not in run.stdout, run.stdout[-5000:]
    # The run tested every operation, many cases each (not an empty run that passes).
    tested = re.search(r"Tested: (\d+)", run.stdout)
    cases = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert tested and int(tested[1]) == OPERATIONS, run.stdout[-3000:]
    assert cases and int(cases[1]) == int(cases[2]) > 20 * OPERATIONS, run.stdout[-3000:]
