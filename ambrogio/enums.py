"""Enumerations shared by the database and the GraphQL schema.

Values are the lower-case strings stored in the database and used by the import profile
(``at_home``, ``hour``, ``elderly``); the GraphQL schema exposes the upper-case member names.
"""

from __future__ import annotations

from enum import StrEnum

from ambrogio.needs.vocabulary import NEED_ALIASES


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


# What people write for a value besides the value itself (``at_home``, ``AT_HOME``, "at home"
# are always accepted): Italian above all, and common English. Compared folded (case, accents
# and punctuation ignored, see ``ambrogio.folding``); ``ambrogio.validation.choice`` reads it.
ALIASES: dict[type[StrEnum], dict[StrEnum, tuple[str, ...]]] = {
    Delivery: {
        Delivery.ON_SITE: (
            "in sede", "sede", "presso la sede", "presso sede", "in presenza", "presenza",
            "presso la struttura", "in struttura", "sul posto", "on site", "in person",
            "in-person",
        ),
        Delivery.AT_HOME: (
            "a domicilio", "domicilio", "domiciliare", "a casa", "presso il domicilio",
            "at home", "home",
        ),
        Delivery.ONLINE: (
            "online", "on line", "a distanza", "da remoto", "remoto", "in videochiamata",
            "videochiamata", "telematico", "remote",
        ),
    },
    TargetGroup: {
        TargetGroup.ELDERLY: (
            "anziani", "anziano", "anziane", "terza eta", "over 65", "senior", "seniors",
            "older people", "the elderly",
        ),
        TargetGroup.CHILDREN: ("bambini", "bambino", "bambine", "minori", "infanzia", "kids"),
        TargetGroup.YOUTH: (
            "giovani", "ragazzi", "ragazze", "adolescenti", "young people", "teenagers",
        ),
        TargetGroup.FAMILIES: ("famiglie", "famiglia", "genitori", "family", "parents"),
        TargetGroup.DISABLED: (
            "disabili", "disabile", "disabilita", "persone con disabilita",
            "diversamente abili", "people with disabilities", "disability",
        ),
        TargetGroup.CAREGIVERS: (
            "caregiver", "caregiver familiari", "familiari", "familiari di anziani",
        ),
        TargetGroup.JOBSEEKERS: (
            "disoccupati", "inoccupati", "in cerca di lavoro", "persone in cerca di lavoro",
            "job seekers", "unemployed",
        ),
        TargetGroup.ADULTS: ("adulti", "adulto", "adult"),
    },
    PriceUnit: {
        PriceUnit.HOUR: ("ora", "ore", "orario", "all ora", "l ora", "hourly", "hours"),
        PriceUnit.SESSION: (
            "seduta", "sedute", "sessione", "sessioni", "prestazione", "visita", "lezione",
            "incontro", "colloquio", "sessions",
        ),
        PriceUnit.DAY: (
            "giorno", "giorni", "giornata", "giornaliero", "al giorno", "daily", "days",
        ),
        PriceUnit.MONTH: ("mese", "mesi", "mensile", "al mese", "monthly", "months"),
        PriceUnit.FLAT: (
            "forfait", "a forfait", "forfettario", "una tantum", "quota fissa", "prezzo fisso",
            "fisso", "fixed", "one off",
        ),
        PriceUnit.FREE: ("gratuito", "gratuita", "gratis", "gratuitamente", "free of charge"),
    },
    ProviderKind: {
        ProviderKind.THIRD_SECTOR: ("terzo settore", "ente del terzo settore", "ETS"),
        ProviderKind.SOCIAL_COOPERATIVE: (
            "cooperativa sociale", "cooperative sociali", "coop sociale", "cooperativa", "coop",
        ),
        ProviderKind.ASSOCIATION: (
            "associazione", "APS", "ODV", "associazione di volontariato",
            "associazione di promozione sociale",
        ),
        ProviderKind.BUSINESS: (
            "impresa", "azienda", "societa", "ditta", "professionista", "libero professionista",
            "company",
        ),
        ProviderKind.PUBLIC_BODY: ("ente pubblico", "pubblico", "comune", "public"),
    },
    TuirCategory: {
        TuirCategory.ART51_F: ("f", "lettera f", "lett f", "art 51 f", "art 51 lett f"),
        TuirCategory.ART51_F_BIS: (
            "f bis", "lettera f bis", "lett f bis", "art 51 f bis", "art 51 lett f bis",
        ),
        TuirCategory.ART51_F_TER: (
            "f ter", "lettera f ter", "lett f ter", "art 51 f ter", "art 51 lett f ter",
        ),
        TuirCategory.ART51_F_QUATER: (
            "f quater", "lettera f quater", "lett f quater", "art 51 f quater",
            "art 51 lett f quater",
        ),
        TuirCategory.NONE: ("nessuna", "nessuno"),
    },
    GeocodePrecision: {
        GeocodePrecision.EXACT: ("esatta", "esatto", "precisa"),
        GeocodePrecision.ADDRESS: ("indirizzo", "civico"),
        GeocodePrecision.COMUNE: ("centroide", "centroide del comune", "municipality"),
    },
    WelfarePointKind: {
        WelfarePointKind.HUB: ("sportello principale", "centrale"),
        WelfarePointKind.POINT: ("punto", "sportello", "punto welfare"),
    },
}  # fmt: skip
ALIASES.update(NEED_ALIASES)
