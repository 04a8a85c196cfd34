"""Who is calling: bearer tokens, API keys, roles, and the admin operations on keys."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ambrogio.auth.permissions import Permission, Scope, permissions
from ambrogio.auth.tokens import issue_token
from ambrogio.auth.users import deactivate_user, revoke_tokens
from ambrogio.context import Caller, Role
from ambrogio.db.models import ApiKey, WelfarePoint
from ambrogio.settings import Settings

ME = "{ me { role name scopes permissions comuni } }"
CREATE_KEY = """
mutation ($name: String!, $scopes: [ApiScope!], $limit: Int! = 600) {
  createApiKey(name: $name, scopes: $scopes, rateLimitPerMinute: $limit) {
    key apiKey { id name scopes rateLimitPerMinute revokedAt createdBy }
  }
}"""
REVOKE_KEY = "mutation ($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_anonymous_is_public(gql: Any) -> None:
    result = await gql(ME)
    assert not result.errors
    assert result.data["me"] == {
        "role": "public",
        "name": None,
        "scopes": [],
        "permissions": [],
        "comuni": None,
    }


@pytest.mark.parametrize(
    ("role", "permissions"),
    [
        ("mapper", ["edit", "import", "plan"]),
        ("reviewer", ["edit", "import", "plan", "review"]),
        ("admin", ["admin", "edit", "import", "plan", "review"]),
    ],
)
async def test_token_carries_the_users_role(
    gql: Any, login: Any, role: str, permissions: list[str]
) -> None:
    headers = await login(f"auth-{role}", role)
    result = await gql(ME, _headers=headers)
    assert not result.errors
    assert result.data["me"]["role"] == role
    assert result.data["me"]["name"] == f"auth-{role}"
    assert result.data["me"]["permissions"] == permissions


async def test_mapper_of_a_welfare_point_is_limited_to_its_comuni(
    gql: Any, login: Any, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as session:
        point = (
            await session.scalars(
                select(WelfarePoint).where(WelfarePoint.comuni_served != []).limit(1)
            )
        ).one()
    headers = await login("auth-local-mapper", "mapper", point.id)
    result = await gql(ME, _headers=headers)
    assert result.data["me"]["comuni"] == sorted(point.comuni_served)


async def test_expired_token_fails(gql: Any, login: Any, settings: Settings) -> None:
    await login("auth-expired", "reviewer")
    token = issue_token(settings, "auth-expired", ttl=timedelta(seconds=-1))
    result = await gql(ME, _headers=bearer(token))
    assert result.codes == ["UNAUTHENTICATED"]
    assert "expired" in result.errors[0]["message"]
    assert result.data is None


async def test_token_signed_with_another_key_fails(
    gql: Any, login: Any, settings: Settings
) -> None:
    await login("auth-forged", "admin")
    genuine = jwt.decode(
        issue_token(settings, "auth-forged"),
        settings.signing_key,
        algorithms=["HS256"],
        issuer="ambrogio",
    )
    forged = jwt.encode(genuine, "not-the-signing-key-" + "x" * 32, algorithm="HS256")
    result = await gql(ME, _headers=bearer(forged))
    assert result.codes == ["UNAUTHENTICATED"]
    assert "signature" in result.errors[0]["message"]


async def test_unsigned_token_fails(gql: Any, login: Any) -> None:
    await login("auth-unsigned", "admin")
    unsigned = jwt.encode({"sub": "auth-unsigned", "iss": "ambrogio"}, None, algorithm="none")
    assert (await gql(ME, _headers=bearer(unsigned))).codes == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-token", "Basic YWRhOnNlY3JldA==", "Bearer", "Bearer amb_nope"],
)
async def test_malformed_credentials_fail(gql: Any, authorization: str) -> None:
    result = await gql(ME, _headers={"Authorization": authorization})
    assert result.codes == ["UNAUTHENTICATED"]
    assert "Traceback" not in result.errors[0]["message"]


async def test_token_of_unknown_user_fails(gql: Any, settings: Settings) -> None:
    token = issue_token(settings, "auth-nobody")
    assert (await gql(ME, _headers=bearer(token))).codes == ["UNAUTHENTICATED"]


async def test_deactivated_user_fails_at_once(
    gql: Any, login: Any, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    headers = await login("auth-leaver", "mapper")
    assert not (await gql(ME, _headers=headers)).errors
    async with sessionmaker() as session, session.begin():
        await deactivate_user(session, "auth-leaver")
    assert (await gql(ME, _headers=headers)).codes == ["UNAUTHENTICATED"]


async def test_revoked_tokens_fail_and_new_ones_work(
    gql: Any, login: Any, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    old = await login("auth-revoked", "reviewer")
    async with sessionmaker() as session, session.begin():
        await revoke_tokens(session, "auth-revoked")
    assert (await gql(ME, _headers=old)).codes == ["UNAUTHENTICATED"]
    fresh = bearer(issue_token(settings, "auth-revoked"))
    assert (await gql(ME, _headers=fresh)).data["me"]["role"] == "reviewer"


async def test_role_comes_from_the_database_not_the_token(gql: Any, login: Any) -> None:
    headers = await login("auth-demoted", "admin")
    assert "admin" in (await gql(ME, _headers=headers)).data["me"]["permissions"]
    await login("auth-demoted", "mapper")  # demoted; the old token is still in hand
    assert (await gql(ME, _headers=headers)).data["me"]["permissions"] == ["edit", "import", "plan"]


async def test_admin_creates_a_key_that_works_and_is_stored_hashed(
    gql: Any, login: Any, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await login("auth-admin", "admin")
    created = await gql(CREATE_KEY, _headers=admin, name="Portale Welfare", scopes=["EDIT"])
    assert not created.errors
    key = created.data["createApiKey"]["key"]
    listed = created.data["createApiKey"]["apiKey"]
    assert listed["scopes"] == ["edit", "read"]
    assert listed["createdBy"] == "auth-admin"

    for headers in ({"X-API-Key": key}, bearer(key)):
        me = (await gql(ME, _headers=headers)).data["me"]
        assert me["role"] == "api_client"
        assert me["name"] == "Portale Welfare"
        assert me["scopes"] == ["edit", "read"]
        assert me["permissions"] == ["edit"]

    secret = key.split("_", 2)[2]
    async with sessionmaker() as session:
        row = (await session.scalars(select(ApiKey).where(ApiKey.prefix == listed["id"]))).one()
        dump = await session.scalar(
            text("SELECT row_to_json(api_key)::text FROM api_key WHERE id = :id"), {"id": row.id}
        )
    assert secret not in dump
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.last_used_at is not None


async def test_revoked_key_fails_at_once(
    gql: Any, login: Any, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await login("auth-admin", "admin")
    created = (await gql(CREATE_KEY, _headers=admin, name="to revoke")).data["createApiKey"]
    headers = {"X-API-Key": created["key"]}
    assert (await gql(ME, _headers=headers)).data["me"]["role"] == "api_client"
    revoked = await gql(REVOKE_KEY, _headers=admin, id=created["apiKey"]["id"])
    assert revoked.data["revokeApiKey"]["revokedAt"] is not None
    result = await gql(ME, _headers=headers)
    assert result.codes == ["UNAUTHENTICATED"]
    assert "revoked" in result.errors[0]["message"]

    # both are in the audit trail, without the secret or its digest
    async with sessionmaker() as session:
        events = (
            await session.execute(
                text(
                    "SELECT e.action, e.actor, e.after::text FROM audit_event e "
                    "JOIN api_key k ON k.id = e.entity_id "
                    "WHERE e.entity_type = 'api_key' AND k.prefix = :prefix ORDER BY e.id"
                ),
                {"prefix": created["apiKey"]["id"]},
            )
        ).all()
    assert [(action, actor) for action, actor, _ in events] == [
        ("create", "auth-admin"),
        ("revoke", "auth-admin"),
    ]
    secret = created["key"].split("_", 2)[2]
    assert all(secret not in after and "secret_hash" not in after for _, _, after in events)


async def test_key_with_a_wrong_secret_fails(gql: Any, login: Any) -> None:
    admin = await login("auth-admin", "admin")
    key = (await gql(CREATE_KEY, _headers=admin, name="guessed")).data["createApiKey"]["key"]
    prefix = key.rsplit("_", 1)[0]
    result = await gql(ME, _headers={"X-API-Key": f"{prefix}_{'A' * 43}"})
    assert result.codes == ["UNAUTHENTICATED"]


async def test_key_over_its_rate_limit_is_refused(gql: Any, login: Any) -> None:
    admin = await login("auth-admin", "admin")
    created = await gql(CREATE_KEY, _headers=admin, name="chatty", limit=3)
    headers = {"X-API-Key": created.data["createApiKey"]["key"]}
    codes = [(await gql(ME, _headers=headers)).codes for _ in range(4)]
    assert codes == [[], [], [], ["RATE_LIMITED"]]


async def test_key_admin_operations_need_an_admin(gql: Any, login: Any) -> None:
    anonymous = await gql(CREATE_KEY, name="x")
    assert anonymous.codes == ["UNAUTHENTICATED"]
    assert anonymous.data is None
    for role in ("mapper", "reviewer"):
        headers = await login(f"auth-{role}", role)
        assert (await gql(CREATE_KEY, _headers=headers, name="x")).codes == ["FORBIDDEN"]
        listing = await gql("{ apiKeys { id } }", _headers=headers)
        assert listing.codes == ["FORBIDDEN"]


async def test_bad_key_arguments_are_named(gql: Any, login: Any) -> None:
    admin = await login("auth-admin", "admin")
    result = await gql(CREATE_KEY, _headers=admin, name="  ", limit=0)
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == "name"
    result = await gql(CREATE_KEY, _headers=admin, name="ok", limit=0)
    assert result.errors[0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "rateLimitPerMinute",
        "value": 0,
    }
    assert (await gql(REVOKE_KEY, _headers=admin, id="nope")).codes == ["NOT_FOUND"]


def test_permissions_of_each_role_and_scope() -> None:
    def of(caller: Caller) -> set[Permission]:
        return set(permissions(caller))

    assert of(Caller()) == set()
    assert of(Caller(Role.API_CLIENT, "k", frozenset({"read"}))) == set()
    assert of(Caller(Role.API_CLIENT, "k", frozenset({"edit", "import"}))) == {
        Permission.EDIT,
        Permission.IMPORT,
    }
    assert of(Caller(Role.MAPPER, "m")) == {Permission.EDIT, Permission.IMPORT, Permission.PLAN}
    assert of(Caller(Role.PLANNER, "p")) == {Permission.PLAN}
    assert Permission.REVIEW in of(Caller(Role.REVIEWER, "r"))
    assert Permission.ADMIN not in of(Caller(Role.REVIEWER, "r"))
    assert of(Caller(Role.ADMIN, "a")) == set(Permission)
    assert set(Scope) == {Scope.READ, Scope.EDIT, Scope.IMPORT}


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-m", "ambrogio.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


async def test_command_line_users_and_keys(gql: Any, db_url: str) -> None:
    run = asyncio.to_thread
    added = await run(_cli, db_url, "users", "add", "auth-cli", "--role", "reviewer")
    assert added.returncode == 0, added.stderr
    again = await run(_cli, db_url, "users", "add", "auth-cli", "--role", "reviewer")
    assert again.returncode == 2
    assert "already exists" in again.stderr
    token = (await run(_cli, db_url, "users", "token", "auth-cli")).stdout.strip()
    assert (await gql(ME, _headers=bearer(token))).data["me"]["role"] == "reviewer"
    listing = (await run(_cli, db_url, "users", "list")).stdout
    assert any(line.split()[:2] == ["auth-cli", "reviewer"] for line in listing.splitlines())

    created = await run(_cli, db_url, "keys", "create", "cli client", "--scope", "import")
    assert created.returncode == 0, created.stderr
    key = created.stdout.splitlines()[0]
    me = (await gql(ME, _headers={"X-API-Key": key})).data["me"]
    assert me["permissions"] == ["import"]
    prefix = key.split("_")[1]
    assert prefix in (await run(_cli, db_url, "keys", "list")).stdout
    assert key.split("_", 2)[2] not in (await run(_cli, db_url, "keys", "list")).stdout
    assert (await run(_cli, db_url, "keys", "revoke", prefix)).returncode == 0
    assert (await gql(ME, _headers={"X-API-Key": key})).codes == ["UNAUTHENTICATED"]
    assert (await run(_cli, db_url, "keys", "revoke", prefix)).returncode == 2
