"""A database of 20,000 synthetic providers for the plan tests of this package."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from ambrogio.db.session import drop_database
from ambrogio.settings import Settings
from tests.support.database import create_test_database


@pytest.fixture(scope="session")
async def scaled_url(settings: Settings, template_db: str) -> AsyncIterator[str]:
    """Enough rows for the planner to prefer the indexes, as at a region's scale."""
    from ambrogio.demo import load_scale

    name = f"ambrogio_plan_{os.getpid()}"
    await drop_database(settings, name)
    url = await create_test_database(settings, name, template_db)
    await load_scale(settings.model_copy(update={"database_url": url}), 20_000, seed=3)
    yield url
    await drop_database(settings, name)
