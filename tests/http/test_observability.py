"""Request ids, the JSON request log and ``/metrics``, through the ASGI app."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ambrogio.logs import JsonFormatter

NAMED = "query Observed { providers(first: 2) { edges { node { id } } } }"


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of metric ``name`` in an exposition, by their sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def test_a_request_id_sent_is_returned_in_the_header_and_extensions(
    client: httpx.AsyncClient,
) -> None:
    sent = f"trace-{uuid.uuid4().hex[:8]}"
    response = await client.post("/graphql", json={"query": NAMED}, headers={"X-Request-ID": sent})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == sent
    assert response.json()["extensions"]["requestId"] == sent
    assert response.json()["data"]["providers"]["edges"]  # guard: a real answer


@pytest.mark.parametrize("sent", [None, "", "x" * 65, "with space", "quote'd"])
async def test_an_unusable_request_id_is_replaced_by_a_fresh_one(
    client: httpx.AsyncClient, sent: str | None
) -> None:
    headers = {"X-Request-ID": sent} if sent is not None else {}
    response = await client.post("/graphql", json={"query": NAMED}, headers=headers)
    returned = response.headers["x-request-id"]
    assert returned != sent and len(returned) == 32
    assert response.json()["extensions"]["requestId"] == returned


async def test_rest_routes_carry_a_request_id_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/hsds/services?per_page=1", headers={"X-Request-ID": "rest-1"})
    assert response.status_code == 200 and response.headers["x-request-id"] == "rest-1"


async def test_one_json_log_line_per_request(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    sent = f"log-{uuid.uuid4().hex[:8]}"
    with caplog.at_level(logging.INFO, logger="ambrogio.access"):
        await client.post("/graphql", json={"query": NAMED}, headers={"X-Request-ID": sent})
    records = [
        record
        for record in caplog.records
        if record.name == "ambrogio.access" and record.fields["requestId"] == sent  # type: ignore[attr-defined]
    ]
    assert len(records) == 1
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["operation"] == "Observed" and line["status"] == 200
    assert line["caller"] == "anonymous" and line["route"] == "/graphql"
    assert line["durationMs"] > 0 and line["level"] == "info"


async def test_metrics_count_requests_by_operation_and_errors_by_code(
    client: httpx.AsyncClient,
) -> None:
    def count(text: str) -> tuple[float, float]:
        requests = samples(text, "ambrogio_requests_total")
        errors = samples(text, "ambrogio_errors_total")
        key = (("operation", "Observed"), ("route", "/graphql"), ("status", "200"))
        return requests.get(key, 0.0), errors.get((("code", "BAD_USER_INPUT"),), 0.0)

    before = count((await client.get("/metrics")).text)
    await client.post("/graphql", json={"query": NAMED})
    await client.post("/graphql", json={"query": NAMED})
    bad = await client.post(
        "/graphql", json={"query": "query Observed { providers(first: -1) { totalCount } }"}
    )
    assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"  # guard
    response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    after = count(response.text)
    # The bad request answered 200 too, under the same operation name: three in all.
    assert after[0] - before[0] == 3
    assert after[1] - before[1] == 1
    latency = samples(response.text, "ambrogio_request_seconds_count")
    assert latency[(("operation", "Observed"), ("route", "/graphql"))] >= 3


def test_the_json_formatter_keeps_fields_and_exceptions() -> None:
    record = logging.LogRecord("ambrogio.access", logging.INFO, __file__, 1, "request", None, None)
    record.fields = {"requestId": "r1", "cost": 12.5}
    line: dict[str, Any] = json.loads(JsonFormatter().format(record))
    assert line["requestId"] == "r1" and line["cost"] == 12.5 and line["message"] == "request"
    try:
        raise ValueError("boom")
    except ValueError:
        failing = logging.LogRecord(
            "ambrogio", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    assert "ValueError: boom" in json.loads(JsonFormatter().format(failing))["exception"]
