"""Ambrogio's facets as HSDS attributes, provider kinds as legal status, price units in words.

HSDS has no place for a service's delivery mode, target groups, TUIR category or welfare
eligibility, for a location's geocode precision or wheelchair access, nor for a provider's
kind. The export writes them as attributes (of the service, of the location) whose taxonomy
term belongs to one of the vocabularies below (``ambrogio`` is the category tree itself), and
the provider kind as ``legal_status``; the import reads them back, so an export re-imports
without loss. Terms of any other vocabulary are external terms.
"""

from __future__ import annotations

import re
import uuid
from enum import StrEnum

from ambrogio.enums import Delivery, PriceUnit, ProviderKind, TargetGroup, TuirCategory
from ambrogio.ids import NAMESPACE
from ambrogio.taxonomy import VOCABULARY

CATEGORIES = VOCABULARY
DELIVERY = "ambrogio:delivery"
TARGET_GROUP = "ambrogio:target_group"
TUIR = "ambrogio:tuir_category"
WELFARE = "ambrogio:welfare_eligible"
# Location attributes: how the point was obtained (a code of ``GeocodePrecision``), and
# wheelchair access (the one code below, with the value "true" or "false").
GEOCODE_PRECISION = "ambrogio:geocode_precision"
WHEELCHAIR = "ambrogio:wheelchair_accessible"

# Vocabulary -> (profile field, the enumeration of its codes, whether the field is a list).
FACETS: dict[str, tuple[str, type[StrEnum], bool]] = {
    DELIVERY: ("delivery", Delivery, True),
    TARGET_GROUP: ("target_groups", TargetGroup, True),
    TUIR: ("tuir_category", TuirCategory, False),
}
WELFARE_CODE = "welfare_eligible"
WHEELCHAIR_CODE = "wheelchair_accessible"
# The ``extent_type`` of a service area that names one comune by its ISTAT code (``extent``).
EXTENT_COMUNE = "istat_comune"

# What a provider of no stated kind is taken to be: the network is mostly third-sector bodies,
# and a reviewer sees the warning that says so.
DEFAULT_KIND = ProviderKind.THIRD_SECTOR

# Words of a free-text legal status that tell the kind (Italian and English), checked in order.
_KIND_WORDS: tuple[tuple[ProviderKind, tuple[str, ...]], ...] = (
    (ProviderKind.SOCIAL_COOPERATIVE, ("cooperativa sociale", "social cooperative", "coop")),
    (ProviderKind.ASSOCIATION, ("associazione", "association", "aps", "odv", "volontariato")),
    (
        ProviderKind.PUBLIC_BODY,
        ("comune", "ente pubblico", "public body", "municipality", "asst", "ats", "government"),
    ),
    (
        ProviderKind.BUSINESS,
        (
            "s.r.l",
            "srl",
            "s.p.a",
            "spa",
            "s.n.c",
            "snc",
            "s.a.s",
            "sas",
            "impresa",
            "ditta",
            "company",
            "limited",
            "ltd",
            "inc",
            "llc",
            "business",
        ),
    ),
    (
        ProviderKind.THIRD_SECTOR,
        (
            "terzo settore",
            "third sector",
            "ets",
            "onlus",
            "fondazione",
            "foundation",
            "charity",
            "non-profit",
            "nonprofit",
        ),
    ),
)


def kind_of(legal_status: str | None) -> ProviderKind | None:
    """The provider kind a legal status names, or None when it names none."""
    if not legal_status:
        return None
    text = legal_status.strip().casefold()
    if text in ProviderKind._value2member_map_:
        return ProviderKind(text)
    for kind, needles in _KIND_WORDS:
        if _names_any(text, needles):
            return kind
    return None


def _names_any(text: str, needles: tuple[str, ...]) -> bool:
    """Whether ``text`` holds one of ``needles``: a whole word, or a phrase anywhere."""
    words = set(re.findall(r"\w+", text))
    return any(needle in words if needle.isalnum() else needle in text for needle in needles)


def is_category(vocabulary: str | None) -> bool:
    """Whether a term is on Ambrogio's own category tree: its code is then a category, by
    slug, label or synonym (``ambrogio.validation.category`` resolves it, or refuses it)."""
    return (vocabulary or CATEGORIES).casefold() == CATEGORIES


def term_uuid(vocabulary: str, code: str) -> uuid.UUID:
    """The HSDS id of a facet term: the same in every export."""
    return uuid.uuid5(NAMESPACE, f"hsds-term:{vocabulary}:{code}")


# Price units in the words of an HSDS ``amount_description``; the import also reads Italian.
UNIT_WORDS: dict[PriceUnit, str] = {
    PriceUnit.HOUR: "per hour",
    PriceUnit.SESSION: "per session",
    PriceUnit.DAY: "per day",
    PriceUnit.MONTH: "per month",
    PriceUnit.FLAT: "flat fee",
    PriceUnit.FREE: "free",
}
# Checked in order: "per 1 hour session" is a price per session.
_UNIT_NEEDLES: tuple[tuple[PriceUnit, tuple[str, ...]], ...] = (
    (PriceUnit.FREE, ("free", "gratuito", "gratis")),
    (PriceUnit.SESSION, ("session", "seduta", "incontro", "lezione", "visita", "visit")),
    (PriceUnit.HOUR, ("hour", "hourly", "ora", "orario", "oraria", "hr")),
    (PriceUnit.DAY, ("day", "daily", "giorno", "giornata", "giornaliero", "giornaliera")),
    (PriceUnit.MONTH, ("month", "mese", "mensile", "monthly")),
    (PriceUnit.FLAT, ("flat", "forfait", "una tantum", "fixed", "total", "complessivo")),
)


def unit_of(*texts: str | None) -> PriceUnit | None:
    """The price unit the first of ``texts`` that names one names."""
    for text in texts:
        if not text:
            continue
        folded = text.casefold()
        for unit, needles in _UNIT_NEEDLES:
            if _names_any(folded, needles):
                return unit
    return None
