"""Expected failures, each with a stable GraphQL ``extensions.code``.

Raise these from resolvers and domain code; the schema's error extension turns them into
GraphQL errors with their code and masks every other exception (logged with a request id).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar


class AmbrogioError(Exception):
    """Base class of the errors a client may see; ``message`` must say what to change."""

    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions


class BadUserInput(AmbrogioError):
    code = "BAD_USER_INPUT"

    def __init__(self, field: str, value: Any, reason: str) -> None:
        super().__init__(f"{field}: {_shown(value)} {reason}", field=field, value=_jsonable(value))
        self.field = field
        self.value = _jsonable(value)
        self.reason = reason


class BadUserInputs(BadUserInput):
    """Several bad fields of one input, found at once: the GraphQL error extension reports each
    as its own ``BAD_USER_INPUT`` error (field, value, reason); the first one stands for all
    where a single error is expected."""

    def __init__(self, problems: list[BadUserInput]) -> None:
        first = problems[0]
        super().__init__(first.field, first.value, first.reason)
        self.problems = tuple(problems)
        self.message = "; ".join(problem.message for problem in problems)


class NotFound(AmbrogioError):
    code = "NOT_FOUND"


class Unauthenticated(AmbrogioError):
    code = "UNAUTHENTICATED"


class Forbidden(AmbrogioError):
    code = "FORBIDDEN"


class Conflict(AmbrogioError):
    code = "CONFLICT"


class RateLimited(AmbrogioError):
    code = "RATE_LIMITED"


class Unavailable(AmbrogioError):
    code = "UNAVAILABLE"


def _shown(value: Any) -> str:
    """A value as the client wrote it: JSON's ``null``, ``true`` and ``false``, not Python's."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return repr(value)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        # NaN and infinities are not JSON; say what they were.
        return value if value == value and abs(value) != float("inf") else str(value)
    return str(value)


class UnreadableFile(Exception):
    """The file as a whole cannot be read (encoding, syntax, empty): nothing is imported."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
