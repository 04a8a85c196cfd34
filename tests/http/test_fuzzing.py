"""Property-based fuzzing of the whole schema (schemathesis, GraphQL mode) against a running
server: every query and mutation, with generated arguments and selections, a few examples
each; no answer may be a server error (a 5xx, an uncoded or an unexpected error)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes

from ambrogio.schema.build import build_schema
from tests.support.servers import serving

# Scalars of ours schemathesis does not know: any JSON value, and no file (uploads are
# multipart requests, tested in test_attacks.py).
schemathesis.graphql.scalar("JSON", st.just(nodes.Object([])))
schemathesis.graphql.scalar("Upload", st.just(nodes.Null))


@pytest.fixture(scope="module")
def url(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(db_url, tmp_path_factory.mktemp("fuzzing")) as (port,):
        yield f"http://127.0.0.1:{port}/graphql"


def test_no_operation_is_a_server_error(url: str) -> None:
    operations = [result.ok() for result in schemathesis.graphql.from_url(url).get_all_operations()]
    roots = build_schema()._schema
    assert roots.query_type is not None and roots.mutation_type is not None
    # every root field, not an empty loop
    assert len(operations) == len(roots.query_type.fields) + len(roots.mutation_type.fields)

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=3,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            # schemathesis's own checks take any GraphQL error for a failure; here expected
            # failures are coded errors, and a server error is a 5xx or an unexpected one
            response = case.call()
            assert response.status_code < 500, response.text[:500]
            errors = response.json().get("errors") or []
            codes = [error.get("extensions", {}).get("code") for error in errors]
            assert all(codes) and "INTERNAL_SERVER_ERROR" not in codes, errors

        check()
