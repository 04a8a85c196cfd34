"""The ``ambrogio`` command: local database, migrations, demo data, imports and exports,
server, schema, accounts. Each command group is a module with ``register(commands)``; a
command imports what it needs when it runs, so that ``ambrogio --help`` starts fast."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ambrogio.cli import (
    accounts,
    changes,
    data,
    database,
    documents,
    housekeeping,
    needs,
    server,
    slots,
    transfer,
)
from ambrogio.settings import Settings

DESCRIPTION = (
    "Ambrogio: the local database, migrations, demo data, imports and exports, the server."
)
GROUPS = (
    database,
    data,
    server,
    slots,
    transfer,
    changes,
    accounts,
    needs,
    documents,
    housekeeping,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ambrogio", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    if getattr(args, "seed", None) is None and hasattr(args, "seed"):
        args.seed = settings.demo_seed
    from ambrogio.db.cluster import ClusterError

    try:
        result: int = args.run(settings, args)
    except ClusterError as error:
        print(f"ambrogio: {error}", file=sys.stderr)
        return 2
    return result
