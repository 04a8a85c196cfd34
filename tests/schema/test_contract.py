"""The schema as a contract with the clients.

- No unintended breaking change: the schema is compared with ``schema.released.graphql``, the
  SDL of the last release, by graphql-core's ``find_breaking_changes`` (a removed field or
  argument, a type changed, a nullable argument made required, ...). A deliberate break is
  made by releasing: copy ``schema.graphql`` over ``schema.released.graphql`` with the release
  notes saying what broke. Dangerous changes (an enum value added, a default changed) are
  allowed; the test prints them.
- Everything documented: every type, field, argument and enum value of the schema has a
  description. The ones still without are listed in ``tests/schema/undocumented.txt``, which
  may only shrink: something new without a description fails, and so does a name left in the
  list once it has one (delete the line).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    find_breaking_changes,
    find_dangerous_changes,
)
from graphql import build_schema as build_sdl

from ambrogio.schema.build import build_schema
from ambrogio.settings import PROJECT_ROOT

UNDOCUMENTED = Path(__file__).with_name("undocumented.txt")
BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


def test_no_breaking_change_since_the_released_schema() -> None:
    released = build_sdl((PROJECT_ROOT / "schema.released.graphql").read_text())
    current = build_schema()._schema

    breaking = find_breaking_changes(released, current)
    for change in find_dangerous_changes(released, current):
        print(f"dangerous: {change.description}")

    assert not breaking, "\n".join(f"{c.type.name}: {c.description}" for c in breaking)


def undocumented(schema: GraphQLSchema) -> Iterator[str]:
    """``Type``, ``Type.field``, ``Type.field(argument)``, ``Enum.VALUE``: each without a
    description."""
    for name, kind in sorted(schema.type_map.items()):
        if name.startswith("__") or name in BUILT_IN:
            continue
        if not kind.description:
            yield name
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in kind.fields.items():
                if not field.description:
                    yield f"{name}.{field_name}"
                for argument, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        yield f"{name}.{field_name}({argument})"
        if isinstance(kind, GraphQLEnumType):
            yield from (f"{name}.{v}" for v, value in kind.values.items() if not value.description)


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    known = set(UNDOCUMENTED.read_text().split())
    missing = set(undocumented(build_schema()._schema))

    new = sorted(missing - known)
    described = sorted(known - missing)
    assert not new, "describe these (strawberry's description=...): " + ", ".join(new)
    assert not described, f"now described, delete from {UNDOCUMENTED.name}: " + ", ".join(described)


if __name__ == "__main__":
    # `python -m tests.schema.test_contract` writes the list as the schema stands (after
    # describing things, or to accept what a merge brought in, deliberately).
    names = sorted(undocumented(build_schema()._schema))
    UNDOCUMENTED.write_text("\n".join(names) + "\n")
    print(f"{len(names)} names without a description in {UNDOCUMENTED}")
