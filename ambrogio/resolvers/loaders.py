"""Per-request DataLoaders: every nested field costs one statement per request, not per row.

Each batch opens its own session, because one ``AsyncSession`` must not serve concurrent
loaders. Results come back in key order; a key with nothing visible gets ``None`` or ``[]``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from ambrogio.catalogue import listings as q
from ambrogio.catalogue.visibility import Stmt
from ambrogio.db.models import (
    Comune,
    CostOption,
    Location,
    Organization,
    Reservation,
    Service,
    Slot,
    TaxonomyTerm,
    WelfarePoint,
)

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")

Sessions = async_sessionmaker[AsyncSession]


def _by_key(
    sessions: Sessions, build: Callable[[Sequence[K]], Stmt], key: Callable[[Any], K]
) -> Callable[[list[K]], Awaitable[list[Any]]]:
    async def load(keys: list[K]) -> list[Any]:
        async with sessions() as session:
            rows = (await session.scalars(build(keys))).all()
        found = {key(row): row for row in rows}
        return [found.get(k) for k in keys]

    return load


def _grouped(
    sessions: Sessions,
    build: Callable[[Sequence[K]], Stmt],
    key: Callable[[Any], K] | None = None,
) -> Callable[[list[K]], Awaitable[list[list[Any]]]]:
    """Lists per key; without ``key``, the first column is the key and the second the row."""

    async def load(keys: list[K]) -> list[list[Any]]:
        groups: dict[K, list[Any]] = defaultdict(list)
        async with sessions() as session:
            if key is None:
                for parent, row in (await session.execute(build(keys))).all():
                    groups[parent].append(row)
            else:
                for row in (await session.scalars(build(keys))).all():
                    groups[key(row)].append(row)
        return [groups.get(k, []) for k in keys]

    return load


class Loaders:
    """The DataLoaders of one request."""

    def __init__(self, sessions: Sessions) -> None:
        def by_id(
            build: Callable[[Sequence[uuid.UUID]], Stmt],
        ) -> DataLoader[uuid.UUID, Any]:
            return DataLoader(load_fn=_by_key(sessions, build, lambda row: row.id))

        self.provider: DataLoader[uuid.UUID, Organization | None] = by_id(q.providers_by_id)
        self.location: DataLoader[uuid.UUID, Location | None] = by_id(q.locations_by_id)
        self.service: DataLoader[uuid.UUID, Service | None] = by_id(q.services_by_id)
        self.welfare_point: DataLoader[uuid.UUID, WelfarePoint | None] = by_id(
            q.welfare_points_by_id
        )
        self.category: DataLoader[uuid.UUID, TaxonomyTerm | None] = by_id(q.categories_by_id)
        self.comune: DataLoader[str, Comune | None] = DataLoader(
            load_fn=_by_key(sessions, q.comuni_by_code, lambda row: row.istat_code)
        )
        self.provider_locations: DataLoader[uuid.UUID, list[Location]] = DataLoader(
            load_fn=_grouped(sessions, q.locations_of_providers, lambda row: row.organization_id)
        )
        self.provider_services: DataLoader[uuid.UUID, list[Service]] = DataLoader(
            load_fn=_grouped(sessions, q.services_of_providers, lambda row: row.organization_id)
        )
        self.service_locations: DataLoader[uuid.UUID, list[Location]] = DataLoader(
            load_fn=_grouped(sessions, q.locations_of_services)
        )
        self.location_services: DataLoader[uuid.UUID, list[Service]] = DataLoader(
            load_fn=_grouped(sessions, q.services_at_locations)
        )
        self.service_categories: DataLoader[uuid.UUID, list[TaxonomyTerm]] = DataLoader(
            load_fn=_grouped(sessions, q.categories_of_services)
        )
        self.service_cost_options: DataLoader[uuid.UUID, list[CostOption]] = DataLoader(
            load_fn=_grouped(sessions, q.cost_options_of_services, lambda row: row.service_id)
        )
        self.slot: DataLoader[uuid.UUID, Slot | None] = by_id(q.slots_by_id)
        self.reservation: DataLoader[uuid.UUID, Reservation | None] = by_id(q.reservations_by_id)
        self.category_children: DataLoader[uuid.UUID, list[TaxonomyTerm]] = DataLoader(
            load_fn=_grouped(sessions, q.children_of_categories, lambda row: row.parent_id)
        )
