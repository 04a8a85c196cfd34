"""``ambrogio serve`` and ``ambrogio schema``: the HTTP server and its GraphQL SDL."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ambrogio.settings import Settings


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from ambrogio.app import build_app

    uvicorn.run(
        build_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level="info",
        proxy_headers=False,
    )
    return 0


def _schema(settings: Settings, args: argparse.Namespace) -> int:
    from ambrogio.schema.build import schema_sdl

    sys.stdout.write(schema_sdl())
    return 0


def register(commands: Any) -> None:
    serve = commands.add_parser("serve", help="serve GraphQL on HTTP")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=_serve)

    schema = commands.add_parser("schema", help="print the GraphQL SDL")
    schema.set_defaults(run=_schema)
