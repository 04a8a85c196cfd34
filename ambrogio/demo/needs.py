"""Demo needs: what the welfare desks of the province plausibly heard over the kept period.

Each desk records needs from the comuni it serves, in proportion to their residents (about one
need a year for every 40 residents reaches a desk). Care of elderly parents, work and
childcare dominate, as they do at the real desks; small comuni off the main valleys hear "no
local service" more often. The draws depend on the seed only; the dates count back from the
week of loading, so the gap map always has ended quarters to show.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from ambrogio.demo.records import SOURCE, Row
from ambrogio.demo.territory import places
from ambrogio.hours.calendar import TIMEZONE
from ambrogio.ids import record_id
from ambrogio.needs.lattice import Week
from ambrogio.needs.vocabulary import AgeBand, Employment, Household, Outcome, Urgency
from ambrogio.taxonomy import term_id

WEEKS = 100  # inside the 24 months kept by default
RESIDENTS_PER_NEED_A_YEAR = 40
A, H = AgeBand, Household
WITH_CHILDREN, NO_CHILDREN = H.COUPLE_WITH_CHILDREN, H.COUPLE_WITHOUT_CHILDREN
# (category, weight, the age bands it comes with, the households it comes with)
PROFILES: tuple[tuple[str, int, tuple[AgeBand, ...], tuple[Household, ...]], ...] = (
    ("badante", 14, (A.FROM_50_TO_64, A.FROM_65_TO_79), (WITH_CHILDREN, H.LIVING_ALONE)),
    ("assistenza-domiciliare", 12, (A.FROM_65_TO_79, A.OVER_80), (H.LIVING_ALONE, NO_CHILDREN)),
    ("centro-diurno", 5, (A.OVER_80,), (H.LIVING_ALONE, H.EXTENDED_FAMILY)),
    ("ricovero-di-sollievo", 3, (A.FROM_50_TO_64,), (WITH_CHILDREN,)),
    ("asilo-nido", 8, (A.FROM_30_TO_39,), (H.SINGLE_PARENT, WITH_CHILDREN)),
    ("doposcuola", 6, (A.FROM_30_TO_39, A.FROM_40_TO_49), (H.SINGLE_PARENT, WITH_CHILDREN)),
    ("babysitting", 3, (A.FROM_30_TO_39,), (H.SINGLE_PARENT,)),
    ("consulenza-familiare", 4, (A.FROM_30_TO_39, A.FROM_40_TO_49), (H.SINGLE_PARENT,)),
    ("psicologo", 7, (A.FROM_18_TO_29, A.FROM_40_TO_49), (H.LIVING_ALONE, H.WITH_PARENTS)),
    ("orientamento-al-lavoro", 6, (A.FROM_40_TO_49, A.FROM_50_TO_64), (H.LIVING_ALONE,)),
    ("ricerca-lavoro", 6, (A.FROM_40_TO_49, A.FROM_18_TO_29), (H.SINGLE_PARENT, H.WITH_PARENTS)),
    ("inserimento-lavorativo", 3, (A.FROM_18_TO_29,), (H.WITH_PARENTS,)),
    ("trasporto-anziani", 4, (A.OVER_80,), (H.LIVING_ALONE,)),
    ("accompagnamento-visite", 3, (A.FROM_65_TO_79, A.OVER_80), (H.LIVING_ALONE,)),
    ("pasti-a-domicilio", 4, (A.OVER_80,), (H.LIVING_ALONE,)),
    ("spesa-a-domicilio", 2, (A.OVER_80,), (H.LIVING_ALONE,)),
)  # fmt: skip
EMPLOYMENT_BY_AGE = {
    AgeBand.FROM_18_TO_29: (Employment.UNEMPLOYED, Employment.STUDENT, Employment.EMPLOYED),
    AgeBand.FROM_30_TO_39: (Employment.EMPLOYED, Employment.HOMEMAKER, Employment.UNEMPLOYED),
    AgeBand.FROM_40_TO_49: (Employment.UNEMPLOYED, Employment.EMPLOYED),
    AgeBand.FROM_50_TO_64: (Employment.EMPLOYED, Employment.UNEMPLOYED),
    AgeBand.FROM_65_TO_79: (Employment.RETIRED,),
    AgeBand.OVER_80: (Employment.RETIRED, Employment.UNABLE_TO_WORK),
}


def _outcome(rng: random.Random, population: int) -> Outcome:
    remote = 0.25 if population < 3_000 else 0.08
    draw = rng.random()
    if draw < remote:
        return Outcome.NO_LOCAL_SERVICE
    if draw < remote + 0.15:
        return Outcome.WAITING
    if draw < remote + 0.22:
        return Outcome.DECLINED
    return Outcome.REFERRED


def demo_needs(
    rng: random.Random,
    welfare_points: list[Row],
    services_by_category: dict[str, list[str]],
    today: date,
) -> list[Row]:
    """The needs of the desks; ``services_by_category`` maps a slug to published service ids."""
    by_code = {place.istat_code: place for place in places()}
    desks: dict[str, list[Row]] = defaultdict(list)
    for desk in welfare_points:
        for code in desk["comuni_served"]:
            desks[code].append(desk)
    categories = [profile for profile in PROFILES for _ in range(profile[1])]
    last_monday = Week.of(today).monday - timedelta(days=7)
    rows: list[Row] = []
    for code in sorted(desks):
        place = by_code.get(code)
        if place is None:
            continue
        count = round(place.population / RESIDENTS_PER_NEED_A_YEAR * WEEKS / 52)
        for _ in range(count):
            slug, _, ages, households = rng.choice(categories)
            age = rng.choice(ages)
            outcome = _outcome(rng, place.population)
            offered = services_by_category.get(slug, [])
            referred = rng.choice(offered) if outcome is Outcome.REFERRED and offered else None
            external = f"need-{len(rows) + 1}"
            day = (
                last_monday
                - timedelta(weeks=rng.randrange(WEEKS))
                + timedelta(days=rng.randrange(5))
            )
            # entered at the desk's computer that day or within the next few
            entered = datetime.combine(day, time(17, 30), TIMEZONE) + timedelta(
                days=rng.choice((0, 0, 0, 1, 2, 3))
            )
            rows.append(
                {
                    "id": record_id(SOURCE, external),
                    "source": SOURCE,
                    "external_id": external,
                    "welfare_point_id": rng.choice(desks[code])["id"],
                    "category_id": term_id(slug),
                    "comune_istat": code,
                    "age_band": age.value,
                    "household": rng.choice(households).value,
                    "employment": rng.choice(EMPLOYMENT_BY_AGE[age]).value,
                    "urgency": rng.choice(
                        (Urgency.LOW, Urgency.MEDIUM, Urgency.MEDIUM, Urgency.HIGH)
                    ).value,
                    "recorded_on": day,
                    "outcome": outcome.value,
                    "created_at": entered,
                    "updated_at": entered,
                    "referred_service_id": referred,
                }
            )
    return rows
