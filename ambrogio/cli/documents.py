"""``ambrogio documents register MANIFEST``: the documents a client may run in trusted mode.

A manifest is Apollo's persisted query manifest (``{"format":
"apollo-persisted-query-manifest", "operations": [{"id", "body", …}]}``) or a JSON object from
each document's hash to its text (GraphQL Code Generator's and Relay's); every id or hash must
be the SHA-256 of its document, else nothing is registered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from ambrogio.settings import Settings


def manifest_bodies(data: Any) -> list[str]:
    """The documents of a manifest, each checked against its hash; ``ValueError`` says why not."""
    from ambrogio.db.documents import PREFIX, document_id

    if isinstance(data, dict) and isinstance(data.get("operations"), list):
        pairs = [(item.get("id"), item.get("body")) for item in data["operations"]]
    elif isinstance(data, dict):
        pairs = list(data.items())
    else:
        raise ValueError("a manifest is a JSON object (Apollo's format, or hash → document)")
    bodies = []
    for ident, body in pairs:
        if not isinstance(ident, str) or not isinstance(body, str):
            raise ValueError(f"{str(ident)[:80]!r}: each document needs an id and a text body")
        if document_id(body) != (ident if ident.startswith(PREFIX) else PREFIX + ident):
            raise ValueError(f"{ident[:80]!r} is not the SHA-256 of its document")
        bodies.append(body)
    return bodies


def _register(settings: Settings, args: argparse.Namespace) -> int:
    from ambrogio.db.documents import register
    from ambrogio.db.session import create_engine, create_sessionmaker

    try:
        bodies = manifest_bodies(json.loads(Path(args.manifest).read_text()))
    except (OSError, ValueError) as error:
        print(f"ambrogio documents register: {args.manifest}: {error}", file=sys.stderr)
        return 2

    async def run() -> int:
        engine = create_engine(settings)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                return await register(session, bodies, args.client)
        finally:
            await engine.dispose()

    added = asyncio.run(run())
    print(f"{len(bodies)} documents in the manifest, {added} newly registered")
    return 0


def register(commands: Any) -> None:
    group = commands.add_parser("documents", help="persisted documents (trusted mode)")
    actions = group.add_subparsers(dest="action", required=True)
    add = actions.add_parser("register", help="register a client's persisted-documents manifest")
    add.add_argument("manifest", help="the manifest (JSON)")
    add.add_argument("--client", help="the client's name, kept with its documents")
    add.set_defaults(run=_register)
