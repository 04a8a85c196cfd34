"""OpenTelemetry spans through strawberry's extension (opentelemetry is installed with the dev
extras; without it the schema simply has no tracing extension)."""

from __future__ import annotations

import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ambrogio.schema.build import OpenTelemetryExtension, tracing


async def test_an_operation_leaves_spans_named_after_it(client: httpx.AsyncClient) -> None:
    assert tracing() == [OpenTelemetryExtension]
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)

    try:
        response = await client.post(
            "/graphql", json={"query": "query Traced { providers(first: 1) { totalCount } }"}
        )
        names = [span.name for span in exporter.get_finished_spans()]
    finally:
        provider.shutdown()  # the tests after this one record no spans

    assert response.json()["data"]["providers"]["totalCount"] > 0  # guard
    assert "GraphQL Query: Traced" in names
    assert any("providers" in name for name in names)
