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

# What operators write for these values in a file, as ``enums.ALIASES`` (which takes them in).
NEED_ALIASES: dict[type[StrEnum], dict[StrEnum, tuple[str, ...]]] = {
    AgeBand: {
        AgeBand.UNDER_18: ("minorenne", "meno di 18", "under 18", "0-17"),
        AgeBand.FROM_18_TO_29: ("18-29",),
        AgeBand.FROM_30_TO_39: ("30-39",),
        AgeBand.FROM_40_TO_49: ("40-49",),
        AgeBand.FROM_50_TO_64: ("50-64",),
        AgeBand.FROM_65_TO_79: ("65-79",),
        AgeBand.OVER_80: ("80+", "over 80", "oltre 80"),
    },
    Household: {
        Household.LIVING_ALONE: ("vive solo", "vive sola", "solo", "sola", "alone"),
        Household.SINGLE_PARENT: (
            "genitore solo", "monogenitore", "famiglia monogenitoriale", "single parent",
        ),
        Household.COUPLE_WITH_CHILDREN: ("coppia con figli", "famiglia con figli"),
        Household.COUPLE_WITHOUT_CHILDREN: ("coppia senza figli", "coppia"),
        Household.WITH_PARENTS: ("con i genitori", "vive con i genitori"),
        Household.EXTENDED_FAMILY: ("famiglia allargata", "convivenza", "altri familiari"),
        Household.OTHER: ("altro",),
    },
    Employment: {
        Employment.EMPLOYED: ("occupato", "occupata", "lavoratore", "lavoratrice"),
        Employment.UNEMPLOYED: ("disoccupato", "disoccupata", "senza lavoro", "inoccupato"),
        Employment.RETIRED: ("pensionato", "pensionata", "in pensione"),
        Employment.STUDENT: ("studente", "studentessa"),
        Employment.HOMEMAKER: ("casalingo", "casalinga"),
        Employment.UNABLE_TO_WORK: ("inabile al lavoro", "inabile"),
        Employment.OTHER: ("altro",),
    },
    Urgency: {
        Urgency.LOW: ("bassa", "non urgente"),
        Urgency.MEDIUM: ("media", "normale"),
        Urgency.HIGH: ("alta", "urgente"),
    },
    Outcome: {
        Outcome.REFERRED: ("inviato", "inviata", "indirizzato", "orientato", "invio al servizio"),
        Outcome.WAITING: ("in attesa", "lista d attesa", "attesa"),
        Outcome.NO_LOCAL_SERVICE: (
            "nessun servizio", "nessun servizio locale", "servizio assente", "non disponibile",
        ),
        Outcome.DECLINED: ("rifiutato", "rifiutata", "rinuncia", "non interessato"),
    },
}  # fmt: skip
