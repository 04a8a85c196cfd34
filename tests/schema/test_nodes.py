"""``node(id:)`` answers for every type that implements ``Node``, with the id the API handed
out elsewhere; ``nodes(ids:)`` takes a batch; a reservation is a node only to its owner and
reviewers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.ids import to_global_id
from ambrogio.resolvers.node import MAX_NODES, NODE_TYPES
from ambrogio.schema.build import build_schema

NODE = """
query Node($id: ID!) { node(id: $id) { id __typename } }
"""
NODES = """
query Nodes($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }
"""

# One id of each type, as the read API hands them out.
IDS = """
query Ids($from: DateTime!, $to: DateTime!, $service: ID!) {
  providers(first: 1) { edges { node { id locations { id } services { id } } } }
  welfarePoints(first: 1) { edges { node { id } } }
  categories { id }
  comuni(first: 1) { edges { node { id } } }
  slots(serviceId: $service, from: $from, to: $to) { id remaining cancelled }
}
"""
RESERVE = """
mutation Reserve($slot: ID!, $key: String!) {
  reserveSlot(slotId: $slot, idempotencyKey: $key) { id }
}
"""
CANCEL = """
mutation Cancel($id: ID!, $key: String!) {
  cancelReservation(reservationId: $id, idempotencyKey: $key) { id cancelled }
}
"""
A_SERVICE_WITH_SLOTS = """
SELECT s.service_id FROM slot s JOIN service v ON v.id = s.service_id
JOIN organization o ON o.id = v.organization_id
WHERE s.status = 'open' AND s.starts_at > now() + interval '1 day' AND s.taken < s.capacity
  AND v.status = 'published' AND o.status = 'published' AND o.merged_into_id IS NULL
ORDER BY s.starts_at, s.id LIMIT 1
"""


def node_types() -> set[str]:
    schema = build_schema()._schema
    interface = schema.get_type("Node")
    return {t.name for t in schema.get_possible_types(interface)}  # type: ignore[arg-type]


async def ids_of_each_type(gql: Any, engine: AsyncEngine, owner: dict[str, str]) -> list[str]:
    async with engine.connect() as conn:
        service = (await conn.execute(text(A_SERVICE_WITH_SLOTS))).scalar_one()
    now = datetime.now(UTC)
    window = {"from": now + timedelta(days=1), "to": now + timedelta(days=21)}
    found = await gql(
        IDS,
        service=to_global_id("Service", service),
        **{name: moment.isoformat() for name, moment in window.items()},
    )
    assert not found.errors, found.errors
    data = found.data
    provider = data["providers"]["edges"][0]["node"]
    slot = next(s["id"] for s in data["slots"] if s["remaining"] and not s["cancelled"])
    reserved = await gql(RESERVE, _headers=owner, slot=slot, key=f"node-{uuid.uuid4()}")
    assert not reserved.errors, reserved.errors
    return [
        provider["id"],
        provider["locations"][0]["id"],
        provider["services"][0]["id"],
        data["welfarePoints"]["edges"][0]["node"]["id"],
        data["categories"][0]["id"],
        data["comuni"]["edges"][0]["node"]["id"],
        slot,
        reserved.data["reserveSlot"]["id"],
    ]


async def test_node_answers_for_every_type_that_implements_node(
    gql: Any, engine: AsyncEngine, login: Any
) -> None:
    # given the schema's Node types, and one id of each from the API (a reservation of ada's)
    ada, bob = await login("node-ada", "mapper"), await login("node-bob", "mapper")
    reviewer = await login("node-rita", "reviewer")
    assert node_types() == set(NODE_TYPES)
    ids = await ids_of_each_type(gql, engine, ada)
    reservation = ids[-1]

    # when each is asked for by node(id:), and all at once by nodes(ids:)
    one_by_one = [await gql(NODE, _headers=ada, id=id) for id in ids]
    batch = await gql(NODES, _headers=ada, ids=[*ids, ids[0]])
    # and the reservation by someone else, anonymously, and by a reviewer
    by_bob = await gql(NODE, _headers=bob, id=reservation)
    anonymous = await gql(NODES, ids=[reservation, ids[0]])
    by_reviewer = await gql(NODE, _headers=reviewer, id=reservation)
    await gql(CANCEL, _headers=ada, id=reservation, key=f"node-{uuid.uuid4()}")

    # then every id comes back as itself, of every type
    assert [r.data["node"]["id"] for r in one_by_one] == ids
    assert {r.data["node"]["__typename"] for r in one_by_one} == set(NODE_TYPES)
    assert [n["id"] for n in batch.data["nodes"]] == [*ids, ids[0]]
    # and a reservation is nobody else's to read
    assert by_bob.errors[0]["extensions"]["code"] == "NOT_FOUND"
    assert anonymous.data["nodes"][0] is None and anonymous.data["nodes"][1]["id"] == ids[0]
    assert by_reviewer.data["node"]["id"] == reservation


async def test_bad_ids_name_their_place_and_the_batch_is_capped(gql: Any) -> None:
    unknown = await gql(NODE, id=to_global_id("Edge", uuid.uuid4()))
    malformed = await gql(NODES, ids=[to_global_id("Comune", "097042"), "not-an-id"])
    too_many = await gql(NODES, ids=[to_global_id("Comune", "097042")] * (MAX_NODES + 1))

    (error,) = unknown.errors
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "Slot" in error["message"]
    assert malformed.errors[0]["extensions"]["field"] == "ids[1]"
    assert too_many.errors[0]["extensions"]["field"] == "ids"
    assert all("None" not in e["message"] for e in [*malformed.errors, *too_many.errors])
