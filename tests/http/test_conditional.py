"""Conditional GETs of the exports and the HSDS API: ``ETag`` and ``Last-Modified`` follow the
change feed, a client that sends them back gets a 304 while nothing changed and the new
version once something did, a transaction that began earlier and commits later included."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

PATHS = [
    "/export/hsds.json",
    "/export/catalogue.geojson",
    "/hsds/services?per_page=5",
    "/hsds/organizations?per_page=5&full=true",
    "/hsds/service_at_locations?per_page=5",
    "/hsds/services?format=ndjson&minimal=true",
]

A_LOCATION = """
SELECT l.id FROM location l JOIN organization o ON o.id = l.organization_id
WHERE l.status = 'published' AND o.status = 'published' AND o.merged_into_id IS NULL
ORDER BY l.id LIMIT 2
"""
EDIT = "UPDATE location SET updated_at = clock_timestamp() WHERE id = :l"


async def two_locations(engine: AsyncEngine) -> list[uuid.UUID]:
    async with engine.connect() as conn:
        return list((await conn.execute(text(A_LOCATION))).scalars())


async def a_location(engine: AsyncEngine) -> uuid.UUID:
    return (await two_locations(engine))[0]


async def edit(engine: AsyncEngine, location: uuid.UUID) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(EDIT), {"l": location})


@pytest.mark.parametrize("path", PATHS)
async def test_an_unchanged_catalogue_answers_304_and_a_change_the_new_version(
    client, engine: AsyncEngine, path: str
) -> None:
    # given a first download and its ETag
    first = await client.get(path)
    etag = first.headers["etag"]
    assert first.status_code == 200 and first.content and etag.startswith('W/"')

    # when it is asked for again with it, nothing having changed, then after an edit
    unchanged = await client.get(path, headers={"If-None-Match": etag})
    await edit(engine, await a_location(engine))
    after_edit = await client.get(path, headers={"If-None-Match": etag})

    # then the first is a 304 with the same validators and no body, the second all of it
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    assert after_edit.status_code == 200 and after_edit.content
    assert after_edit.headers["etag"] != etag


async def test_if_modified_since_the_date_given_answers_304_until_a_change(
    client, engine: AsyncEngine
) -> None:
    # given a download a while after the last change (a change in the last second could
    # still be followed by one in the same second: the date given is a second before)
    await asyncio.sleep(2)
    first = await client.get("/export/hsds.json")
    since = {"If-Modified-Since": first.headers["last-modified"]}

    # when it is asked for since the date it carried, before and after an edit
    unchanged = await client.get("/export/hsds.json", headers=since)
    await edit(engine, await a_location(engine))
    changed = await client.get("/export/hsds.json", headers=since)

    # then
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert changed.status_code == 200 and changed.content


async def test_the_etag_tells_the_questions_apart(client) -> None:
    one = await client.get("/hsds/services?per_page=5")
    two = await client.get("/hsds/services?per_page=6")
    again = await client.get("/hsds/services?per_page=5")

    assert one.headers["etag"] == again.headers["etag"] != two.headers["etag"]


async def test_a_change_committed_after_a_younger_one_is_never_hidden_by_the_date(
    client, engine: AsyncEngine
) -> None:
    # given a transaction that edited a location and has not committed yet (its change will
    # carry the time it began) while a younger one committed an edit of its own
    older, younger = await two_locations(engine)
    async with engine.connect() as slow:
        transaction = await slow.begin()
        await slow.execute(text(EDIT), {"l": older})
        await asyncio.sleep(1.1)
        await edit(engine, younger)
        await asyncio.sleep(2.1)  # so the newest change is not in the last second
        # when a client downloads the export now, then after the slow transaction commits
        first = await client.get("/export/hsds.json")
        await transaction.commit()
    again = await client.get(
        "/export/hsds.json", headers={"If-Modified-Since": first.headers["last-modified"]}
    )

    # then the date it was given does not hide that commit: the export comes again
    assert first.status_code == 200 and again.status_code == 200 and again.content


async def test_a_bad_date_is_ignored_and_etag_wins(client) -> None:
    first = await client.get("/hsds/organizations")

    bad_date = await client.get("/hsds/organizations", headers={"If-Modified-Since": "soon"})
    stale_tag = await client.get(
        "/hsds/organizations",
        headers={"If-None-Match": 'W/"other"', "If-Modified-Since": first.headers["last-modified"]},
    )
    any_tag = await client.get("/hsds/organizations", headers={"If-None-Match": "*"})

    assert bad_date.status_code == 200 and stale_tag.status_code == 200
    assert any_tag.status_code == 304
