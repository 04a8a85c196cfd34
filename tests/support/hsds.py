"""The Open Referral HSDS 3.0 files the tests read (``tests/data/hsds-3.0``, see its README).

The examples are import fixtures nobody on the team wrote; the compiled JSON Schema checks
Ambrogio's HSDS export.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

HSDS = Path(__file__).resolve().parents[1] / "data" / "hsds-3.0"
EXAMPLES = HSDS / "examples"


def validator() -> jsonschema.protocols.Validator:
    """A checker of one HSDS organization, with formats, from the compiled schema."""
    schema = json.loads((HSDS / "schema" / "compiled" / "organization.json").read_text())
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)
