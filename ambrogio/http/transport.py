"""Transport rules of ``/graphql``, checked before strawberry sees the request.

Every refusal is a JSON body in GraphQL's error shape, ``{"errors": [{"message": …,
"extensions": {"code": "BAD_USER_INPUT", "field": …}}]}``, with a 4xx status:

- **POST** bodies are ``application/json`` (one JSON object: ``query``, ``variables``,
  ``operationName``, ``extensions``) or a GraphQL multipart request (``multipart/form-data``
  with ``operations`` and ``map``, checked by ``check_multipart``). Any other content type is
  415; a JSON body that is not an object (``"x"``, ``null``, a batch array) is 400; a body over
  ``AMBROGIO_MAX_BODY_BYTES`` is 413, refused by its ``Content-Length`` or as soon as the bytes
  read pass it.
- **Nesting**: JSON deeper than ``AMBROGIO_MAX_JSON_DEPTH`` (the body, ``variables`` of a GET,
  multipart ``operations``) is 400, never a ``RecursionError``.
- **Strings**: a NUL character (U+0000) or a lone UTF-16 surrogate in any variable is 400,
  ``BAD_USER_INPUT`` with ``field`` naming the variable (``filter.text``); PostgreSQL cannot
  store either. The same rule for string literals in the document is a validation rule
  (``ambrogio.schema.strings``).
- **CSRF**, as Apollo Server prevents it: a browser sends ``text/plain``,
  ``application/x-www-form-urlencoded`` and ``multipart/form-data`` POSTs cross-site without a
  CORS preflight, so such a request (or one with no content type) must carry a header that
  forces one: ``Apollo-Require-Preflight``, ``X-Ambrogio-Client`` or
  ``X-Apollo-Operation-Name`` (any value), else 400. JSON POSTs are preflighted by browsers.
- **GET** runs queries only: a mutation or subscription over GET is 405 (``Allow: POST``);
  a GET with a ``Content-Type`` other than JSON is 415. GET needs no preflight header: it never
  writes, and credentials travel in headers a browser never adds by itself, not in cookies.

Strawberry's own plain-text refusals (4xx) are rewritten into the same JSON shape, so no
client ever has to parse two kinds of error body.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SIMPLE_TYPES = frozenset(
    {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""}
)
PREFLIGHT_HEADERS = (b"apollo-require-preflight", b"x-ambrogio-client", b"x-apollo-operation-name")
# In ``scope["state"]``: the body was read and checked already (``ambrogio.http.shortcut``).
CHECKED = "graphql_checked"
REQUEST_FIELDS = {
    "query": str,
    "operationName": str,
    "variables": dict,
    "extensions": dict,
    "documentId": str,
}


class TransportError(Exception):
    """A request refused at the transport: its status, message and ``extensions``."""

    def __init__(
        self, status: int, message: str, *, field: str | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extensions: dict[str, Any] = {"code": "BAD_USER_INPUT"}
        if field is not None:
            self.extensions["field"] = field
        self.extensions.update(extra)
        self.headers: list[tuple[bytes, bytes]] = []

    def body(self) -> bytes:
        return error_body(self.message, self.extensions)


def error_body(message: str, extensions: dict[str, Any]) -> bytes:
    return json.dumps({"errors": [{"message": message, "extensions": extensions}]}).encode()


# --- JSON ------------------------------------------------------------------------------------


def load_json(raw: bytes | str, what: str, max_depth: int) -> Any:
    """Parsed JSON no deeper than ``max_depth``; 400 naming ``what`` otherwise."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise TransportError(
            400, f"{what}: JSON nested deeper than {max_depth} levels", field=what
        ) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise TransportError(400, f"{what}: not valid JSON ({error})", field=what) from None
    if depth(value) > max_depth:
        raise TransportError(400, f"{what}: JSON nested deeper than {max_depth} levels", field=what)
    return value


def depth(value: Any) -> int:
    """How deeply lists and objects nest (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            deepest = max(deepest, level)
            continue
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in children)
    return deepest


def bad_character(text: str) -> str | None:
    """Why PostgreSQL cannot take ``text`` (a NUL or a lone surrogate), or None."""
    if "\x00" in text:
        return "contains a NUL character (U+0000)"
    for char in text:
        if "\ud800" <= char <= "\udfff":
            return f"contains a lone surrogate (U+{ord(char):04X}), which is not Unicode text"
    return None


def shown(text: str, limit: int = 80) -> str:
    """``text`` as a message may quote it: NUL and lone surrogates written as escapes."""
    out = []
    for char in text[:limit]:
        if char == "\x00" or "\ud800" <= char <= "\udfff":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in item.items():
                yield where, key
                stack.append((child, f"{where}.{key}" if where else key))
        elif isinstance(item, list):
            stack.extend((child, f"{where}.{index}") for index, child in enumerate(item))


def check_variables(variables: Any) -> None:
    """400 naming the first variable whose text PostgreSQL could not store."""
    for where, text in _strings(variables, ""):
        reason = bad_character(text)
        if reason is not None:
            field = where or "variables"
            raise TransportError(
                400, f'{field}: "{shown(text)}" {reason}', field=field, value=shown(text)
            )


def check_request(data: Any, where: str = "body") -> dict[str, Any]:
    """One GraphQL request: a JSON object whose known members have the right types."""
    if isinstance(data, list):
        raise TransportError(
            400,
            f"{where}: batched operations (a JSON array) are not accepted; send one object",
            field=where,
        )
    if not isinstance(data, dict):
        raise TransportError(
            400,
            f"{where}: must be a JSON object with `query` and optional `variables`, "
            f"`operationName` and `extensions`, not {_kind(data)}",
            field=where,
        )
    for name, kind in REQUEST_FIELDS.items():
        value = data.get(name)
        if value is not None and not isinstance(value, kind):
            wanted = "a string" if kind is str else "an object"
            raise TransportError(
                400, f"{name}: must be {wanted} or null, not {_kind(value)}", field=name
            )
    check_variables(data.get("variables"))
    return data


def check_multipart(
    operations: Any, files_map: Any, files: set[str], max_depth: int
) -> dict[str, Any]:
    """The ``operations`` and ``map`` parts of a GraphQL multipart request, checked.

    ``map`` must be an object from each file part's name to a list of paths, each path
    ``variables.…`` naming a ``null`` placeholder in ``operations``.
    """
    if not isinstance(operations, str) or not isinstance(files_map, str):
        raise TransportError(
            400,
            "a GraphQL multipart request needs the text parts `operations` and `map` "
            "(https://github.com/jaydenseric/graphql-multipart-request-spec)",
            field="operations" if not isinstance(operations, str) else "map",
        )
    request = check_request(load_json(operations, "operations", max_depth), "operations")
    mapping = load_json(files_map, "map", max_depth)
    if not isinstance(mapping, dict):
        raise TransportError(
            400,
            f'map: must be a JSON object such as {{"0": ["variables.file"]}}, not {_kind(mapping)}',
            field="map",
        )
    for name, paths in mapping.items():
        if name not in files:
            raise TransportError(
                400, f"map: names the file part {name!r}, which is not sent", field="map"
            )
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
            raise TransportError(
                400,
                f"map: {name!r} must map to a list of paths such as ['variables.file']",
                field="map",
            )
        for path in paths:
            _check_placeholder(request, path)
    return request


def _check_placeholder(request: dict[str, Any], path: str) -> None:
    parts = path.split(".")
    if parts[0] != "variables" or len(parts) < 2:
        raise TransportError(
            400, f"map: {path!r} must point into `variables`, e.g. 'variables.file'", field="map"
        )
    node: Any = request
    for part in parts[:-1]:
        node = _child(node, part)
        if node is None or not isinstance(node, dict | list):
            raise TransportError(400, f"map: {path!r} is not a path in `operations`", field="map")
    last = parts[-1]
    if isinstance(node, dict):
        present = last in node and node[last] is None
    else:
        present = last.isdigit() and int(last) < len(node) and node[int(last)] is None
    if not present:
        raise TransportError(
            400, f"map: {path!r} must name a null placeholder in `operations`", field="map"
        )


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


# --- the ASGI layer --------------------------------------------------------------------------


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope.get("headers") or []}


def media_type(headers: dict[bytes, bytes]) -> str:
    raw = headers.get(b"content-type", b"").decode("latin-1")
    return raw.split(";", 1)[0].strip().lower()


def mutation_over_get(query: str, operation_name: str | None) -> str | None:
    """The type of the operation a GET would run when it is not a query, else None."""
    try:
        document = parse(query)
    except GraphQLError:
        return None  # strawberry answers the syntax error
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        o
        for o in operations
        if operation_name is None or (o.name and o.name.value == operation_name)
    ]
    if len(chosen) != 1 or chosen[0].operation is OperationType.QUERY:
        return None
    return str(chosen[0].operation.value)


class _Overflow(Exception):
    pass


class Transport:
    """The ASGI layer in front of the GraphQL view (HTTP only; websockets pass through)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_json_depth: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            if not scope.get("state", {}).get(CHECKED):
                receive = await self._check(scope, receive)
            await self.app(scope, receive, _json_errors(guarded_send))
        except TransportError as error:
            if started:
                raise
            await _refuse(send, error)
        except HTTPException as error:
            # starlette's form parser refusing a multipart body (too many parts, malformed)
            if started or error.status_code >= 500:
                raise
            await _refuse(send, TransportError(error.status_code, f"body: {error.detail}"))

    async def _check(self, scope: Scope, receive: Receive) -> Receive:
        headers = _headers(scope)
        kind = media_type(headers)
        method = scope["method"]
        if method in ("GET", "HEAD"):
            self._check_get(scope, headers, kind)
            return receive
        if method != "POST":
            return receive
        if kind in SIMPLE_TYPES and not any(h in headers for h in PREFLIGHT_HEADERS):
            raise TransportError(
                400,
                f"a POST with content type {kind or '(none)'!r} needs the header "
                "'Apollo-Require-Preflight: true' or 'X-Ambrogio-Client: <name>' "
                "(cross-site request forgery protection); or send application/json",
                field="content-type",
            )
        if kind == "multipart/form-data":
            return receive  # checked by the view (check_multipart) as strawberry reads it
        if kind != "application/json":
            raise TransportError(
                415,
                f"content type {kind!r} is not accepted: send application/json "
                "(or multipart/form-data for uploads)",
                field="content-type",
            )
        body = await self._read(headers, receive)
        data = check_request(load_json(body, "body", self.max_json_depth))
        _keep_document_id(scope, data.get("documentId"))
        # Read once: a planned answer (``ambrogio.schema.planned``) starts from it.
        scope["state"]["graphql_request"] = data
        return _replay(body, receive)

    def _check_get(self, scope: Scope, headers: dict[bytes, bytes], kind: str) -> None:
        if kind and kind != "application/json":
            raise TransportError(
                415,
                f"a GET with content type {kind!r} is not accepted: send the operation in the "
                "query string, with no content type or application/json",
                field="content-type",
            )
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        first = {name: values[0] for name, values in params.items() if values}
        if "variables" in first:
            variables = load_json(first["variables"], "variables", self.max_json_depth)
            if variables is not None and not isinstance(variables, dict):
                raise TransportError(
                    400,
                    f"variables: must be a JSON object, not {_kind(variables)}",
                    field="variables",
                )
            check_variables(variables)
        _keep_document_id(scope, first.get("documentId"))
        query = first.get("query")
        if query is not None:
            operation = mutation_over_get(query, first.get("operationName"))
            if operation is not None:
                error = TransportError(
                    405, f"a {operation} never runs over GET: send it as a POST", field="query"
                )
                error.headers.append((b"allow", b"POST"))
                raise error

    async def _read(self, headers: dict[bytes, bytes], receive: Receive) -> bytes:
        limit = self.max_body_bytes
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                raise _too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _keep_document_id(scope: Scope, document_id: str | None) -> None:
    """``documentId`` (persisted documents), which strawberry's request data leaves out, for
    the view (``request.state.document_id``)."""
    scope.setdefault("state", {})["document_id"] = document_id


def _too_large(limit: int) -> TransportError:
    return TransportError(
        413, f"body: larger than the limit of {limit:,} bytes", field="body", limit=limit
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _json_errors(send: Send) -> Send:
    """Strawberry refuses some requests with a plain-text 4xx: send those as JSON errors."""
    held: Message | None = None
    parts: list[bytes] = []

    async def rewriting_send(message: Message) -> None:
        nonlocal held
        if message["type"] == "http.response.start":
            content_type = dict(message.get("headers") or []).get(b"content-type", b"")
            if 400 <= message["status"] < 500 and content_type.startswith(b"text/plain"):
                held = message
                return
            await send(message)
            return
        if held is None or message["type"] != "http.response.body":
            await send(message)
            return
        parts.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        reason = b"".join(parts).decode("utf-8", "replace").strip() or "bad request"
        error = TransportError(held["status"], reason)
        if held["status"] == 404:  # GraphiQL, turned off in production
            error.extensions["code"] = "NOT_FOUND"
        await _refuse(send, error)

    return rewriting_send


async def _refuse(send: Send, error: TransportError) -> None:
    body = error.body()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *error.headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
