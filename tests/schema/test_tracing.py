"""OpenTelemetry spans through strawberry's extension (opentelemetry is installed with the dev
extras; without it the schema simply has no tracing extension)."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ambrogio.schema.build import OpenTelemetryExtension, build_schema, tracing


def test_without_a_tracer_provider_no_field_goes_through_a_hook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given the API's default: no provider set, spans would go nowhere
    monkeypatch.setattr(trace, "get_tracer_provider", trace.ProxyTracerProvider)

    # when a request's extensions are made
    extensions = build_schema().get_extensions()

    # then none resolves fields (the tracing extension's per-field hook is left out)
    assert tracing() == [OpenTelemetryExtension]  # guard: it is configured
    assert [type(e).__name__ for e in extensions if e._implements_resolve()] == []


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
