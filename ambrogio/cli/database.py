"""``ambrogio db`` and ``ambrogio migrate``: the project-local cluster, the schema and its
reference data."""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
from typing import Any

from ambrogio.settings import Settings


def _db(settings: Settings, args: argparse.Namespace) -> int:
    from ambrogio.db.cluster import LocalCluster
    from ambrogio.db.session import database_url, ensure_database

    if not settings.uses_local_cluster:
        if args.action in {"start", "stop"}:
            print(f"DATABASE_URL is set: using that server, nothing to {args.action}.")
        if args.action == "start":
            asyncio.run(ensure_database(settings))
        if args.action in {"status", "url"}:
            print(database_url(settings))
        return 0
    cluster = LocalCluster(settings)
    if args.action == "start":
        cluster.start()
        asyncio.run(ensure_database(settings))
        print(cluster.status())
    elif args.action == "stop":
        cluster.stop()
        print(cluster.status())
    elif args.action == "status":
        print(cluster.status())
        return 0 if cluster.running() else 3
    elif args.action == "url":
        print(cluster.url())
    return 0


async def _load_reference(settings: Settings) -> None:
    from ambrogio.db.session import create_engine, create_sessionmaker
    from ambrogio.reference import load_reference

    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            await load_reference(session)
            await session.commit()
    finally:
        await engine.dispose()


async def refresh_intervals(settings: Settings, now: datetime | None = None) -> str:
    from ambrogio.db.session import create_engine, create_sessionmaker
    from ambrogio.hours.intervals import refresh_open_intervals

    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            return str(await refresh_open_intervals(session, now))
    finally:
        await engine.dispose()


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from ambrogio.db import migrate
    from ambrogio.db.session import database_url

    if args.downgrade:
        migrate.downgrade(database_url(settings), args.revision or "-1")
        return 0
    revision = args.revision or "head"
    migrate.upgrade(database_url(settings), revision)
    # Reference data follows the newest schema only: an older revision may lack its columns.
    if revision == "head":
        asyncio.run(_load_reference(settings))
        print("Reference data (comuni, taxonomy) is up to date.")
        print(f"Opening hours: {asyncio.run(refresh_intervals(settings))}")
    return 0


def register(commands: Any) -> None:
    db = commands.add_parser("db", help="the project-local PostGIS cluster")
    db.add_argument("action", choices=["start", "stop", "status", "url"])
    db.set_defaults(run=_db)

    migrate = commands.add_parser("migrate", help="apply the alembic migrations")
    migrate.add_argument("revision", nargs="?", help="target revision (default: head, or -1)")
    migrate.add_argument("--downgrade", action="store_true", help="go down instead of up")
    migrate.set_defaults(run=_migrate)
