"""A serving process freezes what its start-up made (``build_app(freeze_heap=True)``, what
``create_app`` builds): the full collections under load then walk only what came after."""

from __future__ import annotations

import gc

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.app import build_app
from ambrogio.settings import Settings


async def _started(settings: Settings, engine: AsyncEngine, freeze: bool) -> tuple[int, int]:
    """Frozen objects before and while the app runs (one request answered)."""
    before = gc.get_freeze_count()
    app = build_app(settings, engine=engine, freeze_heap=freeze)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ambrogio.test") as http:
            answer = await http.post("/graphql", json={"query": "{ __typename }"})
        assert answer.status_code == 200 and answer.json()["data"] == {"__typename": "Query"}
        during = gc.get_freeze_count()
    return before, during


async def test_a_serving_app_freezes_its_start_up_heap(
    settings: Settings, engine: AsyncEngine
) -> None:
    gc.unfreeze()
    try:
        before, during = await _started(settings, engine, freeze=True)
    finally:
        gc.unfreeze()
    assert before == 0
    # the schema, the models, the settings: far more than a handful of objects
    assert during > 10_000


async def test_an_app_built_for_tests_leaves_the_collector_alone(
    settings: Settings, engine: AsyncEngine
) -> None:
    gc.unfreeze()
    before, during = await _started(settings, engine, freeze=False)
    assert before == during == 0
