"""Schemathesis hooks for the HSDS REST API check (``tests/http/test_hsds_schemathesis.py``),
loaded by ``st run`` through ``SCHEMATHESIS_HOOKS``.

Generated strings are almost never ids of real records, so on their own the record paths
would only ever answer 404. ``AMBROGIO_HSDS_IDS`` (JSON: a parameter name or path, and the
published ids for it) lets half the generated values stand for a real id, picked by the
generated value's hash, so the generator stays deterministic and its 200s are validated too.
``application/x-ndjson`` is read as the list of its lines.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import schemathesis

IDS: dict[str, list[str]] = json.loads(os.environ.get("AMBROGIO_HSDS_IDS", "{}"))


def _real(key: str, generated: Any) -> Any:
    ids = IDS.get(key)
    if not ids:
        return generated
    digest = int.from_bytes(hashlib.blake2b(repr(generated).encode(), digest_size=8).digest())
    return ids[digest // 2 % len(ids)] if digest % 2 == 0 else generated


@schemathesis.hook
def map_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
) -> dict[str, Any] | None:
    path = context.operation.path if context.operation is not None else ""
    if path_parameters and "id" in path_parameters:
        path_parameters["id"] = _real(path, path_parameters["id"])
    return path_parameters


@schemathesis.hook
def map_query(
    context: schemathesis.HookContext, query: dict[str, Any] | None
) -> dict[str, Any] | None:
    return {name: _real(name, value) for name, value in query.items()} if query else query


@schemathesis.deserializer("application/x-ndjson")
def ndjson(context: schemathesis.DeserializationContext, response: schemathesis.Response) -> Any:
    return [json.loads(line) for line in response.content.decode().splitlines() if line]
