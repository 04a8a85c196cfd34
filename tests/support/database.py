"""Test databases on the project's cluster (or DATABASE_URL)."""

from __future__ import annotations

import asyncio

from ambrogio.db import migrate
from ambrogio.db.session import database_url, ensure_database
from ambrogio.settings import Settings


async def create_test_database(settings: Settings, name: str) -> str:
    """A fresh, migrated database (schema and reference data); returns its URL."""
    await ensure_database(settings, name)
    url = database_url(settings, name)
    await asyncio.to_thread(migrate.upgrade, url)
    return url
