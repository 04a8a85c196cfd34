"""Whether two providers are one: hard rules first, then a score in the Fellegi–Sunter spirit.

The candidate pairs and their field comparisons come from PostgreSQL
(``ambrogio.editing.matching``); this module only weighs them, so every weight and the
threshold live here.

Hard rules, in order:

1. the same *valid* partita IVA / codice fiscale, or the same RUNTS id: one legal entity, a
   match whatever the names and wherever the places;
2. two *different* valid identifiers of the same kind (two partite IVA, two personal codici
   fiscali, two RUNTS ids): two legal entities by definition, never flagged (a personal codice
   fiscale beside a partita IVA says nothing: a sole trader has both);
3. names that carry different numbers ("Ambulatorio 3" / "Ambulatorio 4", "… 01" / "… 15"):
   numbered units sharing a building, never flagged.

Otherwise each field adds its weight — roughly log2(m/u), how much more often the comparison
outcome is seen among true twins (m) than among neighbours that are not (u) — and the pair is
flagged when the sum reaches ``THRESHOLD``. A field one side lacks weighs nothing. Names are
compared on their *distinctive* part (``core``): accents, case, punctuation, legal forms
("s.r.l.", "coop. soc.", "onlus") and the words every other provider's name has
("cooperativa", "sociale", "associazione", "centro", "studio", articles) removed, so that
"Coop. Soc. Il Girasole" and "COOPERATIVA SOCIALE IL GIRASOLÈ" are one name and "Studio
Rossi" and "Studio Bianchi" are two.

The weights were set by hand from these considerations and checked on the labelled pairs of
``tests/editing/test_duplicate_quality.py`` (precision and recall asserted there).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from stdnum.it import codicefiscale, iva

# Words that say what kind of body a provider is, not which one: removed before comparing.
COMMON_WORDS = (
    # legal forms, spelt out and abbreviated (punctuation is gone by then: "s.r.l." is "s r l")
    "srl", "srls", "spa", "snc", "sas", "scarl", "scrl", "scs", "onlus", "aps", "odv", "ets",
    "asd", "ssd", "coop", "cooperativa", "cooperative", "soc", "sociale", "sociali", "societa",
    "associazione", "ass", "assoc", "associati", "associato", "fondazione", "fond", "impresa",
    "ente", "consorzio", "cons", "gruppo", "circolo", "comitato", "unione", "federazione",
    # kinds of place and of service
    "centro", "centri", "studio", "studi", "servizi", "servizio", "ambulatorio",
    "poliambulatorio", "casa", "residenza", "rsa", "asilo", "nido", "scuola", "agenzia",
    "culturale", "sportiva", "polisportiva", "volontari", "volontariato", "medico", "medica",
    "infanzia", "dott", "ssa", "dottssa", "dottoressa", "dottor", "dr", "prof",
    # articles and prepositions
    "il", "lo", "la", "le", "gli", "i", "l", "di", "del", "dello", "della", "dei", "degli",
    "delle", "d", "e", "ed", "a", "al", "alla", "ai", "in", "per", "con", "da",
)  # fmt: skip
# Names whose distinctive part is at least this alike (pg_trgm similarity) become candidates.
CANDIDATE_SIMILARITY = 0.35
# Places at most this far apart (metres, on the ellipsoid) make their providers candidates.
NEARBY_METRES = 250.0

# (lower bound, weight): the first band the value reaches gives the weight.
NAME_BANDS = ((0.8, 5.0), (0.5, 3.5), (CANDIDATE_SIMILARITY, 0.5))
NAME_UNLIKE = -3.0
# (upper bound in metres, weight) between the nearest places of the two providers.
DISTANCE_BANDS = ((25.0, 3.0), (100.0, 2.5), (NEARBY_METRES, 1.0))
DISTANCE_FAR = -2.0
# (weight when equal, weight when both are given and differ).
PHONE = (4.0, -1.0)
EMAIL = (4.0, -1.0)
WEBSITE_DOMAIN = (3.0, -1.5)
# The addresses of the nearest places: alike, or clearly not.
ADDRESS_ALIKE = (0.8, 1.0)
ADDRESS_UNLIKE = (0.4, -1.0)
THRESHOLD = 6.0

_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class PairFields:
    """Two providers' fields as PostgreSQL compared them (``core``: the distinctive name)."""

    name_a: str
    name_b: str
    core_a: str
    core_b: str
    name_similarity: float
    tax_a: str | None = None
    tax_b: str | None = None
    runts_a: str | None = None
    runts_b: str | None = None
    phone_a: str | None = None
    phone_b: str | None = None
    email_a: str | None = None
    email_b: str | None = None
    website_a: str | None = None
    website_b: str | None = None
    # Between their nearest located places; None when either has none.
    distance_m: float | None = None
    address_similarity: float | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    flagged: bool
    # "tax_code", "runts_id" (a hard rule matched) or "name_nearby" (scored).
    reason: str
    score: float
    reasons: tuple[str, ...]


def _tax_kind(code: str | None) -> str | None:
    """ "partita IVA" or "codice fiscale" for a valid code, None otherwise."""
    if not code:
        return None
    if len(code) == 11 and code.isdigit():
        return "partita IVA" if iva.is_valid(code) else None
    return "codice fiscale" if codicefiscale.is_valid(code) else None


def _numbers(name: str) -> frozenset[int]:
    return frozenset(int(n) for n in _NUMBER.findall(name))


def _domain(url: str | None) -> str | None:
    if not url:
        return None
    host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    host = host.lower().removeprefix("www.")
    return host or None


def _band(value: float, bands: Sequence[tuple[float, float]], *, below: bool) -> float | None:
    for bound, weight in bands:
        if (value <= bound) if below else (value >= bound):
            return weight
    return None


def _hard_rule(p: PairFields) -> tuple[bool, str, str] | None:
    """(flagged, reason, why) when a hard rule decides the pair."""
    kind_a, kind_b = _tax_kind(p.tax_a), _tax_kind(p.tax_b)
    if kind_a and p.tax_a == p.tax_b:
        return True, "tax_code", f"same {kind_a} {p.tax_a}: one legal entity"
    if p.runts_a and p.runts_a == p.runts_b:
        return True, "runts_id", f"same RUNTS id {p.runts_a}: one body"
    if kind_a and kind_a == kind_b:
        return False, "tax_code", f"different {kind_a}: {p.tax_a} and {p.tax_b}, two legal entities"
    if p.runts_a and p.runts_b:
        return False, "runts_id", f"different RUNTS ids {p.runts_a} and {p.runts_b}"
    numbers_a, numbers_b = _numbers(p.name_a), _numbers(p.name_b)
    if numbers_a and numbers_b and numbers_a != numbers_b:
        return False, "name_nearby", "the names differ in a number"
    return None


def _same(
    label: str, a: str | None, b: str | None, weights: tuple[float, float]
) -> tuple[float, str] | None:
    if not a or not b:
        return None
    if a.casefold() == b.casefold():
        return weights[0], f"same {label} {a}"
    return weights[1], f"different {label}"


def _evidence(p: PairFields) -> list[tuple[float, str]]:
    """Each field's weight and what it says."""
    out: list[tuple[float, str]] = []
    name = _band(p.name_similarity, NAME_BANDS, below=False)
    shown = f"names {p.core_a!r} and {p.core_b!r}"
    if name is None:
        out.append((NAME_UNLIKE, f"{shown} unlike ({p.name_similarity:.2f})"))
    else:
        out.append((name, f"{shown} alike ({p.name_similarity:.2f})"))
    if p.distance_m is not None:
        near = _band(p.distance_m, DISTANCE_BANDS, below=True)
        out.append((DISTANCE_FAR if near is None else near, f"{p.distance_m:.0f} m apart"))
    for label, a, b, weights in (
        ("phone", p.phone_a, p.phone_b, PHONE),
        ("e-mail", p.email_a, p.email_b, EMAIL),
        ("website domain", _domain(p.website_a), _domain(p.website_b), WEBSITE_DOMAIN),
    ):
        found = _same(label, a, b, weights)
        if found is not None:
            out.append(found)
    if p.address_similarity is not None:
        if p.address_similarity >= ADDRESS_ALIKE[0]:
            out.append((ADDRESS_ALIKE[1], "addresses alike"))
        elif p.address_similarity < ADDRESS_UNLIKE[0]:
            out.append((ADDRESS_UNLIKE[1], "addresses unlike"))
    return out


def judge(p: PairFields) -> Verdict:
    """Flag the pair or not, with the score and the reasons (strongest evidence first)."""
    evidence = sorted(_evidence(p), key=lambda item: -abs(item[0]))
    score = round(sum(weight for weight, _ in evidence), 2)
    reasons = tuple(f"{what} ({weight:+.1f})" for weight, what in evidence)
    ruled = _hard_rule(p)
    if ruled is None:
        return Verdict(score >= THRESHOLD, "name_nearby", score, reasons)
    flagged, reason, why = ruled
    return Verdict(flagged, reason, score, (why, *reasons))


def core_pattern() -> str:
    """A PostgreSQL regular expression matching the common words (and single letters)."""
    words = sorted(set(COMMON_WORDS), key=lambda w: (-len(w), w))
    return r"\m(" + "|".join(words) + r"|[a-z])\M"
