"""Every name of the public schema is described, and no description merely restates its name.

The schema is read as clients read it, through introspection: every object, interface, input
and enum type, every field, argument, input field and enum value (deprecated ones too).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from graphql import get_introspection_query, graphql_sync

from ambrogio.schema.build import build_schema

BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}
# Words that say nothing about a name: a description of only these and the name's own words
# restates it ("The name.", "Provider's id").
FILLER = {
    *("a", "an", "and", "as", "at", "by", "for", "from", "in", "is", "it", "its", "of"),
    *("on", "or", "the", "this", "that", "to", "with", "s"),
}


def introspected() -> list[dict[str, Any]]:
    query = get_introspection_query(descriptions=True, input_value_deprecation=True)
    result = graphql_sync(build_schema()._schema, query)
    assert result.errors is None and result.data is not None
    types: list[dict[str, Any]] = result.data["__schema"]["types"]
    return [t for t in types if not t["name"].startswith("__") and t["name"] not in BUILT_IN]


def named_descriptions() -> Iterator[tuple[str, str, str | None]]:
    """``(path, own name, description)`` for every name, ``Type.field(argument)`` style."""
    for kind in introspected():
        name = kind["name"]
        yield name, name, kind["description"]
        for field in kind.get("fields") or []:
            yield f"{name}.{field['name']}", field["name"], field["description"]
            for argument in field["args"]:
                path = f"{name}.{field['name']}({argument['name']})"
                yield path, argument["name"], argument["description"]
        for field in kind.get("inputFields") or []:
            yield f"{name}.{field['name']}", field["name"], field["description"]
        for value in kind.get("enumValues") or []:
            yield f"{name}.{value['name']}", value["name"], value["description"]


def words(text: str) -> list[str]:
    """Lower-case words, camelCase and SNAKE_CASE split."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return [w.lower() for w in re.findall(r"[A-Za-z0-9]+", spaced)]


def restates(name: str, description: str) -> bool:
    """True when the description holds no word beyond its name's and filler."""
    own = set(words(name))
    return set(words(description)) <= own | FILLER


def test_every_name_has_a_description() -> None:
    missing = [path for path, _, text in named_descriptions() if not (text or "").strip()]
    assert len(list(named_descriptions())) > 500, "the walk saw the schema"
    assert not missing, f"{len(missing)} names without a description: " + ", ".join(missing)


def test_no_description_restates_its_name() -> None:
    echoes = [
        f"{path}: {text!r}"
        for path, name, text in named_descriptions()
        if text and restates(name, text)
    ]
    assert not echoes, "say what it is, its units, limits, errors: " + "; ".join(echoes)


def test_the_restating_check_catches_an_echo() -> None:
    assert restates("createdAt", "Created at.")
    assert restates("Provider", "The provider")
    assert restates("OVER_80", "Over 80")
    assert not restates("createdAt", "When the record was first stored (UTC).")
