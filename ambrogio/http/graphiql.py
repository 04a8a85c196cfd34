"""GraphiQL, served from files in the package (``static/graphiql``): the page works offline and
loads nothing from a CDN. Its scripts are the UMD builds of ``graphiql`` 3.9 and React 18.3
from npm (MIT, licences beside them); not served in production, where GraphiQL is off."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

ASSETS = Path(__file__).parent / "static" / "graphiql"


@cache
def page() -> str:
    return (ASSETS / "index.html").read_text(encoding="utf-8")


def assets_route() -> Mount:
    """``/graphiql/…``: the page's scripts and stylesheet (ETag and Last-Modified included)."""
    return Mount("/graphiql", StaticFiles(directory=ASSETS), name="graphiql")
