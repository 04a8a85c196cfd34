"""What a GraphQL request over HTTP answered, as the tests read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class GraphQLResult:
    status: int
    data: Any
    errors: list[dict[str, Any]]

    @property
    def codes(self) -> list[str]:
        return [error.get("extensions", {}).get("code") for error in self.errors]
