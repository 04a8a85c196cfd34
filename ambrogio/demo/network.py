"""The Lecco demo network as rows: a pure, deterministic function of the seed.

The same seed gives byte-identical rows, ids and timestamps included: ids are
``record_id("demo", external_id)``, timestamps are offsets from ``BASE_TIME``, and every
random draw comes from ``random.Random``, whose sequences are stable across Python versions.
Each provider draws from its own generator, seeded from the main one, so that a change to how
one provider is built does not reshuffle all the others.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from stdnum import luhn
from stdnum.it import iva

from ambrogio.demo import archetypes as words
from ambrogio.demo.archetypes import ARCHETYPES, Archetype
from ambrogio.demo.naming import named_delivery, named_groups, named_min_age
from ambrogio.demo.records import (
    BASE_TIME,
    SOURCE,
    Row,
    phone,
    provenance,
    slugify,
    street_address,
)
from ambrogio.demo.territory import Place, places, point_near, weighted_choice, within
from ambrogio.demo.welfare_points import welfare_points
from ambrogio.enums import (
    Delivery,
    GeocodePrecision,
    PriceUnit,
    ProviderKind,
    Status,
    TuirCategory,
)
from ambrogio.ids import record_id
from ambrogio.taxonomy import BY_SLUG, Profile, Term

PROVIDERS = 300
# An at-home service reaches the comuni whose centroid is this close to its base.
SERVICE_AREA_KM = 12.0
# Agenzia delle Entrate office codes in partite IVA of Lecco firms (older ones were Como's).
TAX_OFFICES = ("097", "097", "097", "013")
PRECISIONS = (GeocodePrecision.EXACT, GeocodePrecision.ADDRESS, GeocodePrecision.COMUNE)
VERIFIER = "operatore:hub-lecco"


@dataclass
class Network:
    organizations: list[Row] = field(default_factory=list)
    locations: list[Row] = field(default_factory=list)
    services: list[Row] = field(default_factory=list)
    service_categories: list[Row] = field(default_factory=list)
    cost_options: list[Row] = field(default_factory=list)
    services_at_locations: list[Row] = field(default_factory=list)
    welfare_points: list[Row] = field(default_factory=list)


def tax_code(rng: random.Random, kind: ProviderKind, used: set[str]) -> str:
    """A valid partita IVA, or for non-commercial bodies the numeric codice fiscale (9…)."""
    while True:
        first = "9" if kind in {ProviderKind.ASSOCIATION, ProviderKind.THIRD_SECTOR} else "0"
        base = f"{first}{rng.randint(100_000, 999_999):06d}{rng.choice(TAX_OFFICES)}"
        number = iva.validate(base + luhn.calc_check_digit(base))
        if number not in used:
            used.add(number)
            return number


def provider_name(rng: random.Random, archetype: Archetype, place: Place, used: set[str]) -> str:
    for _ in range(8):
        woman = rng.random() < 0.6
        first = rng.choice(words.WOMEN if woman else words.MEN)
        surname, surname2 = rng.sample(words.SURNAMES, 2)
        name = rng.choice(archetype.names).format(
            coop=rng.choice(words.COOP_NAMES),
            kids=rng.choice(words.KIDS_NAMES),
            surname=surname,
            surname2=surname2,
            doctor=f"{'Dott.ssa' if woman else 'Dott.'} {first} {surname}",
            place=rng.choice(words.PLACES),
            saint=rng.choice(words.SAINTS),
            comune=place.name,
        )
        if name not in used:
            break
    else:
        name = f"{name} – {place.name}"
    used.add(name)
    return name


def price_step(profile: Profile) -> float:
    """Prices are round: 50 cents an hour or a session, 5 euro a month or for a course."""
    if profile.unit is PriceUnit.MONTH or (
        profile.unit is PriceUnit.FLAT and profile.price_max >= 100
    ):
        return 5.0
    return 1.0 if profile.unit is PriceUnit.DAY else 0.5


def price(rng: random.Random, profile: Profile) -> Decimal:
    amount = rng.uniform(profile.price_min, profile.price_max)
    step = price_step(profile)
    return Decimal(round(amount / step) * step).quantize(Decimal("0.01"))


UNIT_NOTES = {
    PriceUnit.HOUR: "tariffa oraria",
    PriceUnit.SESSION: "a seduta",
    PriceUnit.DAY: "tariffa giornaliera",
    PriceUnit.MONTH: "retta mensile",
    PriceUnit.FLAT: "quota",
}


def cost_options(rng: random.Random, service_ext: str, profile: Profile, free: bool) -> list[Row]:
    def row(n: int, amount: Decimal, unit: PriceUnit, note: str) -> Row:
        return {
            "id": record_id(SOURCE, f"{service_ext}/cost-{n}"),
            "amount": amount,
            "currency": "EUR",
            "unit": unit.value,
            "description": note[:1].upper() + note[1:],
        }

    if free:
        return [row(1, Decimal("0.00"), PriceUnit.FREE, "gratuito, offerta libera")]
    amount = price(rng, profile)
    options = [row(1, amount, profile.unit, profile.price_note or UNIT_NOTES[profile.unit])]
    if profile.unit is PriceUnit.SESSION and rng.random() < 0.2:
        package = (amount * 9).quantize(Decimal("1.00"))
        options.append(row(2, package, PriceUnit.FLAT, "pacchetto di 10 sedute"))
    return options


def languages(rng: random.Random, leaf: Term) -> list[str]:
    care = leaf.slug in words.CARE_LEAVES
    if rng.random() >= (0.4 if care else 0.15):
        return ["it"]
    pool = words.CARE_LANGUAGES if care else words.LANGUAGES
    codes, weights = zip(*pool, strict=True)
    return ["it", rng.choices(codes, weights=weights)[0]]


def pick_some(rng: random.Random, values: Sequence[Any], keep: float) -> list[Any]:
    """The first value always (the usual one), each other with probability ``keep``."""
    return [value for n, value in enumerate(values) if n == 0 or rng.random() < keep]


@dataclass(frozen=True, slots=True)
class _Site:
    id: Any
    place: Place


class _Builder:
    def __init__(self, network: Network, seed: int) -> None:
        self.network = network
        self.main = random.Random(seed)
        self.names: set[str] = set()
        self.tax_codes: set[str] = set()

    def provider(self, number: int) -> None:
        rng = random.Random(self.main.getrandbits(64))
        archetype = rng.choices(ARCHETYPES, weights=[a.weight for a in ARCHETYPES])[0]
        place = weighted_choice(rng, places())
        ext = f"prov-{number:04d}"
        kind = rng.choice(archetype.kinds)
        name = provider_name(rng, archetype, place, self.names)
        status = Status.DRAFT if rng.random() < 0.03 else Status.PUBLISHED
        created = BASE_TIME - timedelta(days=rng.randint(30, 720), minutes=rng.randint(0, 600))
        updated = created + timedelta(days=rng.randint(0, 25), minutes=rng.randint(0, 600))
        org = provenance(ext, status, created, updated)
        domain = f"{slugify(name)}.example"  # RFC 2606: no real business is ever linked.
        org |= {
            "name": name,
            "kind": kind.value,
            "tax_code": tax_code(rng, kind, self.tax_codes),
            "runts_id": str(rng.randint(1_000, 130_000))
            if kind in {ProviderKind.ASSOCIATION, ProviderKind.THIRD_SECTOR}
            else None,
            "description": archetype.description.format(comune=place.name),
            "email": f"info@{domain}",
            "phone": phone(rng, place),
            "website": f"https://www.{domain}" if rng.random() < 0.6 else None,
        }
        verified = rng.random() < 0.7 and status is Status.PUBLISHED
        org["verified_at"] = updated + timedelta(hours=rng.randint(1, 72)) if verified else None
        org["verified_by"] = VERIFIER if verified else None
        self.network.organizations.append(org)

        sites = [self.location(rng, org, archetype, place, 1, "Sede")]
        if rng.random() < 0.12:
            other = weighted_choice(rng, within(place, 15.0))
            sites.append(self.location(rng, org, archetype, other, 2, f"Sede di {other.name}"))
        count = min(len(archetype.leaves), rng.choices((1, 2, 3, 4), weights=(35, 35, 20, 10))[0])
        for n, slug in enumerate(rng.sample(archetype.leaves, count), start=1):
            self.service(rng, org, archetype, sites, f"{ext}/svc-{n}", BY_SLUG[slug])

    def location(
        self, rng: random.Random, org: Row, archetype: Archetype, place: Place, n: int, name: str
    ) -> _Site:
        ext = f"{org['external_id']}/loc-{n}"
        row = provenance(ext, Status(org["status"]), org["created_at"], org["updated_at"])
        precision = rng.choices(PRECISIONS, weights=(12, 85, 3))[0]
        if precision is GeocodePrecision.COMUNE:
            # Only the comune is known: the point is its centroid, and there is no address.
            lon, lat, address = place.lon, place.lat, None
        else:
            (lon, lat), address = point_near(rng, place), street_address(rng)
        wheelchair = rng.choices((True, False, None), weights=(70, 20, 10))[0]
        notes = (
            None
            if wheelchair is None
            else (words.ACCESSIBLE if wheelchair else words.NOT_ACCESSIBLE)
        )
        row |= {
            "organization_id": org["id"],
            "name": name,
            "lon": lon,
            "lat": lat,
            "geocode_precision": precision.value,
            "address": address,
            "cap": place.cap,
            "comune_istat": place.istat_code,
            "wheelchair_accessible": wheelchair,
            "accessibility": rng.choice(notes) if notes and rng.random() < 0.5 else None,
            "opening_hours": rng.choice(archetype.hours) if rng.random() < 0.95 else None,
        }
        self.network.locations.append(row)
        return _Site(row["id"], place)

    def service(
        self,
        rng: random.Random,
        org: Row,
        archetype: Archetype,
        sites: list[_Site],
        ext: str,
        leaf: Term,
    ) -> None:
        profile = leaf.profile
        if profile is None:
            raise ValueError(f"{leaf.slug} is a root category; services take a sub-category")
        status = Status(org["status"])
        if status is Status.PUBLISHED and rng.random() < 0.02:
            status = Status.DRAFT
        created = org["created_at"] + timedelta(days=rng.randint(0, 20))
        row = provenance(ext, status, created, max(created, org["updated_at"]))
        drawn = pick_some(rng, profile.delivery, 0.35)
        name = rng.choice(profile.service_names)
        # The name overrules the draws: "Fisioterapia a domicilio" is at home only.
        delivery = named_delivery(name, drawn)
        groups = named_groups(name, pick_some(rng, profile.target_groups, 0.7))
        home = sites[0].place
        area = [p.istat_code for p in within(home, SERVICE_AREA_KM)]
        row |= {
            "organization_id": org["id"],
            "name": name,
            "description": f"{leaf.label_it}: {org['name']}, {home.name}.",
            "welfare_eligible": leaf.tuir is not TuirCategory.NONE,
            "tuir_category": leaf.tuir.value,
            "target_groups": [group.value for group in groups],
            "min_age": named_min_age(name, profile.min_age),
            "max_age": profile.max_age,
            "languages": languages(rng, leaf),
            "delivery": [mode.value for mode in delivery],
            "service_area_comuni": area if Delivery.AT_HOME in delivery else [],
        }
        self.network.services.append(row)
        self.network.service_categories.append({"service_id": row["id"], "term_id": leaf.id})
        free = rng.random() < archetype.free_share
        for option in cost_options(rng, ext, profile, free):
            self.network.cost_options.append(option | {"service_id": row["id"]})
        if Delivery.ON_SITE in delivery:
            for n, site in enumerate(sites, start=1):
                if n == 1 or rng.random() < 0.6:
                    pair = {"service_id": row["id"], "location_id": site.id}
                    pair["id"] = record_id(SOURCE, f"{ext}@loc-{n}")
                    self.network.services_at_locations.append(pair)


def generate(seed: int, providers: int = PROVIDERS) -> Network:
    """The demo providers, locations and services, and the welfare hubs and points."""
    network = Network()
    builder = _Builder(network, seed)
    for number in range(1, providers + 1):
        builder.provider(number)
    network.welfare_points = welfare_points(random.Random(builder.main.getrandbits(64)))
    return network
