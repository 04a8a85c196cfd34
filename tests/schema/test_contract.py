"""The schema as a contract with the clients.

- No unintended breaking change: the schema is compared with ``schema.released.graphql``, the
  SDL of the last release, by graphql-core's ``find_breaking_changes`` (a removed field or
  argument, a type changed, a nullable argument made required, ...). A deliberate break is
  made by releasing: copy ``schema.graphql`` over ``schema.released.graphql`` with the release
  notes saying what broke. Dangerous changes (an enum value added, a default changed) are
  allowed; the test prints them.

Every name being described is ``tests/schema/test_descriptions.py``'s business.
"""

from __future__ import annotations

from graphql import build_schema as build_sdl
from graphql import find_breaking_changes, find_dangerous_changes

from ambrogio.schema.build import build_schema
from ambrogio.settings import PROJECT_ROOT


def test_no_breaking_change_since_the_released_schema() -> None:
    released = build_sdl((PROJECT_ROOT / "schema.released.graphql").read_text())
    current = build_schema()._schema

    breaking = find_breaking_changes(released, current)
    for change in find_dangerous_changes(released, current):
        print(f"dangerous: {change.description}")

    assert not breaking, "\n".join(f"{c.type.name}: {c.description}" for c in breaking)
