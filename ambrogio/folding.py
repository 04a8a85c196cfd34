"""Names compared the way people mean them: without case, accents and punctuation.

``fold("Attività  fisica-adattata")`` is ``"attivita fisica adattata"``, so a category slug, its
labels and what a spreadsheet says of it meet on one key; ``closest`` finds the known keys a
misspelt value was probably meant as (``difflib``'s ratio, the standard library's).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import TypeVar

V = TypeVar("V")

_NOT_WORD = re.compile(r"[^0-9a-z]+")
# How close a misspelling must be to suggest a known name (difflib's ratio, 0..1), and how
# much less close than the closest a second suggestion may be.
SUGGESTION_CUTOFF = 0.75
SUGGESTION_SPREAD = 0.05


def fold(value: str) -> str:
    """Lower case, accents dropped, every run of other characters one space."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", plain).strip()


def closest(key: str, names: Mapping[str, V], limit: int = 3) -> list[V]:
    """The values of the names most like ``key`` (already folded), best first, each once."""
    matches = difflib.get_close_matches(key, list(names), n=limit * 4, cutoff=SUGGESTION_CUTOFF)
    if not matches:
        return []
    best = _ratio(key, matches[0])
    near = [match for match in matches if _ratio(key, match) >= best - SUGGESTION_SPREAD]
    return list(dict.fromkeys(names[match] for match in near))[:limit]


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def name_index(entries: Iterable[tuple[str, V]], what: str) -> dict[str, V]:
    """Folded name -> value; a name that would stand for two values is a mistake in the data."""
    result: dict[str, V] = {}
    for name, value in entries:
        key = fold(name)
        if not key:
            continue
        if result.setdefault(key, value) != value:
            raise ValueError(f"{what}: {name!r} names both {result[key]!r} and {value!r}")
    return result
