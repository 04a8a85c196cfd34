"""Search filters name categories as people do: by slug, label or synonym."""

from __future__ import annotations

from typing import Any

import pytest

SERVICES = """
query S($filter: ServiceFilter) {
  services(filter: $filter, first: 100) { totalCount edges { node { id } } }
}
"""


async def _ids(gql: Any, categories: list[str]) -> set[str]:
    result = await gql(SERVICES, filter={"categories": categories})
    assert result.errors == [], result.errors
    return {edge["node"]["id"] for edge in result.data["services"]["edges"]}


@pytest.mark.parametrize(
    ("slug", "names"),
    [
        ("badante", ["Badante", "badanti", "assistente familiare", "Home carer"]),
        ("fisioterapia", ["Fisioterapista", "Physiotherapy"]),
        ("assistenza-e-cura", ["Assistenza e cura"]),
    ],
)
async def test_a_label_or_synonym_filters_as_the_slug(
    gql: Any, slug: str, names: list[str]
) -> None:
    expected = await _ids(gql, [slug])
    assert expected, f"the demo offers {slug}"
    for name in names:
        assert await _ids(gql, [name]) == expected, name


async def test_a_misspelt_category_filter_suggests_the_slug(gql: Any) -> None:
    result = await gql(SERVICES, filter={"categories": ["fisioterapa"]})
    assert result.codes == ["BAD_USER_INPUT"]
    error = result.errors[0]
    assert error["extensions"]["field"] == "filter.categories"
    assert error["extensions"]["value"] == "fisioterapa"
    assert "did you mean `fisioterapia`?" in error["message"]
