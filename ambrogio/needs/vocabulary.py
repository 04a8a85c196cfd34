"""What a need record says: a category, a comune, a date, and a few coarse descriptors.

Nothing here identifies a person: no name, contact, free text, address or date of birth. Ages
are bands, households and employment are kinds. The outcome says whether a local service
answered the need; ``UNMET`` outcomes are the ones the gap analysis counts against supply.
"""

from __future__ import annotations

from enum import StrEnum


class AgeBand(StrEnum):
    UNDER_18 = "under_18"
    FROM_18_TO_29 = "18_29"
    FROM_30_TO_39 = "30_39"
    FROM_40_TO_49 = "40_49"
    FROM_50_TO_64 = "50_64"
    FROM_65_TO_79 = "65_79"
    OVER_80 = "80_plus"


class Household(StrEnum):
    LIVING_ALONE = "living_alone"
    SINGLE_PARENT = "single_parent"
    COUPLE_WITH_CHILDREN = "couple_with_children"
    COUPLE_WITHOUT_CHILDREN = "couple_without_children"
    WITH_PARENTS = "with_parents"
    EXTENDED_FAMILY = "extended_family"
    OTHER = "other"


class Employment(StrEnum):
    EMPLOYED = "employed"
    UNEMPLOYED = "unemployed"
    RETIRED = "retired"
    STUDENT = "student"
    HOMEMAKER = "homemaker"
    UNABLE_TO_WORK = "unable_to_work"
    OTHER = "other"


class Urgency(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Outcome(StrEnum):
    REFERRED = "referred"  # to a service, named by ``referred_service_id`` when known
    WAITING = "waiting"
    NO_LOCAL_SERVICE = "no_local_service"
    DECLINED = "declined"


# The outcomes of a need that local supply did not answer.
UNMET = frozenset({Outcome.WAITING, Outcome.NO_LOCAL_SERVICE})

# Every field a need record has, as inputs and CSV columns name them: anything else is refused.
FIELDS = (
    "category",
    "comune",
    "age_band",
    "household",
    "employment",
    "urgency",
    "recorded_on",
    "outcome",
    "referred_service_id",
)
