"""Queries to a read replica, mutations to the primary (``ambrogio.db.replicas``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from ambrogio.db import faults


class ReplicaReads(SchemaExtension):
    """Before execution, a query moves to a replica; after a mutation, its caller's reads stay
    on the primary for a while, in every process."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        routing = getattr(context, "routing", None)
        if routing is None:
            yield
            return
        kind = self.execution_context.operation_type
        if kind is OperationType.QUERY:
            context.read_from_replica()
        yield
        if kind is OperationType.MUTATION:
            with faults.tolerated():
                await routing.announce(context.writer_key)
