"""Field validators shared by the editing mutations and the bulk import.

Each takes the public field name (``provider.taxCode``, ``services[2].price_eur``) and the value
as the client sent it, returns the normalised value, and raises ``BadUserInput`` naming the field,
the value and the reason. The mutations let that error through; the importer turns it into a
row error. Nothing here touches the database: the known comuni and categories are passed in
(``Known``, loaded once per request or per import).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache, cached_property
from typing import Any, TypeVar
from urllib.parse import urlsplit

import phonenumbers
import shapely
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.it import codicefiscale, iva

from ambrogio import taxonomy
from ambrogio.enums import ALIASES, GeocodePrecision
from ambrogio.errors import BadUserInput, BadUserInputs
from ambrogio.folding import closest, fold, name_index
from ambrogio.hours.calendar import parse_opening_hours

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")

MAX_NAME = 200
MAX_TEXT = 5000
MAX_AGE = 120
MAX_PRICE = Decimal("100000")
# The longest time range a slot query or a free-slot filter may ask for.
MAX_WINDOW = timedelta(days=92)
ISTAT_CODE = re.compile(r"[0-9]{6}")

# ISO 639-1 (two-letter) language codes.
ISO_639_1 = frozenset(
    re.findall(
        "[a-z]{2}",
        "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu "
        "cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi "
        "ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks "
        "ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl "
        "nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl "
        "sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve "
        "vi vo wa wo xh yi yo za zh zu ",
    )
)


@dataclass(frozen=True)
class Known:
    """Reference values a record may name: comuni (ISTAT code -> CAPs) and category slugs."""

    comuni: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    categories: frozenset[str] = frozenset()

    @cached_property
    def category_names(self) -> dict[str, str]:
        """What a record may call a known category (folded) -> its slug: the taxonomy's names
        (slugs, labels, synonyms) and the slug of every other known term."""
        names = {key: slug for key, slug in taxonomy.NAMES.items() if slug in self.categories}
        for slug in self.categories:
            names.setdefault(fold(slug), slug)
        return names

    def comune_of_cap(self, cap: str) -> str | None:
        """The comune with this CAP, when exactly one has it."""
        owners = [code for code, caps in self.comuni.items() if cap in caps]
        return owners[0] if len(owners) == 1 else None


class Problems:
    """The bad fields of one input, collected so that it reports them all at once.

    ``check`` runs a validator and keeps its ``BadUserInput`` (every problem of a
    ``BadUserInputs``) instead of raising; ``raise_any`` raises what was found: the one
    problem, or ``BadUserInputs`` with all of them.
    """

    def __init__(self) -> None:
        self.found: list[BadUserInput] = []

    def check(self, validator: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        try:
            return validator(*args, **kwargs)
        except BadUserInput as error:
            self.add(error)
            return None

    def add(self, error: BadUserInput) -> None:
        self.found.extend(error.problems if isinstance(error, BadUserInputs) else [error])

    def raise_any(self) -> None:
        if len(self.found) == 1:
            raise self.found[0]
        if self.found:
            raise BadUserInputs(self.found)


def text(
    field: str, value: Any, *, required: bool = False, max_length: int = MAX_TEXT
) -> str | None:
    """Trimmed text; empty means absent. ``required`` refuses absent."""
    if value is None:
        cleaned = ""
    elif isinstance(value, str):
        cleaned = " ".join(value.split()) if max_length <= MAX_NAME else value.strip()
    else:
        raise BadUserInput(field, value, "must be text")
    if not cleaned:
        if required:
            raise BadUserInput(field, value, "is required")
        return None
    if len(cleaned) > max_length:
        raise BadUserInput(field, cleaned[:40] + "…", f"is longer than {max_length} characters")
    return cleaned


def name(field: str, value: Any) -> str:
    result = text(field, value, required=True, max_length=MAX_NAME)
    assert result is not None
    return result


def tax_code(field: str, value: Any) -> str | None:
    """A codice fiscale (16 characters) or a partita IVA (11 digits), in compact form."""
    raw = text(field, value, max_length=40)
    if raw is None:
        return None
    compact = re.sub(r"[\s.-]", "", raw).upper()
    if compact.startswith("IT") and len(compact) == 13:
        compact = compact[2:]
    validator = iva if compact.isdigit() else codicefiscale
    kind = "partita IVA" if compact.isdigit() else "codice fiscale"
    try:
        return str(validator.validate(compact))
    except StdnumError as error:
        raise BadUserInput(field, raw, f"is not a valid {kind}: {error}") from error


def phone(field: str, value: Any) -> str | None:
    """A phone number, Italian unless it has a country prefix, in E.164 form."""
    raw = text(field, value, max_length=40)
    if raw is None:
        return None
    try:
        number = phonenumbers.parse(raw, "IT")
    except phonenumbers.NumberParseException as error:
        raise BadUserInput(field, raw, "is not a phone number") from error
    if not phonenumbers.is_valid_number(number):
        raise BadUserInput(field, raw, "is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# The plainest addresses — dot-separated atoms of letters, digits, "_", "+" and "-"; a domain of
# letter-digit-hyphen labels without "--", under a top-level domain of letters that is not a
# special-use name — are valid for ``validate_email``, which gives them back with the domain in
# lower case: checked here in a regular expression instead of its general parser (most of an
# import's validation time). ``tests/test_validation.py`` compares both on generated addresses
# and on the demo and benchmark files.
_PLAIN_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9_+-]{1,64}(?:\.[A-Za-z0-9_+-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?P<tld>[A-Za-z]{2,63}))",
    re.ASCII,
)
_SPECIAL_USE = frozenset(SPECIAL_USE_DOMAIN_NAMES)


def plain_email(raw: str) -> str | None:
    """``raw`` normalised as ``validate_email`` would, when it has the plainest form; None for
    anything else (which ``email`` leaves to ``validate_email``)."""
    plain = _PLAIN_EMAIL.fullmatch(raw)
    if (
        plain is None
        or len(plain["local"]) > 64
        or "--" in plain["domain"]
        or plain["tld"].lower() in _SPECIAL_USE
    ):
        return None
    return f"{plain['local']}@{plain['domain'].lower()}"


def email(field: str, value: Any) -> str | None:
    raw = text(field, value, max_length=254)
    if raw is None:
        return None
    plain = plain_email(raw)
    if plain is not None:
        return plain
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise BadUserInput(field, raw, f"is not a valid e-mail address: {error}") from error


def url(field: str, value: Any) -> str | None:
    """An http(s) URL; a bare host such as ``www.coop.it`` gets ``https://``."""
    raw = text(field, value, max_length=2000)
    if raw is None:
        return None
    candidate = raw if "://" in raw else f"https://{raw}"
    parts = urlsplit(candidate)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or "." not in host or " " in candidate:
        raise BadUserInput(field, raw, "is not an http(s) URL")
    return candidate


def opening_hours(field: str, value: Any, comune_istat: str | None = None) -> str | None:
    raw = text(field, value, max_length=255)
    if raw is None:
        return None
    parse_opening_hours(raw, field=field, comune_istat=comune_istat)
    return raw


def number(field: str, value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadUserInput(field, value, "must be a number")
    try:
        result = float(value)
    except (TypeError, ValueError) as error:
        raise BadUserInput(field, value, "must be a number") from error
    if not math.isfinite(result):
        raise BadUserInput(field, value, "must be a finite number")
    return result


def coordinates(
    lat_field: str,
    lat: Any,
    lon_field: str,
    lon: Any,
    territory: tuple[float, float, float, float] | None = None,
) -> tuple[float, float, bool] | None:
    """(lat, lon, outside the territory), or None when both are absent."""
    lat_value, lon_value = number(lat_field, lat), number(lon_field, lon)
    if lat_value is None and lon_value is None:
        return None
    if lat_value is None:
        raise BadUserInput(lat_field, lat, f"is required with {lon_field}")
    if lon_value is None:
        raise BadUserInput(lon_field, lon, f"is required with {lat_field}")
    if not -90 <= lat_value <= 90:
        raise BadUserInput(lat_field, lat, "must be between -90 and 90")
    if not -180 <= lon_value <= 180:
        raise BadUserInput(lon_field, lon, "must be between -180 and 180")
    outside = False
    if territory is not None:
        west, south, east, north = territory
        outside = not (south <= lat_value <= north and west <= lon_value <= east)
    return lat_value, lon_value, outside


def geocode_precision(field: str, value: Any, located: bool) -> str | None:
    """How a given point was obtained: ``exact`` unless said otherwise; a precision given
    without a point is refused. None when there is no point."""
    precision = choice(field, value, GeocodePrecision)
    if not located:
        if precision is not None:
            raise BadUserInput(field, value, "is given without coordinates (lat and lon)")
        return None
    return (precision or GeocodePrecision.EXACT).value


def area(field: str, value: Any) -> MultiPolygon | None:
    """A service area: a GeoJSON Polygon or MultiPolygon, valid as given (never repaired)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise BadUserInput(field, value, "must be a GeoJSON Polygon or MultiPolygon object")
    kind = value.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise BadUserInput(f"{field}.type", kind, "must be Polygon or MultiPolygon")
    try:
        geometry: BaseGeometry = shape(value)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as error:
        raise BadUserInput(field, kind, f"has malformed coordinates: {error}") from error
    if geometry.is_empty:
        raise BadUserInput(field, kind, "is empty")
    west, south, east, north = geometry.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise BadUserInput(field, kind, "has coordinates outside WGS84 longitude/latitude range")
    if not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry)
        raise BadUserInput(field, kind, f"is not a valid polygon: {reason}")
    if isinstance(geometry, Polygon):
        geometry = MultiPolygon([geometry])
    assert isinstance(geometry, MultiPolygon)
    return geometry


# Words before a price unit or a delivery mode that say nothing: "per ora", "€/mese".
_FILLER = re.compile(r"^(?:(?:per|a|al|all|alla|in|euro|eur)\s+)+")


@cache
def _enum_names(enum: type[E]) -> dict[str, E]:
    """Folded value, member name and aliases (``enums.ALIASES``) -> member."""
    aliases = ALIASES.get(enum, {})
    return name_index(
        (
            (name, member)
            for member in enum
            for name in (member.value, member.name, *aliases.get(member, ()))
        ),
        enum.__name__,
    )


def choice(field: str, value: Any, enum: type[E]) -> E | None:
    """An enumeration value: the stored lower-case value, the GraphQL member name, or what
    people write for it (``enums.ALIASES``: "a domicilio", "anziani", "ora"), case, accents
    and punctuation ignored."""
    if value is None or value == "":
        return None
    if isinstance(value, enum):
        return value
    names: dict[str, E] = _enum_names(enum)
    if isinstance(value, str):
        key = fold(value)
        found = names.get(key) or names.get(_FILLER.sub("", key))
        if found is not None:
            return found
    allowed = ", ".join(member.value for member in enum)
    guesses = closest(fold(str(value)), names)
    hint = f"; did you mean {_either(member.value for member in guesses)}?" if guesses else ""
    raise BadUserInput(field, value, f"is not one of: {allowed}{hint}")


def _either(values: Iterable[str]) -> str:
    quoted = [f"`{value}`" for value in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def choices(field: str, values: Any, enum: type[E]) -> list[E]:
    items = split_list(field, values)
    result: list[E] = []
    for index, item in enumerate(items):
        member = choice(f"{field}[{index}]", item, enum)
        if member is not None and member not in result:
            result.append(member)
    return result


def split_list(field: str, values: Any) -> list[Any]:
    """A list, or text with ``|`` between items (the CSV profile)."""
    if values is None or values == "":
        return []
    if isinstance(values, str):
        return [item.strip() for item in values.split("|") if item.strip()]
    if isinstance(values, list | tuple):
        return list(values)
    raise BadUserInput(field, values, "must be a list")


def languages(field: str, values: Any) -> list[str]:
    result: list[str] = []
    for index, item in enumerate(split_list(field, values)):
        code = str(item).strip().lower()
        if code not in ISO_639_1:
            raise BadUserInput(f"{field}[{index}]", item, "is not an ISO 639-1 language code")
        if code not in result:
            result.append(code)
    return result


def age(field: str, value: Any) -> int | None:
    result = number(field, value)
    if result is None:
        return None
    if result != int(result) or not 0 <= result <= MAX_AGE:
        raise BadUserInput(field, value, f"must be a whole number of years from 0 to {MAX_AGE}")
    return int(result)


def age_range(
    min_field: str, min_value: Any, max_field: str, max_value: Any
) -> tuple[int | None, int | None]:
    low, high = age(min_field, min_value), age(max_field, max_value)
    if low is not None and high is not None and low > high:
        raise BadUserInput(min_field, min_value, f"is above {max_field} ({max_value})")
    return low, high


def price(field: str, value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).replace(",", ".")) if not isinstance(value, bool) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise BadUserInput(field, value, "must be an amount in euro, e.g. 18.50")
    if amount < 0 or amount > MAX_PRICE:
        raise BadUserInput(field, value, f"must be between 0 and {MAX_PRICE} euro")
    return amount.quantize(Decimal("0.01"))


def cap(field: str, value: Any) -> str | None:
    raw = text(field, value if not isinstance(value, int) else f"{value:05d}", max_length=10)
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{5}", raw):
        raise BadUserInput(field, raw, "is not a CAP (5 digits)")
    return raw


def comune(field: str, value: Any, known: Known) -> str | None:
    raw = text(field, value if not isinstance(value, int) else f"{value:06d}", max_length=10)
    if raw is None:
        return None
    istat_code(field, raw)
    if known.comuni and raw not in known.comuni:
        raise BadUserInput(field, raw, "is not a comune of the territory")
    return raw


def comuni(field: str, values: Any, known: Known) -> list[str]:
    result: list[str] = []
    for index, item in enumerate(split_list(field, values)):
        code = comune(f"{field}[{index}]", item, known)
        if code is not None and code not in result:
            result.append(code)
    return result


def category(field: str, value: Any, known: Known) -> str | None:
    """A known category, named by its slug, its Italian or English label or a synonym of the
    taxonomy (``taxonomy.SYNONYMS``), case, accents and punctuation ignored; an unknown name
    is refused with the nearest known ones."""
    raw = text(field, value, max_length=100)
    if raw is None:
        return None
    if raw in known.categories:
        return raw
    names = known.category_names
    key = fold(raw)
    slug = names.get(key)
    if slug is not None:
        return slug
    guesses = closest(key, names)
    if guesses:
        reason = f"is not a known category; did you mean {_either(guesses)}?"
    else:
        reason = "is not a known category: give its slug (`badante`) or its Italian or English name"
    raise BadUserInput(field, raw, reason)


def categories(field: str, values: Iterable[Any] | str | None, known: Known) -> list[str]:
    result: list[str] = []
    for index, item in enumerate(split_list(field, values)):
        slug = category(f"{field}[{index}]", item, known)
        if slug is not None and slug not in result:
            result.append(slug)
    return result


def boolean(field: str, value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    key = str(value).strip().lower()
    if key in ("true", "1", "yes", "si", "sì", "y"):
        return True
    if key in ("false", "0", "no", "n"):
        return False
    raise BadUserInput(field, value, "must be true or false")


def istat_code(field: str, value: str) -> str:
    if not ISTAT_CODE.fullmatch(value):
        raise BadUserInput(field, value, "is not an ISTAT comune code (6 digits)")
    return value


def aware(field: str, value: datetime) -> datetime:
    """An instant with its UTC offset: a time without one could be any of several instants."""
    if value.tzinfo is None:
        raise BadUserInput(field, value.isoformat(), "needs a time zone offset, e.g. +01:00")
    return value


def time_window(
    from_field: str, start: datetime, to_field: str, end: datetime
) -> tuple[datetime, datetime]:
    """[start, end): both aware, in order, at most ``MAX_WINDOW`` long."""
    aware(from_field, start)
    aware(to_field, end)
    if end <= start:
        raise BadUserInput(to_field, end.isoformat(), "must be after `from`")
    if end - start > MAX_WINDOW:
        raise BadUserInput(
            to_field, end.isoformat(), f"must be at most {MAX_WINDOW.days} days after `from`"
        )
    return start, end
