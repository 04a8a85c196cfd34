"""The domain enumerations as GraphQL enums (upper-case names, lower-case stored values)."""

from __future__ import annotations

import strawberry

from ambrogio import enums

Delivery = strawberry.enum(enums.Delivery, description="How a service reaches people.")
PriceUnit = strawberry.enum(enums.PriceUnit, description="What a price is for.")
TargetGroup = strawberry.enum(enums.TargetGroup, description="Who a service is meant for.")
TuirCategory = strawberry.enum(
    enums.TuirCategory,
    description="The welfare category of art. 51 TUIR that lets a company pay for the service "
    "tax-free (comma 2, lettere f, f-bis, f-ter, f-quater), or NONE.",
)
ProviderKind = strawberry.enum(enums.ProviderKind, description="The legal form of a provider.")
GeocodePrecision = strawberry.enum(
    enums.GeocodePrecision,
    description="How a point was obtained: EXACT (surveyed), ADDRESS (geocoded from the "
    "address) or COMUNE (the comune's centroid: approximate).",
)
WelfarePointKind = strawberry.enum(enums.WelfarePointKind, description="Hub or local point.")
Lang = strawberry.enum(enums.Lang, description="Label language.")
Status = strawberry.enum(enums.Status, description="Editorial state; the public sees PUBLISHED.")
