"""What the operation limits save: measuring a document (``ambrogio.schema.cost``) against
validating it (graphql-core), for a document the limits refuse, side by side in one run.

    .venv/bin/python bench/limits.py
"""

from __future__ import annotations

import time

from graphql import parse, validate

from ambrogio.schema.build import build_schema
from ambrogio.schema.cost import measure

SELECTION = "providers { edges { node { name services { name categories { slug } } } } }"


def main() -> None:
    schema = build_schema()._schema
    for repeats in (25, 50, 100):
        document = parse("{ " + " ".join([SELECTION] * repeats) + " }")
        started = time.perf_counter()
        figures = measure(schema, document, None, None)
        measured = time.perf_counter() - started
        started = time.perf_counter()
        validate(schema, document)
        validated = time.perf_counter() - started
        print(
            f"{repeats:4} repeated selections: measure {measured * 1000:7.1f} ms "
            f"(repeats={figures.repeats}), validate {validated * 1000:7.0f} ms, "
            f"{validated / measured:5.0f}x"
        )


if __name__ == "__main__":
    main()
