"""A validated WGS84 bounding box, and the index-friendly condition that keeps points inside it.

A box whose west edge is east of its east edge crosses the antimeridian, as in GeoJSON
(RFC 7946, section 5.2): ``west=170, east=-170`` is the 20° band around longitude 180. Map
libraries report such views that way once they wrap longitudes into -180..180.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, literal, or_

from ambrogio.db.models import SRID
from ambrogio.errors import BadUserInput


@dataclass(frozen=True)
class BBox:
    west: float
    south: float
    east: float
    north: float

    @classmethod
    def checked(cls, west: float, south: float, east: float, north: float, field: str) -> BBox:
        for name, value, limit, what in (
            ("west", west, 180.0, "longitude"),
            ("south", south, 90.0, "latitude"),
            ("east", east, 180.0, "longitude"),
            ("north", north, 90.0, "latitude"),
        ):
            if not math.isfinite(value) or not -limit <= value <= limit:
                raise BadUserInput(
                    f"{field}.{name}", value, f"must be a {what} between -{limit:g} and {limit:g}"
                )
        if south > north:
            raise BadUserInput(f"{field}.south", south, f"is north of {field}.north ({north})")
        return cls(west, south, east, north)

    @property
    def crosses_antimeridian(self) -> bool:
        return self.west > self.east

    def longitude_ranges(self) -> list[tuple[float, float]]:
        if self.crosses_antimeridian:
            return [(self.west, 180.0), (-180.0, self.east)]
        return [(self.west, self.east)]

    def width_degrees(self) -> float:
        return sum(east - west for west, east in self.longitude_ranges())

    def clamped(self, max_lat: float) -> BBox | None:
        """The part of the box between ``±max_lat``, or None when nothing is left."""
        south, north = max(self.south, -max_lat), min(self.north, max_lat)
        if south > north:
            return None
        return BBox(self.west, south, self.east, north)

    def contains(self, geom: Any) -> ColumnElement[bool]:
        """``geom && envelope``: the GiST index on the 4326 geometry answers it, and for a point
        it is exactly "inside the box, edges included"."""
        return or_(
            *(
                geom.bool_op("&&")(
                    func.ST_MakeEnvelope(
                        literal(west), literal(self.south), literal(east), literal(self.north), SRID
                    )
                )
                for west, east in self.longitude_ranges()
            )
        )
