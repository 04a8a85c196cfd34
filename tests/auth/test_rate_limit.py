"""Rate limits by cost over time: token buckets in PostgreSQL, shared by every process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.accounts import address, metered_key
from tests.support.servers import serving

PAGE = "query ($first: Int) { providers(first: $first) { edges { node { name } } } }"


async def page(client: httpx.AsyncClient, first: int, **headers: str) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": PAGE, "variables": {"first": first}}, headers=headers
    )


def refused(response: httpx.Response) -> int:
    """The seconds ``Retry-After`` asks for, after checking the refusal's shape."""
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    seconds = int(response.headers["retry-after"])
    assert seconds == error["extensions"]["retryAfter"]
    return seconds


async def test_an_anonymous_address_pays_the_cost_of_its_operations(
    app_with: Callable[..., Any],
) -> None:
    here, there = address(), address()
    async with app_with(here, rate_limit_anonymous=100) as client:
        first, second, third = [await page(client, 40) for _ in range(3)]
        small = await page(client, 5)
    async with app_with(there, rate_limit_anonymous=100) as elsewhere:
        other = await page(elsewhere, 40)

    assert first.status_code == second.status_code == 200
    assert first.json()["extensions"]["cost"] == 40
    # 100 - 40 - 40 = 20 left (and a little refill): 40 more is 20 short, at 100 a minute
    assert 1 <= refused(third) <= 12
    assert small.status_code == 200, "a refused operation takes nothing from the bucket"
    assert other.status_code == 200, "another address has its own bucket"


async def test_an_operation_dearer_than_the_whole_bucket_never_runs(
    app_with: Callable[..., Any],
) -> None:
    async with app_with(address(), rate_limit_anonymous=30) as client:
        response = await page(client, 40)
    assert refused(response) == 60
    assert "more than the 30 a minute" in response.json()["errors"][0]["message"]


async def test_an_api_key_has_its_own_limit(
    app_with: Callable[..., Any], gql: Any, login: Any
) -> None:
    key = await metered_key(gql, await login("limit-admin", "admin"), "metered", 50)
    # the key is limited even where anonymous callers are not
    async with app_with(address(), rate_limit_anonymous=0) as client:
        allowed = await page(client, 30, **key)
        over = await page(client, 30, **key)
        anonymous = await page(client, 30)

    assert allowed.status_code == 200 and "errors" not in allowed.json()
    assert refused(over) >= 1
    assert anonymous.status_code == 200


async def test_the_limit_holds_across_two_server_processes(
    db_url: str, tmp_path: Path, engine: AsyncEngine
) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM rate_bucket WHERE key = 'ip:127.0.0.1'"))
    env = {"AMBROGIO_RATE_LIMIT_ANONYMOUS": "100"}
    with serving(db_url, tmp_path, count=2, env=env) as (one, two):
        async with httpx.AsyncClient(timeout=10) as client:
            answers = [
                await client.post(
                    f"http://127.0.0.1:{port}/graphql",
                    json={"query": PAGE, "variables": {"first": 40}},
                )
                for port in (one, two, one, two)
            ]

    assert [a.status_code for a in answers[:2]] == [200, 200]
    # each process alone would have let 40 more through: the bucket is the database's
    assert refused(answers[2]) >= 1
    assert refused(answers[3]) >= 1
