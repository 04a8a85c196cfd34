"""Inputs of the search and map queries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from ambrogio.enums import SearchOrder
from ambrogio.schema.types.enums import Delivery, PriceUnit, TargetGroup, TuirCategory, described


@strawberry.input(description="A WGS84 point.")
class LatLonInput:
    lat: float = strawberry.field(description="Latitude, -90 to 90.")
    lon: float = strawberry.field(description="Longitude, -180 to 180.")


@strawberry.input(
    description="A half-open interval of instants: from `from` included to `to` excluded."
)
class TimeRangeInput:
    from_: datetime = strawberry.field(
        name="from",
        description="Where it begins, included: ISO 8601 with an offset "
        "(`2026-12-07T09:00:00+01:00`); without one, `BAD_USER_INPUT`.",
    )
    to: datetime = strawberry.field(
        description="Where it ends, excluded: after `from`, at most 92 days later, with an offset."
    )


@strawberry.input(description="A price range; with `unit`, only prices per that unit.")
class PriceInput:
    min: float | None = strawberry.field(
        default=None, description="Lowest price in euros, included; null: no lower bound."
    )
    max: float | None = strawberry.field(
        default=None,
        description="Highest price in euros, included; null: no upper bound. A FREE price "
        "is within any `max`.",
    )
    unit: PriceUnit | None = strawberry.field(
        default=None, description="Only prices per this unit; null: a price per any unit."
    )


@strawberry.input(
    description="Within a list: any of the values. Across fields: all must hold. On providers, "
    "a provider matches when one of its published services matches."
)
class ServiceFilter:
    categories: list[str] | None = strawberry.field(
        default=None,
        description=(
            "Taxonomy slugs (or labels, or synonyms such as `badanti`); a category includes "
            "its sub-categories."
        ),
    )
    target_groups: list[TargetGroup] | None = strawberry.field(
        default=None, description="Meant for any of these groups."
    )
    age: int | None = strawberry.field(
        default=None, description="Services whose minimum and maximum age admit this age."
    )
    welfare_eligible: bool | None = strawberry.field(
        default=None,
        description="true: only services company welfare credit can pay for; false: only "
        "those it cannot.",
    )
    tuir_categories: list[TuirCategory] | None = strawberry.field(
        default=None, description="Filed under any of these art. 51 TUIR categories."
    )
    price: PriceInput | None = strawberry.field(
        default=None, description="Has a price within this range."
    )
    languages: list[str] | None = strawberry.field(default=None, description="ISO 639-1 codes.")
    wheelchair_accessible: bool | None = strawberry.field(
        default=None, description="Offered at a location with wheelchair access."
    )
    delivery: list[Delivery] | None = strawberry.field(
        default=None, description="Delivered in any of these ways."
    )
    comuni: list[str] | None = strawberry.field(
        default=None,
        description="6-digit ISTAT codes: offered at a location there, or reaching it at home.",
    )
    modified_after: datetime | None = strawberry.field(
        default=None,
        description="Changed after this instant. On services: the service or a published "
        "location where it is offered; on providers: the provider, one of its published "
        "locations or one of its published services. Archives, merges and deletions are in "
        "`changes`, the change feed.",
    )
    open_at: datetime | None = strawberry.field(
        default=None,
        description="Offered at a published location open at this instant (opening hours in "
        "Europe/Rome; a time without an offset is Rome time). From yesterday to 14 days ahead.",
    )
    free_between: TimeRangeInput | None = strawberry.field(
        default=None,
        description="Has an open slot with a free seat that lies within [from, to) "
        "(at most 92 days).",
    )


described(
    SearchOrder,
    "The order of a search.",
    {
        "DISTANCE": "Nearest first (needs `near`).",
        "RELEVANCE": "Best text match first (needs `text`), blended with distance with `near`.",
        "NAME": "By name, A to Z.",
        "UPDATED_AT": "Most recently updated first.",
    },
    name="ServiceOrder",
)
ServiceOrder = SearchOrder


# Arguments that many root fields share, described once.
FIRST = (
    "Page size, 1–100 (20 when omitted, unless the field says otherwise); outside that, "
    "`BAD_USER_INPUT`. It multiplies the cost of the lists nested in each item "
    "(`extensions.cost`; `QUERY_TOO_COMPLEX` past the limit)."
)
AFTER = (
    "The `endCursor` of the previous page: the page after it. A cursor this list did not "
    "return is `BAD_USER_INPUT`."
)
First = Annotated[int | None, strawberry.argument(description=FIRST)]
After = Annotated[str | None, strawberry.argument(description=AFTER)]
Near = Annotated[
    LatLonInput | None,
    strawberry.argument(description="A point (WGS84) to look around, with `radiusMeters`."),
]
RadiusMeters = Annotated[
    float | None,
    strawberry.argument(
        description="With `near`: only what lies within this many metres of it, measured on "
        "the WGS84 ellipsoid."
    ),
]
Filter = Annotated[
    ServiceFilter | None,
    strawberry.argument(description="Only the services that match every field given."),
]
