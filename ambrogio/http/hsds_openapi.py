"""The OpenAPI document of the HSDS REST API (``/hsds/openapi.json``) and the JSON Schemas it
refers to (``/hsds/schemas/...``).

The document is Open Referral's reference ``openapi.json`` (``data/hsds-openapi.json``) with
our title, version, licence and server, only the paths we serve, and what we add to it:

- its schema references point at the copies of the HSDS 3.0 schemas we carry
  (``data/hsds-3.0``, served under ``/hsds/schemas/``) instead of the specification's
  repository, so a client (or a test generator) resolves every ``$ref`` from this server
  alone. ``/service_at_locations/{id}`` refers to ``compiled/service_at_location.json``: the
  reference names ``compiled/service.json`` there, which is not the object that path returns;
- the answers besides 200 (400 naming the parameter, 404, 304 for a conditional request, 429
  with ``Retry-After`` on the rate-limited paths) and the ``ETag``/``Last-Modified`` headers;
- ``format=ndjson`` on the lists (``application/x-ndjson``: every record, one a line);
- ``/changes``, our change feed.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any
from urllib.parse import urljoin

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ambrogio import __version__
from ambrogio.geo.point import MAX_RADIUS_M
from ambrogio.http.rest_limit import LIMITED

REFERENCE_SCHEMAS = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
NDJSON = "application/x-ndjson"

# The schemas the document refers to, by their path under the specification's ``schema/``
# (taxonomy_term.json refers to taxonomy.json and metadata.json, relative to itself).
SCHEMA_FILES = (
    "compiled/organization.json",
    "compiled/organization_list.json",
    "compiled/service.json",
    "compiled/service_list.json",
    "compiled/service_at_location.json",
    "compiled/service_at_location_list.json",
    "taxonomy.json",
    "taxonomy_term.json",
    "metadata.json",
)

SERVED = (
    "/",
    "/services",
    "/services/{id}",
    "/organizations",
    "/organizations/{id}",
    "/service_at_locations",
    "/service_at_locations/{id}",
    "/taxonomies",
    "/taxonomies/{id}",
    "/taxonomy_terms",
    "/taxonomy_terms/{id}",
)


def _data() -> Traversable:
    return resources.files("ambrogio") / "data"


@cache
def _reference() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((_data() / "hsds-openapi.json").read_text("utf-8"))
    return document


@cache
def schema_file(path: str) -> bytes:
    """One of ``SCHEMA_FILES``, as we carry it (unchanged from the specification)."""
    return (_data() / "hsds-3.0" / path).read_bytes()


def _local_refs(node: Any, schemas_url: str) -> Any:
    """``node`` with every reference to the specification's schemas pointing at ours."""
    if isinstance(node, dict):
        return {
            key: value.replace(REFERENCE_SCHEMAS, schemas_url)
            if key == "$ref" and isinstance(value, str)
            else _local_refs(value, schemas_url)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_local_refs(item, schemas_url) for item in node]
    return node


ERROR = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["message", "extensions"],
                "properties": {
                    "message": {"type": "string"},
                    "extensions": {
                        "type": "object",
                        "required": ["code"],
                        "properties": {
                            "code": {"type": "string"},
                            "field": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}

RATE_LIMITED: dict[str, Any] = copy.deepcopy(ERROR)
RATE_LIMITED["properties"]["errors"]["items"]["properties"]["extensions"] = {
    "type": "object",
    "required": ["code", "retryAfter", "limit", "cost"],
    "properties": {
        "code": {"type": "string", "enum": ["RATE_LIMITED"]},
        "retryAfter": {"type": "integer", "minimum": 1},
        "limit": {"type": "integer"},
        "cost": {"type": "integer"},
        "requestId": {"type": "string"},
    },
}

VALIDATORS = {
    "ETag": {
        "description": "Changes whenever the published catalogue does: send it back in "
        "`If-None-Match` to get a 304 when nothing changed.",
        "schema": {"type": "string"},
    },
    "Last-Modified": {
        "description": "When the catalogue last changed (an HTTP date); `If-Modified-Since` "
        "gets a 304 when nothing changed since. `If-None-Match` is exact, prefer it.",
        "schema": {"type": "string"},
    },
}

RESPONSES: dict[str, Any] = {
    "BadRequest": {
        "description": "A parameter this path does not take, or a bad value: the JSON error "
        "names it (`extensions.field`).",
        "content": {"application/json": {"schema": ERROR}},
    },
    "NotFound": {
        "description": "No published record has this id.",
        "content": {"application/json": {"schema": ERROR}},
    },
    "NotModified": {
        "description": "Nothing changed since the `ETag` (or the date) the request carries.",
        "headers": VALIDATORS,
    },
    "RateLimited": {
        "description": "The caller's rate limit (cost points a minute, shared with its GraphQL "
        "operations) cannot pay for this request: `extensions.code` is `RATE_LIMITED`, with "
        "`retryAfter` (seconds), `limit` and `cost`. Nothing was read.",
        "headers": {
            "Retry-After": {
                "description": "Seconds until the request could be paid for.",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
        "content": {"application/json": {"schema": RATE_LIMITED}},
    },
}


def _respond(path: str, operation: dict[str, Any]) -> None:
    """Our answers besides the reference's 200, and ndjson on the lists."""
    responses = operation["responses"]
    ok = responses["200"]
    ok["headers"] = VALIDATORS
    responses["304"] = {"$ref": "#/components/responses/NotModified"}
    responses["400"] = {"$ref": "#/components/responses/BadRequest"}
    if path.endswith("{id}"):
        responses["404"] = {"$ref": "#/components/responses/NotFound"}
    if f"/hsds{path}".startswith(LIMITED):
        responses["429"] = {"$ref": "#/components/responses/RateLimited"}
    page = ok["content"]["application/json"]["schema"]
    if "allOf" in page:
        ok["content"][NDJSON] = {
            "schema": {
                "description": "Every record that matches, one JSON object a line, no paging "
                "(the lines, read as a list, are this array).",
                "type": "array",
                "items": page["properties"]["contents"]["items"],
            }
        }


UUID = {"type": "string", "format": "uuid"}
BOOLEAN = {"type": "boolean"}


def _parameter_schemas(max_page_size: int) -> dict[str, dict[str, Any]]:
    """What each parameter takes here, said more exactly than the reference's ``string``."""
    return {
        "page": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
        "per_page": {"type": "integer", "minimum": 1, "maximum": max_page_size},
        "format": {"type": "string", "enum": ["json", "ndjson"]},
        "search": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"},
        "minimal": BOOLEAN,
        "full": BOOLEAN,
        "full_service": BOOLEAN,
        "top_only": BOOLEAN,
        "modified_after": {"type": "string", "format": "date-time"},
        "taxonomy_term_id": UUID,
        "taxonomy_id": UUID,
        "organization_id": UUID,
        "parent_id": UUID,
        "postcode": {"type": "string", "pattern": "^[0-9]{5}$"},
        "proximity": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RADIUS_M},
        "id": UUID,
    }


def _exact_parameters(document: dict[str, Any], max_page_size: int) -> None:
    schemas = _parameter_schemas(max_page_size)
    for parameter in document["components"]["parameters"].values():
        parameter["schema"] = schemas[parameter["name"]]
    for item in document["paths"].values():
        for parameter in [*item.get("parameters", []), *item["get"].get("parameters", [])]:
            if parameter.get("name") in schemas:
                parameter["schema"] = schemas[parameter["name"]]


def openapi_document(base_url: str, max_page_size: int) -> dict[str, Any]:
    """The document for a server at ``base_url`` (ending in ``/``) with pages of at most
    ``max_page_size`` records."""
    reference = _reference()
    document: dict[str, Any] = _local_refs(
        {
            **reference,
            "paths": {path: reference["paths"][path] for path in SERVED},
        },
        f"{base_url}hsds/schemas/",
    )
    document["info"] = {
        "title": "Ambrogio — Open Referral HSDS API",
        "version": __version__,
        "summary": "The published catalogue of a territorial welfare network, as HSDS 3.0.",
        "description": "Published providers (organizations) and their services, read-only. "
        "Errors are JSON in the GraphQL error shape, naming the parameter. The schemas this "
        "document refers to are served beside it, under `/hsds/schemas/`.",
        "license": {
            "name": "CC BY-SA 4.0 (this document, after Open Referral's)",
            "url": "https://creativecommons.org/licenses/by-sa/4.0/",
        },
    }
    document["servers"] = [{"url": f"{base_url}hsds"}]
    site = document["paths"]["/service_at_locations/{id}"]["get"]["responses"]["200"]
    site["content"]["application/json"]["schema"] = {
        "$ref": f"{base_url}hsds/schemas/compiled/service_at_location.json"
    }
    document["paths"]["/changes"] = copy.deepcopy(CHANGES_PATH)
    for path, item in document["paths"].items():
        _respond(path, item["get"])
    document["components"]["responses"] = RESPONSES
    _exact_parameters(document, max_page_size)
    return document


def _served_schema(path: str, base_url: str) -> dict[str, Any]:
    """One of ``SCHEMA_FILES`` with its references to the others made absolute (they are
    relative to the file; not every client resolves them against the file's own URL)."""
    schema: dict[str, Any] = _absolute_refs(
        json.loads(schema_file(path)), f"{base_url}hsds/schemas/{path}"
    )
    return schema


def _absolute_refs(node: Any, url: str) -> Any:
    if isinstance(node, dict):
        return {
            key: urljoin(url, value)
            if key == "$ref" and isinstance(value, str) and not value.startswith("#")
            else _absolute_refs(value, url)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_absolute_refs(item, url) for item in node]
    return node


def openapi_routes(max_page_size: int) -> list[Route]:
    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document(str(request.base_url), max_page_size))

    async def schema(request: Request) -> Response:
        path = request.path_params["path"]
        if path not in SCHEMA_FILES:
            message = f"path: no schema {path!r}; known: {', '.join(SCHEMA_FILES)}"
            body = {"errors": [{"message": message, "extensions": {"code": "NOT_FOUND"}}]}
            return JSONResponse(body, 404)
        if path.startswith("compiled/"):
            # Self-contained: sent as we carry them (a few MB each, no need to parse).
            return Response(schema_file(path), media_type="application/schema+json")
        body = _served_schema(path, str(request.base_url))
        return JSONResponse(body, media_type="application/schema+json")

    return [
        Route("/hsds/openapi.json", openapi, methods=["GET"], name="hsds_openapi"),
        Route("/hsds/schemas/{path:path}", schema, methods=["GET"]),
    ]


# Our extension of the HSDS API, described as the reference describes its own paths.
CHANGES_PATH: dict[str, Any] = {
    "get": {
        "summary": "The change feed (an Ambrogio extension)",
        "description": "Every create, update, publish, archive, merge and delete of an "
        "organization, location, service or welfare point the public can see (or saw before), "
        "oldest first, in a commit-safe order: following `next_after` misses nothing. "
        "`published: false` means: drop the record from your copy. Changes are kept 90 days; "
        "an older cursor is a 400 (read the catalogue afresh).",
        "operationId": "getChanges",
        "parameters": [
            {
                "name": "after",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "The `next_after` of the previous call; none: from the oldest kept.",
            },
            {"$ref": "#/components/parameters/per_page"},
        ],
        "responses": {
            "200": {
                "description": "A page of changes.",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["contents", "size", "next_after", "has_more"],
                            "properties": {
                                "contents": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["type", "id", "change", "published", "at"],
                                        "properties": {
                                            "type": {"type": "string"},
                                            "id": {"type": "string", "format": "uuid"},
                                            "change": {
                                                "type": "string",
                                                "enum": [
                                                    "create",
                                                    "update",
                                                    "publish",
                                                    "archive",
                                                    "merge",
                                                    "delete",
                                                ],
                                            },
                                            "published": {"type": "boolean"},
                                            "survivor_id": {"type": ["string", "null"]},
                                            "at": {"type": "string", "format": "date-time"},
                                        },
                                    },
                                },
                                "size": {"type": "integer"},
                                "next_after": {"type": ["string", "null"]},
                                "has_more": {"type": "boolean"},
                            },
                        }
                    }
                },
            }
        },
    }
}
