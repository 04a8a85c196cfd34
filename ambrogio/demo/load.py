"""Loading the Lecco demo network into the database (``ambrogio demo-data``)."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.db import models
from ambrogio.db.models import SRID
from ambrogio.db.session import create_engine, create_sessionmaker
from ambrogio.demo.needs import demo_needs
from ambrogio.demo.network import Network, generate
from ambrogio.demo.purge import delete_source
from ambrogio.demo.records import SOURCE, Row
from ambrogio.demo.slots import refresh_demo_slots
from ambrogio.hours.intervals import refresh_open_intervals
from ambrogio.reference import load_reference
from ambrogio.settings import Settings
from ambrogio.taxonomy import TERMS

# Slots start from the day of loading, as a user in Lecco counts days.
ROME = ZoneInfo("Europe/Rome")


def _table(model: type[models.Base]) -> Table:
    table: Table = model.__table__  # type: ignore[assignment]
    return table


async def _insert(session: AsyncSession, model: type[models.Base], rows: list[Row]) -> None:
    if not rows:
        return
    stmt: Any = insert(_table(model))
    if "lon" in rows[0]:
        point = func.ST_MakePoint(bindparam("lon", type_=Float), bindparam("lat", type_=Float))
        stmt = stmt.values(geom=func.ST_SetSRID(point, SRID))
    await session.execute(stmt, rows)


async def _insert_network(session: AsyncSession, network: Network) -> None:
    # Parents before children, so that every foreign key finds its row.
    await _insert(session, models.Organization, network.organizations)
    await _insert(session, models.Location, network.locations)
    await _insert(session, models.Service, network.services)
    await _insert(session, models.ServiceCategory, network.service_categories)
    await _insert(session, models.CostOption, network.cost_options)
    await _insert(session, models.ServiceAtLocation, network.services_at_locations)
    await _insert(session, models.WelfarePoint, network.welfare_points)


def _services_by_category(network: Network) -> dict[str, list[Any]]:
    published = {row["id"] for row in network.services if row["status"] == "published"}
    slugs = {term.id: term.slug for term in TERMS}
    found: dict[str, list[Any]] = {}
    for link in network.service_categories:
        if link["service_id"] in published:
            found.setdefault(slugs[link["term_id"]], []).append(link["service_id"])
    return found


async def _count_demo(session: AsyncSession) -> int:
    organization = _table(models.Organization)
    query = select(func.count()).select_from(organization).where(organization.c.source == SOURCE)
    return int(await session.scalar(query) or 0)


def _summary(network: Network, seed: int) -> str:
    hubs = sum(1 for row in network.welfare_points if row["kind"] == "hub")
    return (
        f"Lecco demo network (seed {seed}): {len(network.organizations)} providers, "
        f"{len(network.locations)} locations, {len(network.services)} services, "
        f"{hubs} welfare hubs, {len(network.welfare_points) - hubs} welfare points"
    )


async def load_demo(settings: Settings, seed: int, force: bool = False) -> str:
    """Load the reference data and the demo network (replacing any earlier demo rows).

    Without ``force`` an existing demo network is left alone. Everything happens in one
    transaction: a failure leaves the previous data as it was.
    """
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await load_reference(session)
            existing = await _count_demo(session)
            today = datetime.now(ROME).date()
            if existing and not force:
                slots = await refresh_demo_slots(session, today)
                return (
                    f"Demo data already loaded ({existing} providers; --force reloads it); "
                    f"{slots} slots from {today}"
                )
            network = generate(seed)
            await delete_source(session, SOURCE)
            await _insert_network(session, network)
            needs = demo_needs(
                random.Random(seed), network.welfare_points, _services_by_category(network), today
            )
            await _insert(session, models.Need, needs)
            await refresh_open_intervals(session)
            slots = await refresh_demo_slots(session, today)
        return f"{_summary(network, seed)}, {len(needs)} needs, {slots} slots from {today}"
    finally:
        await engine.dispose()
