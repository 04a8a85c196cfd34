"""Error messages speak GraphQL and JSON: a missing or null value is ``null``, never Python's
``None``."""

from __future__ import annotations

from typing import Any

CREATE = """
mutation Create($input: ProviderInput!) { createProvider(input: $input) { __typename } }
"""


async def test_a_required_field_left_out_is_named_as_null(gql: Any, login: Any) -> None:
    reviewer = await login("errors-rita", "reviewer")

    result = await gql(CREATE, _headers=reviewer, input={"kind": "ASSOCIATION"})

    messages = [error["message"] for error in result.errors]
    assert any(m.startswith("input.name: null ") for m in messages), messages
    assert all("None" not in m for m in messages)
    assert result.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
