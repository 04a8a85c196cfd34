"""Throwaway PostgreSQL clusters of their own, for tests that stop, crash or replicate a
database: the shared test cluster (``tests/support/database.py``) is never stopped.

Each is a ``LocalCluster`` (the code ``ambrogio db start`` runs) in a folder of the test's, on
a free port it picks, with the catalogue migrated and the demo data loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from ambrogio.db import migrate
from ambrogio.db.cluster import FALLBACK_ROOT, LocalCluster
from ambrogio.db.session import ensure_database
from ambrogio.demo import load_demo
from ambrogio.settings import Settings


def cluster_settings(folder: Path) -> Settings:
    return Settings(env="test", data_dir=folder, pg_max_connections=100)


@contextlib.contextmanager
def throwaway(folder: Path, replica_of: LocalCluster | None = None) -> Iterator[LocalCluster]:
    """A running cluster in ``folder`` (a streaming replica of ``replica_of`` when given),
    stopped and deleted afterwards."""
    cluster = LocalCluster(cluster_settings(folder))
    if replica_of is not None:
        cluster.init_replica(replica_of.port)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop(mode="immediate")
        # The cluster's folder, or the one it moved to (with its log) when postgres could not
        # reach the test's folder.
        moved = cluster.dir.parent.is_relative_to(FALLBACK_ROOT)
        shutil.rmtree(cluster.dir.parent if moved else cluster.dir, ignore_errors=True)


async def load_catalogue(cluster: LocalCluster) -> str:
    """The cluster's ``ambrogio`` database, migrated, with the demo network; its URL."""
    settings = cluster.settings
    await ensure_database(settings)
    await asyncio.to_thread(migrate.upgrade, cluster.url())
    await load_demo(settings.model_copy(update={"database_url": cluster.url()}), seed=42)
    return cluster.url()


def dsn(url: str) -> str:
    """asyncpg's form of an SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def fetch(url: str, query: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(dsn(url))
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()
