"""The demo network reads as a person expects: what a service's name says, its data say too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.demo.naming import DELIVERY_WORDS, named_delivery
from ambrogio.taxonomy import LEAVES


async def _services(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(
            (
                await conn.execute(
                    text(
                        """
                        SELECT s.name, s.delivery, s.target_groups, s.min_age,
                               s.service_area_comuni,
                               (SELECT count(*) FROM service_at_location sl
                                WHERE sl.service_id = s.id) AS places
                        FROM service s WHERE s.source = 'demo'
                        """
                    )
                )
            ).all()
        )


async def test_services_named_at_home_or_online_are_delivered_so(engine: AsyncEngine) -> None:
    services = await _services(engine)
    at_home = [s for s in services if "a domicilio" in s.name.lower()]
    online = [s for s in services if "online" in s.name.lower()]
    assert at_home and online, "the demo has both kinds"
    assert all(s.delivery == ["at_home"] for s in at_home), at_home
    assert all(s.delivery == ["online"] for s in online), online
    physio = [s for s in services if s.name == "Fisioterapia a domicilio"]
    assert physio and all(s.delivery == ["at_home"] for s in physio)


async def test_services_named_for_a_group_or_an_age_are_for_it(engine: AsyncEngine) -> None:
    services = await _services(engine)
    elderly = [s for s in services if "anziani" in s.name.lower() or "over 6" in s.name]
    assert elderly
    assert all(s.target_groups == ["elderly"] for s in elderly), elderly
    over = [s for s in services if "over 65" in s.name]
    assert over and all(s.min_age == 65 for s in over)


async def test_every_service_is_reachable_where_it_is_delivered(engine: AsyncEngine) -> None:
    for service in await _services(engine):
        if "on_site" in service.delivery:
            assert service.places >= 1, service
        else:
            assert service.places == 0, service
        if "at_home" in service.delivery:
            assert service.service_area_comuni, service
        else:
            assert not service.service_area_comuni, service


def test_a_name_never_asks_for_a_mode_its_category_does_not_offer() -> None:
    for leaf in LEAVES:
        assert leaf.profile is not None
        for name in leaf.profile.service_names:
            modes = named_delivery(name, leaf.profile.delivery)
            assert set(modes) <= set(leaf.profile.delivery), (leaf.slug, name, modes)
    assert any(words == "a domicilio" for words, _ in DELIVERY_WORDS)
