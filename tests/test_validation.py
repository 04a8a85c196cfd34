"""The shared field checks on values as people write them: names of categories and enumerations."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio import taxonomy, validation
from ambrogio.enums import Delivery, PriceUnit, ProviderKind, TargetGroup
from ambrogio.errors import BadUserInput
from ambrogio.folding import fold

ALL = validation.Known(categories=frozenset(term.slug for term in taxonomy.TERMS))


def test_fold_ignores_case_accents_and_punctuation() -> None:
    assert fold("  Attività  fisica-ADATTATA ") == "attivita fisica adattata"
    assert fold("nido d'infanzia") == fold("Nido d’Infanzia") == "nido d infanzia"


def test_every_leaf_has_synonyms_and_each_names_its_own_term_only() -> None:
    for leaf in taxonomy.LEAVES:
        assert len(leaf.synonyms) >= 2, leaf.slug
    for term in taxonomy.TERMS:
        for name in (term.slug, term.label_it, term.label_en, *term.synonyms):
            assert taxonomy.NAMES[fold(name)] == term.slug, (name, term.slug)


@pytest.mark.parametrize(
    ("written", "slug"),
    [
        ("asilo-nido", "asilo-nido"),
        ("Asilo Nido", "asilo-nido"),
        ("Nursery (0–3)", "asilo-nido"),
        ("assistenza domiciliare", "assistenza-domiciliare"),
        ("Trasporto disabili", "trasporto-disabili"),
        ("  assistente  familiare ", "badante"),
        ("badanti", "badante"),
        ("Fisioterapista", "fisioterapia"),
        ("Mobilità e trasporti", "mobilita-e-trasporti"),
    ],
)
def test_a_category_is_known_by_its_slug_labels_and_synonyms(written: str, slug: str) -> None:
    assert validation.category("category", written, ALL) == slug


def test_a_name_counts_only_when_its_category_is_known() -> None:
    only_nursery = validation.Known(categories=frozenset({"asilo-nido"}))
    assert validation.category("category", "nido", only_nursery) == "asilo-nido"
    with pytest.raises(BadUserInput):
        validation.category("category", "badanti", only_nursery)


def test_an_external_term_is_known_by_its_slug_folded() -> None:
    known = validation.Known(categories=frozenset({"x-openeligibility-1102"}))
    assert validation.category("c", "X-OpenEligibility 1102", known) == "x-openeligibility-1102"


@pytest.mark.parametrize(
    ("written", "suggestion"),
    [("asilo nidoo", "`asilo-nido`"), ("badantte", "`badante`"), ("fisioterpia", "`fisioterapia`")],
)
def test_a_misspelt_category_is_refused_with_the_nearest(written: str, suggestion: str) -> None:
    with pytest.raises(BadUserInput) as refused:
        validation.category("services[0].category", written, ALL)
    assert refused.value.field == "services[0].category"
    assert refused.value.value == written
    assert refused.value.reason == f"is not a known category; did you mean {suggestion}?"


def test_a_category_like_nothing_known_is_refused_without_a_guess() -> None:
    with pytest.raises(BadUserInput) as refused:
        validation.category("category", "chiromanzia", ALL)
    assert "did you mean" not in refused.value.reason
    assert "slug" in refused.value.reason


@pytest.mark.parametrize(
    ("written", "enum", "member"),
    [
        ("a domicilio", Delivery, Delivery.AT_HOME),
        ("In sede", Delivery, Delivery.ON_SITE),
        ("on line", Delivery, Delivery.ONLINE),
        ("AT_HOME", Delivery, Delivery.AT_HOME),
        ("at-home", Delivery, Delivery.AT_HOME),
        ("anziani", TargetGroup, TargetGroup.ELDERLY),
        ("Famiglie", TargetGroup, TargetGroup.FAMILIES),
        ("bambini", TargetGroup, TargetGroup.CHILDREN),
        ("persone con disabilità", TargetGroup, TargetGroup.DISABLED),
        ("ora", PriceUnit, PriceUnit.HOUR),
        ("€/ora", PriceUnit, PriceUnit.HOUR),
        ("per seduta", PriceUnit, PriceUnit.SESSION),
        ("al mese", PriceUnit, PriceUnit.MONTH),
        ("gratuito", PriceUnit, PriceUnit.FREE),
        ("Cooperativa sociale", ProviderKind, ProviderKind.SOCIAL_COOPERATIVE),
    ],
)
def test_enumerations_are_accepted_as_people_write_them(
    written: str, enum: type[Delivery], member: Delivery
) -> None:
    assert validation.choice("field", written, enum) is member


def test_an_unknown_enumeration_value_lists_the_values_and_the_nearest() -> None:
    with pytest.raises(BadUserInput) as refused:
        validation.choice("delivery[0]", "a domiclio", Delivery)
    assert refused.value.field == "delivery[0]"
    assert refused.value.reason == (
        "is not one of: on_site, at_home, online; did you mean `at_home`?"
    )


def test_choices_resolve_a_list_in_italian_each_once() -> None:
    assert validation.choices("target_groups", "anziani|Anziani|famiglie", TargetGroup) == [
        TargetGroup.ELDERLY,
        TargetGroup.FAMILIES,
    ]


@pytest.mark.parametrize("written", ["-", "—", "?"])
def test_punctuation_alone_is_no_enumeration_value(written: str) -> None:
    with pytest.raises(BadUserInput) as refused:
        validation.choice("delivery[0]", written, Delivery)
    assert refused.value.value == written
    assert refused.value.reason.startswith("is not one of: on_site, at_home, online")


def library_email(raw: str) -> str | None:
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def ours(raw: str) -> str | None:
    try:
        return validation.email("email", raw)
    except BadUserInput:
        return None


_ATOM = st.text("abcXYZ019_+-", min_size=1, max_size=12)
_LABEL = st.text("abzAZ09-", min_size=1, max_size=12)
_TLD = st.sampled_from(["it", "org", "IT", "example", "test", "local", "c1", "x", "co", "arpa"])


@given(
    local=st.lists(_ATOM, min_size=1, max_size=3).map(".".join),
    labels=st.lists(_LABEL, min_size=1, max_size=3),
    tld=_TLD,
)
@settings(max_examples=3000, deadline=None)
def test_a_plain_address_is_what_the_library_makes_of_it(
    local: str, labels: list[str], tld: str
) -> None:
    raw = f"{local}@{'.'.join([*labels, tld])}"
    plain = validation.plain_email(raw)
    if plain is not None:
        assert library_email(raw) == plain, raw


@given(raw=st.text("aZ0_+-.@ é\"'(x", max_size=30))
@settings(max_examples=3000, deadline=None)
def test_whatever_the_regular_expression_takes_the_library_takes_alike(raw: str) -> None:
    plain = validation.plain_email(raw)
    if plain is not None:
        assert library_email(raw) == plain, raw


@pytest.mark.parametrize(
    "raw",
    [
        "info@example.org",
        "info17@example.org",  # the import benchmark's
        "Mario.Rossi+coop@Coop-Sociale.IT",
        "info@welfare-lecco.example",
        "a@b.it",
        "x@" + "a" * 63 + ".it",
        "l" * 64 + "@coop.it",
    ],
)
def test_the_plain_addresses_of_the_files_are_taken_by_the_regular_expression(raw: str) -> None:
    assert validation.plain_email(raw) == library_email(raw) is not None


@pytest.mark.parametrize(
    "raw",
    [
        "l" * 65 + "@coop.it",
        "a..b@coop.it",
        ".a@coop.it",
        "a@coop..it",
        "a@-coop.it",
        "a@ab--cd.it",
        "a@coop.test",
        "a@coop",
        "a@coop.c1",
        "a@xn--80ak6aa92e.com",
        "àlfa@coop.it",
        '"a b"@coop.it',
    ],
)
def test_anything_less_plain_is_left_to_the_library(raw: str) -> None:
    assert validation.plain_email(raw) is None
    assert ours(raw) == library_email(raw)


async def test_every_address_of_the_demo_network_is_checked_as_the_library_does(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as conn:
        found = [row[0] for row in await conn.execute(text("SELECT email FROM organization"))]
    addresses = [raw for raw in found if raw]
    assert len(addresses) > 100
    for raw in addresses:
        assert ours(raw) == library_email(raw), raw
