"""Record ids and Relay global ids.

A record imported from a source gets a deterministic id, ``uuid5(NAMESPACE, "source:external_id")``,
so re-imports and the demo data give the same ids every time. A global id is
``base64url("Type:key")`` without padding (padding is accepted on input).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Collection
from typing import TypeVar

from ambrogio.errors import BadUserInput

K = TypeVar("K")

# The namespace of every deterministic Ambrogio id (uuid5 of the project's URL namespace).
NAMESPACE = uuid.UUID("6f1c5e0a-3b7d-5c2e-9a41-8d2f0b7e4c13")


def record_id(source: str, external_id: str) -> uuid.UUID:
    """The id of the record that ``source`` knows as ``external_id``."""
    return uuid.uuid5(NAMESPACE, f"{source}:{external_id}")


def to_global_id(type_name: str, key: str | uuid.UUID) -> str:
    raw = f"{type_name}:{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class MalformedGlobalId(ValueError):
    """The string is not a global id issued by Ambrogio."""


def from_global_id(global_id: str) -> tuple[str, str]:
    """Split a global id into (type name, key); raise ``MalformedGlobalId`` when it is not one."""
    padded = global_id + "=" * (-len(global_id) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as error:
        raise MalformedGlobalId(global_id) from error
    type_name, sep, key = raw.partition(":")
    if not sep or not type_name or not key:
        raise MalformedGlobalId(global_id)
    return type_name, key


def _article(type_name: str) -> str:
    return "an" if type_name[:1] in "AEIOU" else "a"


def decode_typed(
    global_id: str,
    expected: Collection[str],
    field: str,
    parse: Callable[[str], K],
) -> tuple[str, K]:
    """(type name, key) of a global id of one of the ``expected`` types, the key read by
    ``parse``; BAD_USER_INPUT naming ``field`` and the value when it is anything else."""
    try:
        type_name, key = from_global_id(global_id)
        if type_name not in expected:
            raise MalformedGlobalId(global_id)
        return type_name, parse(key)
    except (MalformedGlobalId, ValueError):
        names = list(expected)
        what = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
        raise BadUserInput(
            field, global_id, f"is not the id of {_article(names[0])} {what}"
        ) from None


def decode(global_id: str, expected: str, field: str) -> uuid.UUID:
    """The uuid inside a global id of type ``expected``; BAD_USER_INPUT naming ``field``."""
    return decode_typed(global_id, (expected,), field, uuid.UUID)[1]


def record_key(text: str, expected: str, field: str) -> uuid.UUID:
    """The record key in ``text``: a global id of type ``expected``, as the API hands them out,
    or the bare uuid inside one (for the command line and the tables); BAD_USER_INPUT naming
    ``field`` otherwise."""
    try:
        return uuid.UUID(text)
    except ValueError:
        return decode(text, expected, field)
