"""The needs tests run on an Ambrogio of their own: their needs replace one another's, and
the session database's demo needs stay as the demo tests expect them."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from ambrogio.settings import Settings
from tests.support.import_db import ImportDb, import_db


@pytest.fixture(scope="package")
async def needs_db(settings: Settings, template_db: str) -> AsyncIterator[ImportDb]:
    async for db in import_db(settings, f"ambrogio_needs_{os.getpid()}", template_db):
        yield db
