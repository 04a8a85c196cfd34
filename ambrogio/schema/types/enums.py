"""The domain enumerations registered as GraphQL enums (upper-case names, lower-case values).

``strawberry.enum`` registers the domain classes themselves, so schema types annotate with
the same classes that the database layer uses.
"""

from __future__ import annotations

import strawberry

from ambrogio.enums import (
    Delivery,
    GeocodePrecision,
    Lang,
    PriceUnit,
    ProviderKind,
    Status,
    TargetGroup,
    TuirCategory,
    WelfarePointKind,
)

strawberry.enum(Delivery, description="How a service reaches people.")
strawberry.enum(PriceUnit, description="What a price is for.")
strawberry.enum(TargetGroup, description="Who a service is meant for.")
strawberry.enum(
    TuirCategory,
    description="The welfare category of art. 51 TUIR that lets a company pay for the service "
    "tax-free (comma 2, lettere f, f-bis, f-ter, f-quater), or NONE.",
)
strawberry.enum(ProviderKind, description="The legal form of a provider.")
strawberry.enum(
    GeocodePrecision,
    description="How a point was obtained: EXACT (surveyed), ADDRESS (geocoded from the "
    "address) or COMUNE (the comune's centroid: approximate).",
)
strawberry.enum(WelfarePointKind, description="Hub or local point.")
strawberry.enum(Lang, description="Label language.")
strawberry.enum(Status, description="Editorial state; the public sees PUBLISHED.")

__all__ = [
    "Delivery",
    "GeocodePrecision",
    "Lang",
    "PriceUnit",
    "ProviderKind",
    "Status",
    "TargetGroup",
    "TuirCategory",
    "WelfarePointKind",
]
