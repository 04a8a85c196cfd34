"""The tile statements read the locations of a tile through the GiST index of their points,
clustered or not, under the generic plan of a prepared statement (``tests/support/plans.py``)."""

from __future__ import annotations

import pytest

from ambrogio.geo.tiles import CLUSTER_MAX_ZOOM, Layer, Tile, feature_count, tile_stmt
from tests.support.map_oracle import LECCO, tile_of
from tests.support.plans import generic_plan


def _tile(z: int) -> Tile:
    return Tile(z, *tile_of(*LECCO, z))


@pytest.mark.parametrize("z", [10, CLUSTER_MAX_ZOOM, 14])
@pytest.mark.parametrize("layer", [Layer.PROVIDERS, Layer.SERVICES])
async def test_a_tile_reads_its_locations_by_the_point_index(settings, scaled_url, layer, z):
    plan = await generic_plan(settings, scaled_url, tile_stmt(layer, _tile(z)))

    assert "ix_location_geom on location" in plan, plan  # an Index or a Bitmap Index Scan
    assert "Seq Scan on location " not in plan, plan
    assert "Seq Scan on organization " not in plan, plan
    if z <= CLUSTER_MAX_ZOOM:
        assert "Aggregate" in plan, plan  # one feature per cell


async def test_counting_a_tiles_features_reads_the_point_index(settings, scaled_url) -> None:
    plan = await generic_plan(settings, scaled_url, feature_count(Layer.PROVIDERS, _tile(14)))

    assert "ix_location_geom on location" in plan, plan
    assert "Limit" in plan, plan  # counted up to MAX_FEATURES + 1 only
    assert "Seq Scan on location " not in plan, plan
