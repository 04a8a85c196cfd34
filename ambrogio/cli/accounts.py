"""``ambrogio users …`` and ``ambrogio keys …``: people who sign in, and third-party API keys."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.settings import Settings

T = TypeVar("T")


def _in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from ambrogio.db.session import create_engine, create_sessionmaker

    async def run() -> T:
        engine = create_engine(settings)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _fail(message: str) -> int:
    print(f"ambrogio: {message}", file=sys.stderr)
    return 2


def _users(settings: Settings, args: argparse.Namespace) -> int:
    from ambrogio.auth.tokens import issue_token
    from ambrogio.auth.users import (
        UserError,
        add_user,
        deactivate_user,
        revoke_tokens,
        user_named,
    )
    from ambrogio.context import Role
    from ambrogio.db.models import AppUser, WelfarePoint
    from ambrogio.errors import BadUserInput
    from ambrogio.ids import record_key

    async def add(session: AsyncSession) -> str:
        point = (
            record_key(args.welfare_point, "WelfarePoint", "--welfare-point")
            if args.welfare_point
            else None
        )
        user = await add_user(session, args.name, Role(args.role), args.display_name, point)
        return f"added {user.role} {user.name}"

    async def listing(session: AsyncSession) -> str:
        rows = await session.execute(
            select(AppUser, WelfarePoint.name)
            .outerjoin(WelfarePoint, WelfarePoint.id == AppUser.welfare_point_id)
            .order_by(AppUser.name)
        )
        lines = [f"{'name':24} {'role':9} {'active':6} welfare point"]
        for user, point in rows:
            lines.append(f"{user.name:24} {user.role:9} {user.active!s:6} {point or '-'}")
        return "\n".join(lines)

    async def token(session: AsyncSession) -> str:
        user = await user_named(session, args.name)
        if not user.active:
            raise UserError(f"user {args.name!r} is not active")
        ttl = timedelta(hours=args.hours) if args.hours else None
        return issue_token(settings, user.name, ttl)

    async def disable(session: AsyncSession) -> str:
        await deactivate_user(session, args.name)
        return f"deactivated {args.name}; their tokens no longer work"

    async def sign_out(session: AsyncSession) -> str:
        await revoke_tokens(session, args.name)
        return f"revoked the tokens issued to {args.name} until now"

    actions: dict[str, Callable[[AsyncSession], Awaitable[str]]] = {
        "add": add,
        "list": listing,
        "token": token,
        "deactivate": disable,
        "revoke-tokens": sign_out,
    }
    try:
        print(_in_session(settings, actions[args.action]))
    except (UserError, ValueError, BadUserInput) as error:
        return _fail(str(error))
    return 0


def _keys(settings: Settings, args: argparse.Namespace) -> int:
    from ambrogio.auth.keys import create_key, revoke_key
    from ambrogio.auth.permissions import Scope
    from ambrogio.db.models import ApiKey

    async def create(session: AsyncSession) -> str:
        scopes = [Scope(scope) for scope in args.scope]
        new = await create_key(session, args.name, scopes, "cli", args.rate_limit)
        return (
            f"{new.key}\n"
            f"(key {new.prefix} for {args.name!r}; it is shown only now, store it safely)"
        )

    async def listing(session: AsyncSession) -> str:
        rows = (await session.execute(select(ApiKey).order_by(ApiKey.created_at))).scalars()
        lines = [f"{'prefix':14} {'name':24} {'scopes':28} {'per min':>7} state"]
        for key in rows:
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            scopes = ",".join(key.scopes)
            lines.append(
                f"{key.prefix:14} {key.name:24} {scopes:28} {key.rate_limit_per_minute:>7} {state}"
            )
        return "\n".join(lines)

    async def revoke(session: AsyncSession) -> str:
        if not await revoke_key(session, args.key):
            raise ValueError(f"no active key {args.key!r}")
        return f"revoked {args.key}; it fails from its next request"

    actions: dict[str, Callable[[AsyncSession], Awaitable[str]]] = {
        "create": create,
        "list": listing,
        "revoke": revoke,
    }
    try:
        print(_in_session(settings, actions[args.action]))
    except ValueError as error:
        return _fail(str(error))
    return 0


def register(commands: Any) -> None:
    """Add the ``users`` and ``keys`` commands to the ``ambrogio`` argument parser."""
    from ambrogio.auth.permissions import Scope

    users = commands.add_parser("users", help="people who sign in: mappers, reviewers, admins")
    user_actions = users.add_subparsers(dest="action", required=True)
    add = user_actions.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["mapper", "reviewer", "admin", "planner"])
    add.add_argument("--display-name")
    add.add_argument(
        "--welfare-point",
        help="the welfare point (its id from the API, or its uuid): the mapper edits only "
        "its comuni",
    )
    user_actions.add_parser("list", help="list the users")
    token = user_actions.add_parser("token", help="print a bearer token for a user")
    token.add_argument("name")
    token.add_argument("--hours", type=float, help="lifetime (default AMBROGIO_TOKEN_TTL_HOURS)")
    for action, help_text in (
        ("deactivate", "stop a user from signing in; their tokens fail at once"),
        ("revoke-tokens", "make every token issued to a user until now fail"),
    ):
        user_actions.add_parser(action, help=help_text).add_argument("name")
    users.set_defaults(run=_users)

    keys = commands.add_parser("keys", help="API keys of third-party clients")
    key_actions = keys.add_subparsers(dest="action", required=True)
    create = key_actions.add_parser("create", help="create a key (printed once)")
    create.add_argument("name")
    create.add_argument(
        "--scope",
        action="append",
        default=[],
        choices=[scope.value for scope in Scope],
        help="what the key may do besides reading (repeatable): edit, import",
    )
    create.add_argument(
        "--rate-limit", type=int, default=60_000, help="cost points a minute (a page of 20: ~100)"
    )
    key_actions.add_parser("list", help="list the keys (never their secrets)")
    key_actions.add_parser("revoke", help="revoke a key by prefix or id").add_argument("key")
    keys.set_defaults(run=_keys)
