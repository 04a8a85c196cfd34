"""``/graphql`` POSTs answered by a compiled plan (``ambrogio.schema.plans``), before strawberry.

The transport rules have run (``ambrogio.http.transport`` keeps the request it read); a
request whose document has a plan is answered here with the regular path's steps, in its
order, and the same answer byte for byte:

1. the operation's figures and list lengths against the limits (``ambrogio.schema.limits``);
2. the rate limit, charged the operation's cost;
3. the plan: variables coerced, the root resolver called, the answer built;
4. ``{"data": …, "extensions": {"cost": …, "requestId": …}}``, encoded with orjson, and the
   request's log line and metrics told its operation, caller and cost.

Anything else goes the regular way: credentials (the caller is read from the database),
persisted documents, trusted documents, read replicas, tracing, a document no plan covers,
a request over a limit, or one the plan cannot answer exactly (``NotCovered``: bad variables,
an argument the resolver refuses). When that happens after the rate limit was charged, the
regular path is told the outcome (``Paid``), so an operation is never charged twice.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from ambrogio.context import ANONYMOUS, Caller, Context
from ambrogio.errors import RateLimited
from ambrogio.http.requests import request_info
from ambrogio.http.transport import CHECKED
from ambrogio.schema.build import tracing_on
from ambrogio.schema.cost import measured
from ambrogio.schema.limits import check, longest_list
from ambrogio.schema.plans import NotCovered, Plans
from ambrogio.schema.reporting import ANONYMOUS as ANONYMOUS_OPERATION
from ambrogio.settings import PersistedQueries, Settings

CREDENTIALS = (b"authorization", b"x-api-key")
HEADERS = [(b"content-type", b"application/json")]


class Paid:
    """The rate limit's outcome for an operation the plan charged and then handed on: the
    regular path's charge answers it again instead of charging twice."""

    def __init__(self, refusal: RateLimited | None) -> None:
        self.refusal = refusal

    async def charge(self, caller: Caller, client: str | None, cost: int) -> None:
        if self.refusal is not None:
            raise self.refusal


def paid(scope: Scope) -> Paid | None:
    """The outcome ``Planned`` left for the regular path, if it charged this request."""
    outcome = scope.get("state", {}).get("paid")
    return outcome if isinstance(outcome, Paid) else None


class Planned:
    """The ASGI layer described above, in front of the GraphQL view."""

    def __init__(self, app: ASGIApp, *, schema: Any, state: Any, settings: Settings) -> None:
        self.app = app
        self.schema = schema
        self.state = state
        self.settings = settings
        self.plans = Plans(schema, settings.max_tokens)
        self.open = (
            settings.compiled_plans and settings.persisted_queries != PersistedQueries.TRUSTED
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and self.open:
            state = scope.get("state", {})
            request = state.get("graphql_request")
            # CHECKED: the request layer asked already (ambrogio.http.shortcut).
            if (
                request is not None
                and not state.get(CHECKED)
                and await self.answer(scope, request, send)
            ):
                return
        await self.app(scope, receive, send)

    async def answer(self, scope: Scope, request: dict[str, Any], send: Send) -> bool:
        """Whether the plan answered ``request`` (the body the transport layer read)."""
        query = request.get("query")
        if (
            not isinstance(query, str)
            or request.get("extensions") is not None
            or request.get("documentId") is not None
            or self.state.routing is not None
            or any(name in CREDENTIALS for name, _ in scope["headers"])
            or tracing_on()
        ):
            return False
        operation_name = request.get("operationName")
        plan = self.plans.get(query, operation_name)
        if plan is None:
            return False
        info = request_info(scope)
        if info is None:
            return False
        variables = request.get("variables")
        settings = self.settings
        figures = measured(self.schema._schema, plan.document, operation_name, variables)
        if check(figures, settings) is not None:
            return False
        if longest_list(plan.document, variables) > settings.max_list_items:
            return False
        client = scope.get("client")
        address = client[0] if client else None
        try:
            await self.state.limiter.charge(ANONYMOUS, address, figures.cost)
        except RateLimited as refusal:
            scope["state"]["paid"] = Paid(refusal)
            return False
        context = Context(
            settings=settings,
            sessionmaker=self.state.sessionmaker,
            engine=self.state.engine,
            notifications=self.state.notifications,
            limiter=self.state.limiter,
            routing=None,
            client=address,
            request_id=info.request_id,
            request_info=info,
            charged=True,
        )
        try:
            data = await plan.run(self.schema, context, variables)
        except NotCovered:
            scope["state"]["paid"] = Paid(None)
            return False
        info.operation = operation_name or plan.name or ANONYMOUS_OPERATION
        info.caller = ANONYMOUS.key
        info.cost = float(figures.cost)
        body = orjson.dumps(
            {"data": data, "extensions": {"cost": figures.cost, "requestId": info.request_id}}
        )
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", str(len(body)).encode()), *HEADERS],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return True
