"""Enumerations shared by the database and the GraphQL schema.

Values are the lower-case strings stored in the database and used by the import profile
(``at_home``, ``hour``, ``elderly``); the GraphQL schema exposes the upper-case member names.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class ProviderKind(StrEnum):
    THIRD_SECTOR = "third_sector"
    SOCIAL_COOPERATIVE = "social_cooperative"
    ASSOCIATION = "association"
    BUSINESS = "business"
    PUBLIC_BODY = "public_body"


class Delivery(StrEnum):
    ON_SITE = "on_site"
    AT_HOME = "at_home"
    ONLINE = "online"


class PriceUnit(StrEnum):
    HOUR = "hour"
    SESSION = "session"
    DAY = "day"
    MONTH = "month"
    FLAT = "flat"
    FREE = "free"


class TargetGroup(StrEnum):
    ELDERLY = "elderly"
    CHILDREN = "children"
    YOUTH = "youth"
    FAMILIES = "families"
    DISABLED = "disabled"
    CAREGIVERS = "caregivers"
    JOBSEEKERS = "jobseekers"
    ADULTS = "adults"


class TuirCategory(StrEnum):
    """The welfare category of art. 51 TUIR (DPR 917/1986) that makes a service tax-free."""

    ART51_F = "art51_f"
    ART51_F_BIS = "art51_f_bis"
    ART51_F_TER = "art51_f_ter"
    ART51_F_QUATER = "art51_f_quater"
    NONE = "none"


class GeocodePrecision(StrEnum):
    """How a point was obtained: surveyed, geocoded from the address, or a comune centroid."""

    EXACT = "exact"
    ADDRESS = "address"
    COMUNE = "comune"


class WelfarePointKind(StrEnum):
    HUB = "hub"
    POINT = "point"


class Lang(StrEnum):
    IT = "it"
    EN = "en"


class ImportFormat(StrEnum):
    """The file formats an import reads."""

    GEOJSON = "geojson"
    CSV = "csv"
    HSDS_JSON = "hsds_json"
    HSDS_CSV = "hsds_csv"  # the tabular data package, as a zip of CSV files


class SearchOrder(StrEnum):
    """The order of a search."""

    DISTANCE = "distance"
    RELEVANCE = "relevance"
    NAME = "name"
    UPDATED_AT = "updated_at"
