"""Every record the HSDS API serves by id is valid against the compiled HSDS 3.0 schema (the
test copy in ``tests/data``, not the one the server carries), and ``format=ndjson`` streams
exactly what the pages hold."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.http.test_hsds_api import (
    PUBLISHED_PROVIDERS,
    PUBLISHED_SERVICES,
    all_pages,
    checker,
    published,
)


async def test_every_organization_and_service_by_id_is_valid_hsds(
    client, engine: AsyncEngine
) -> None:
    providers = sorted(await published(engine, PUBLISHED_PROVIDERS))
    services = sorted(await published(engine, PUBLISHED_SERVICES))
    assert len(providers) > 50 and len(services) > 100
    organization, service = checker("organization"), checker("service")

    # Whole, and (for a few: it is the same document, its services cut to three fields) brief.
    asked = [f"{key}?full_service=true" for key in providers] + providers[::20]
    for path in asked:
        response = await client.get(f"/hsds/organizations/{path}")
        assert response.status_code == 200 and response.json()["id"] == path[:36]
        organization.validate(response.json())
    for key in services:
        response = await client.get(f"/hsds/services/{key}")
        assert response.status_code == 200 and response.json()["id"] == key
        service.validate(response.json())


def lines(body: bytes) -> list[dict[str, Any]]:
    text = body.decode()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


async def test_ndjson_streams_every_page_one_record_a_line(client) -> None:
    for path in (
        "/hsds/services?minimal=true",
        "/hsds/organizations?search=cooperativa",
        "/hsds/service_at_locations?postcode=23900&proximity=5000",
        "/hsds/taxonomy_terms?top_only=true",
    ):
        sep = "&" if "?" in path else "?"
        streamed = await client.get(f"{path}{sep}format=ndjson")
        paged = await all_pages(client, path)

        assert streamed.status_code == 200, streamed.text
        assert streamed.headers["content-type"] == "application/x-ndjson"
        assert lines(streamed.content) == paged and paged, path


async def test_ndjson_has_no_pages(client) -> None:
    for name in ("page", "per_page"):
        response = await client.get(f"/hsds/services?format=ndjson&{name}=2")

        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["field"] == name
    bad = await client.get("/hsds/services?format=csv")
    assert bad.status_code == 400 and bad.json()["errors"][0]["extensions"]["field"] == "format"
