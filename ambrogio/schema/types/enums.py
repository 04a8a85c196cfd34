"""The domain enumerations registered as GraphQL enums (upper-case names, lower-case values).

``strawberry.enum`` registers the domain classes themselves, so schema types annotate with
the same classes that the database layer uses.
"""

from __future__ import annotations

from enum import Enum, StrEnum

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


def described(
    cls: type[StrEnum], description: str, values: dict[str, str], name: str | None = None
) -> None:
    """Register ``cls`` as a GraphQL enum with a description of each value (the domain
    classes stay free of strawberry, so the value descriptions are attached here)."""
    strawberry.enum(cls, name=name, description=description)
    describe_values(cls, values)


def describe_values(cls: type[Enum], values: dict[str, str]) -> None:
    """A description for each value of an enum registered with strawberry."""
    assert set(values) == set(cls.__members__), cls
    for value in cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = values[value.name]


described(
    Delivery,
    "How a service reaches people.",
    {
        "ON_SITE": "At the provider's location: on the map.",
        "AT_HOME": "At the person's home, within the service's area (`servicesReaching`).",
        "ONLINE": "Remotely, by video or phone.",
    },
)
described(
    PriceUnit,
    "What a price is for.",
    {
        "HOUR": "An hour of the service.",
        "SESSION": "One session or visit.",
        "DAY": "A day of the service (a day centre, a full day of care).",
        "MONTH": "A month (a subscription or a monthly fee).",
        "FLAT": "The whole service, once.",
        "FREE": "No charge.",
    },
)
described(
    TargetGroup,
    "Who a service is meant for.",
    {
        "ELDERLY": "Older people.",
        "CHILDREN": "Children up to about 12 years old.",
        "YOUTH": "Teenagers and young adults.",
        "FAMILIES": "Families and parents.",
        "DISABLED": "People with disabilities.",
        "CAREGIVERS": "People who care for a relative.",
        "JOBSEEKERS": "People looking for work.",
        "ADULTS": "Adults in general.",
    },
)
described(
    TuirCategory,
    "The welfare category of art. 51 TUIR that lets a company pay for the service "
    "tax-free (comma 2, lettere f, f-bis, f-ter, f-quater), or NONE.",
    {
        "ART51_F": "Lettera f: education, training, recreation, social and health care, "
        "worship, offered to every employee.",
        "ART51_F_BIS": "Lettera f-bis: education and care of the employee's children "
        "(nurseries, schools, summer camps, school fees).",
        "ART51_F_TER": "Lettera f-ter: care of elderly or dependent relatives.",
        "ART51_F_QUATER": "Lettera f-quater: insurance against the risk of dependency or "
        "serious illness.",
        "NONE": "Not payable tax-free as corporate welfare.",
    },
)
described(
    ProviderKind,
    "The legal form of a provider.",
    {
        "THIRD_SECTOR": "A third-sector body (ETS).",
        "SOCIAL_COOPERATIVE": "A cooperativa sociale (law 381/1991), type A (care services) or B "
        "(work integration).",
        "ASSOCIATION": "An association not registered as a third-sector body (volunteer and "
        "mutual-aid groups).",
        "BUSINESS": "A company or professional.",
        "PUBLIC_BODY": "A public body (a comune, an ASST, a school).",
    },
)
described(
    GeocodePrecision,
    "How a point was obtained: EXACT (surveyed), ADDRESS (geocoded from the "
    "address) or COMUNE (the comune's centroid: approximate).",
    {
        "EXACT": "Surveyed or given as coordinates.",
        "ADDRESS": "Geocoded from the address.",
        "COMUNE": "The comune's centroid: approximate.",
    },
)
described(
    WelfarePointKind,
    "Hub or local point.",
    {
        "HUB": "A hub: coordinates the points of its area.",
        "POINT": "A local welfare point.",
    },
)
described(Lang, "Label language.", {"IT": "Italian.", "EN": "English."})
described(
    Status,
    "Editorial state; the public sees PUBLISHED.",
    {
        "DRAFT": "Not yet reviewed: visible to its editors and reviewers only.",
        "PUBLISHED": "Public.",
        "ARCHIVED": "Withdrawn: kept for the record, no longer public.",
    },
)

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
