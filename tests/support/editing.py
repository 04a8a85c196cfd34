"""GraphQL documents and small builders shared by the editing and review tests.

Records made here carry names starting with ``TEST_PREFIX``; ``tests/editing/test_editing.py`` and
``tests/editing/test_review.py`` delete them when their module ends, so the demo network other tests
count on is left as it was.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from stdnum import luhn

TEST_PREFIX = "Editest"
LECCO = "097042"
MERATE = "097048"
# Inside the territory envelope, in Lecco.
LECCO_POINT = {"lat": 45.8534, "lon": 9.3905}

PROVIDER_FIELDS = "id name kind taxCode phone email website version status verifiedAt verifiedBy"
LOCATION_FIELDS = (
    "id name lat lon geocodePrecision outsideTerritory address cap openingHours version status"
)
CHANGE_FIELDS = "id entityType entityId action baseVersion payload status author reason"
PAIR_FIELDS = "id reason similarity distanceMeters status providerA { id } providerB { id }"

CREATE_PROVIDER = f"""
mutation Create($input: ProviderInput!) {{
  createProvider(input: $input) {{
    provider {{ {PROVIDER_FIELDS} }}
    changeRequest {{ {CHANGE_FIELDS} }}
    duplicateCandidates {{ {PAIR_FIELDS} }}
  }}
}}
"""

UPDATE_PROVIDER = f"""
mutation Update($id: ID!, $version: Int!, $input: ProviderInput!) {{
  updateProvider(id: $id, version: $version, input: $input) {{
    provider {{ {PROVIDER_FIELDS} }}
    changeRequest {{ {CHANGE_FIELDS} }}
    duplicateCandidates {{ {PAIR_FIELDS} }}
  }}
}}
"""

ARCHIVE_PROVIDER = f"""
mutation Archive($id: ID!, $version: Int!) {{
  archiveProvider(id: $id, version: $version) {{
    provider {{ {PROVIDER_FIELDS} }}
    changeRequest {{ {CHANGE_FIELDS} }}
  }}
}}
"""

CREATE_LOCATION = f"""
mutation Create($input: LocationInput!) {{
  createLocation(input: $input) {{
    location {{ {LOCATION_FIELDS} }}
    changeRequest {{ {CHANGE_FIELDS} }}
    duplicateCandidates {{ {PAIR_FIELDS} }}
  }}
}}
"""

UPDATE_LOCATION = f"""
mutation Update($id: ID!, $version: Int!, $input: LocationInput!) {{
  updateLocation(id: $id, version: $version, input: $input) {{
    location {{ {LOCATION_FIELDS} }}
    changeRequest {{ {CHANGE_FIELDS} }}
  }}
}}
"""

CREATE_SERVICE = """
mutation Create($input: ServiceInput!) {
  createService(input: $input) {
    service {
      id name version status minAge maxAge targetGroups delivery languages welfareEligible
      categories { slug } costOptions { amount unit description } locations { id }
      serviceArea serviceAreaComuni { istatCode }
    }
    changeRequest { id status }
  }
}
"""

UPDATE_SERVICE = """
mutation Update($id: ID!, $version: Int!, $input: ServiceInput!) {
  updateService(id: $id, version: $version, input: $input) {
    service { id version minAge maxAge costOptions { amount unit } }
    changeRequest { id status }
  }
}
"""

CREATE_WELFARE_POINT = """
mutation Create($input: WelfarePointInput!) {
  createWelfarePoint(input: $input) {
    welfarePoint { id name kind version status openingHours outsideTerritory }
    changeRequest { id status action }
  }
}
"""

PUBLISH = f"""
mutation Publish($id: ID!) {{
  publishChange(id: $id) {{
    changeRequest {{ {CHANGE_FIELDS} decidedBy }}
    record {{
      id ... on Provider {{ name version status verifiedBy }} ... on Location {{ version }}
    }}
  }}
}}
"""

REJECT = f"""
mutation Reject($id: ID!, $reason: String!) {{
  rejectChange(id: $id, reason: $reason) {{
    changeRequest {{ {CHANGE_FIELDS} }}
    record {{ id ... on Provider {{ status }} }}
  }}
}}
"""

NODE = """
query Node($id: ID!) {
  node(id: $id) { id ... on Provider { name status locations { id } services { id } } }
}
"""

PROVIDERS_BY_TEXT = """
query Providers($text: String!) { providers(text: $text, first: 50) { edges { node { id } } } }
"""

AUDIT = """
query Audit($id: ID!, $first: Int, $after: String) {
  auditTrail(entityId: $id, first: $first, after: $after) {
    edges { node { actor action entityType entityId before after requestId } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def unique_name(label: str) -> str:
    return f"{TEST_PREFIX} {label} {uuid.uuid4().hex[:8]}"


def partita_iva() -> str:
    """A valid partita IVA no demo record has: 7 digits, a tax office (here 097), a check digit."""
    base = "".join(random.choice("123456789") for _ in range(7)) + "097"
    return base + luhn.calc_check_digit(base)


async def create_provider(gql: Any, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    values = {"name": unique_name("provider"), "kind": "SOCIAL_COOPERATIVE", **fields}
    result = await gql(CREATE_PROVIDER, _headers=headers, input=values)
    assert not result.errors, result.errors
    payload: dict[str, Any] = result.data["createProvider"]
    return payload


async def create_location(
    gql: Any, headers: dict[str, str], provider_id: str, **fields: Any
) -> dict[str, Any]:
    values = {"providerId": provider_id, "comuneIstat": LECCO, "point": LECCO_POINT, **fields}
    result = await gql(CREATE_LOCATION, _headers=headers, input=values)
    assert not result.errors, result.errors
    payload: dict[str, Any] = result.data["createLocation"]
    return payload


async def counts(engine: AsyncEngine) -> dict[str, int]:
    """Rows of every table an edit may write."""
    tables = [
        "organization",
        "location",
        "service",
        "welfare_point",
        "audit_event",
        "change_request",
        "cost_option",
        "service_category",
        "service_at_location",
        "duplicate_candidate",
    ]
    async with engine.connect() as conn:
        return {
            table: int(await conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
            for table in tables
        }


async def delete_test_records(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("DELETE FROM organization WHERE name LIKE :prefix"), {"prefix": f"{TEST_PREFIX}%"}
        )
        await conn.execute(
            text("DELETE FROM welfare_point WHERE name LIKE :prefix"), {"prefix": f"{TEST_PREFIX}%"}
        )
