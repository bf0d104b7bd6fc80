"""Administrators manage users and enterprises' API keys through the API (issue 19,
item 3): only admins; bad input answers 422 and a taken name 409, with codes; disabling
ends the user's sessions, as does a forced logout; an unlock lets a locked account in; a
key is shown once and, revoked, is refused; every change is in admin_changes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from tests.factories import PASSWORD, log_in, make_user, unique


@pytest.fixture
async def other(server: TestServer) -> AsyncIterator[aiohttp.ClientSession]:
    """A second browser: the user the administrator manages."""
    async with aiohttp.ClientSession(
        base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as session:
        yield session


class Admin:
    def __init__(self, client: aiohttp.ClientSession, csrf: str) -> None:
        self.client = client
        self.headers = {"X-CSRF-Token": csrf}

    async def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, status: int = 200
    ) -> Any:
        async with self.client.request(
            method, path, json=body if body is not None else {}, headers=self.headers
        ) as response:
            data = await response.json()
            assert response.status == status, data
            return data

    async def get(self, path: str, **params: str) -> Any:
        async with self.client.get(path, params=params) as response:
            data = await response.json()
            assert response.status == 200, data
            return data


@pytest.fixture
async def admin(client: aiohttp.ClientSession, pool: asyncpg.Pool) -> Admin:
    async with pool.acquire() as conn:
        username, _ = await make_user(conn, "admin")
    return Admin(client, await log_in(client, username))


async def changes(admin: Admin, entity: str, key: object) -> list[str]:
    """The actions recorded on one thing, oldest first."""
    rows = (await admin.get("/api/v1/admin/changes", entity=entity, key=str(key)))["items"]
    return [r["action"] for r in reversed(rows)]


async def sign_in(browser: aiohttp.ClientSession, username: str, password: str) -> int:
    browser.cookie_jar.clear()
    async with browser.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    ) as response:
        return response.status


async def me(browser: aiohttp.ClientSession) -> int:
    """What a signed-in request answers (401 once its session has ended)."""
    async with browser.get("/api/v1/orders") as response:
        return response.status


async def test_only_admins_reach_the_administration(
    client: aiohttp.ClientSession, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        supervisor, _ = await make_user(conn, "supervisor")
    assert (await client.get("/api/v1/admin/users")).status == 401
    csrf = await log_in(client, supervisor)
    for method, path in (
        ("GET", "/api/v1/admin/users"),
        ("POST", "/api/v1/admin/users"),
        ("GET", "/api/v1/admin/changes"),
        ("GET", "/api/v1/admin/callers"),
        ("GET", "/api/v1/admin/enterprises/1/api-keys"),
        ("POST", "/api/v1/admin/users/1/disable"),
    ):
        async with client.request(
            method, path, json={}, headers={"X-CSRF-Token": csrf}
        ) as response:
            assert response.status == 403, (method, path)


async def test_an_enterprise_user_is_made_signs_in_and_is_edited_with_a_record(
    admin: Admin, other: aiohttp.ClientSession
) -> None:
    username = unique("water-")
    made = await admin.call(
        "POST",
        "/api/v1/admin/users",
        {
            "username": username,
            "display_name": "刘洋",
            "role": "enterprise_user",
            "enterprise_code": "qd-water",
        },
        status=201,
    )
    user, password = made["user"], made["password"]
    assert (user["role"], user["enterprise_code"], user["active"]) == (
        "enterprise_user",
        "qd-water",
        True,
    )
    # Generated, shown this once, and it lets the user in.
    assert len(password) >= 12
    assert await sign_in(other, username, password) == 200
    assert not any(password in str(c) for c in (await admin.get("/api/v1/admin/changes"))["items"])

    listed = await admin.get("/api/v1/admin/users", q=username[-6:], role="enterprise_user")
    assert [u["username"] for u in listed["items"]] == [username]
    assert listed["items"][0]["open_sessions"] == 1

    # Made a centre user: the enterprise must go, hotlines may come.
    refused = await admin.call(
        "PATCH", f"/api/v1/admin/users/{user['id']}", {"role": "agent"}, status=422
    )
    assert refused["error"]["code"] == "invalid_user"
    assert set(refused["error"]["fields"]) == {"enterprise"}
    edited = await admin.call(
        "PATCH",
        f"/api/v1/admin/users/{user['id']}",
        {
            "role": "agent",
            "enterprise_code": None,
            "hotline_code": "96111",
            "hotlines": ["96556"],
            "display_name": "刘洋（坐席）",
        },
    )
    assert (edited["role"], edited["enterprise_id"], edited["hotline_code"]) == (
        "agent",
        None,
        "96111",
    )
    assert edited["hotlines"] == ["96556"]
    # The session reads the user afresh: the new role holds at once.
    async with other.get("/api/v1/auth/me") as response:
        assert (await response.json())["user"]["role"] == "agent"
    assert await changes(admin, "user", user["id"]) == ["create", "edit"]
    record = (await admin.get("/api/v1/admin/changes", entity="user", key=str(user["id"])))[
        "items"
    ][0]
    assert record["before"]["role"] == "enterprise_user"
    assert record["after"]["hotlines"] == ["96556"]
    assert record["username"] is not None  # who did it


async def test_bad_input_answers_422_and_a_taken_name_409(admin: Admin) -> None:
    username = unique("agent-")
    await admin.call(
        "POST",
        "/api/v1/admin/users",
        {"username": username, "role": "agent", "password": "a long enough password"},
        status=201,
    )
    taken = await admin.call(
        "POST",
        "/api/v1/admin/users",
        {"username": username.upper(), "role": "agent"},
        status=409,
    )
    assert taken["error"]["code"] == "username_taken"
    assert set(taken["error"]["fields"]) == {"username"}

    invalid = await admin.call(
        "POST",
        "/api/v1/admin/users",
        {
            "username": unique("x-"),
            "role": "enterprise_admin",
            "hotlines": ["96111"],
            "password": "short",
        },
        status=422,
    )
    assert invalid["error"]["code"] == "invalid_user"
    assert set(invalid["error"]["fields"]) == {"enterprise", "hotlines", "password"}
    centre = await admin.call(
        "POST",
        "/api/v1/admin/users",
        {"username": unique("x-"), "role": "supervisor", "enterprise_code": "qd-water"},
        status=422,
    )
    assert set(centre["error"]["fields"]) == {"enterprise"}
    shape = await admin.call(
        "POST", "/api/v1/admin/users", {"username": "x", "role": "mayor"}, status=422
    )
    assert "role" in shape["error"]["fields"]
    # Nothing was made by the refusals.
    assert (await admin.get("/api/v1/admin/users", q="x-"))["items"] == []


async def test_disabling_ends_the_sessions_and_enabling_lets_the_user_back(
    admin: Admin, other: aiohttp.ClientSession, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        username, agent = await make_user(conn, "agent", hotline_code="96111")
    await log_in(other, username)
    assert await me(other) == 200

    disabled = await admin.call("POST", f"/api/v1/admin/users/{agent.user_id}/disable")
    assert (disabled["active"], disabled["open_sessions"]) == (False, 0)
    assert await me(other) == 401
    assert await sign_in(other, username, PASSWORD) == 401

    await admin.call("POST", f"/api/v1/admin/users/{agent.user_id}/enable")
    assert await sign_in(other, username, PASSWORD) == 200
    assert await me(other) == 200
    assert await changes(admin, "user", agent.user_id) == ["create", "disable", "enable"]

    # An administrator cannot disable (or demote) themselves.
    own = await admin.get("/api/v1/auth/me")
    refused = await admin.call(
        "POST", f"/api/v1/admin/users/{own['user']['id']}/disable", status=409
    )
    assert refused["error"]["code"] == "own_account"
    refused = await admin.call(
        "PATCH", f"/api/v1/admin/users/{own['user']['id']}", {"role": "agent"}, status=409
    )
    assert refused["error"]["code"] == "own_account"
    assert (await admin.client.get("/api/v1/admin/users/999999999")).status == 404


async def test_force_logout_password_reset_and_unlock(
    admin: Admin, other: aiohttp.ClientSession, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        username, agent = await make_user(conn, "supervisor")
    path = f"/api/v1/admin/users/{agent.user_id}"
    await log_in(other, username)
    assert (await admin.call("POST", path + "/logout"))["ended"] == 1
    assert await me(other) == 401
    assert await sign_in(other, username, PASSWORD) == 200  # the password still holds

    # A password set by the administrator; the old one is gone, the session too.
    short = await admin.call("POST", path + "/password", {"password": "short"}, status=422)
    assert short["error"]["code"] == "invalid_password"
    await admin.call("POST", path + "/password", {"password": "chosen by the admin"})
    assert await me(other) == 401
    assert await sign_in(other, username, PASSWORD) == 401
    assert await sign_in(other, username, "chosen by the admin") == 200
    # Or one generated, shown once.
    generated = (await admin.call("POST", path + "/password"))["password"]
    assert await sign_in(other, username, generated) == 200
    # The administrator's own reset keeps their own session.
    own = (await admin.get("/api/v1/auth/me"))["user"]["id"]
    await admin.call("POST", f"/api/v1/admin/users/{own}/password")
    assert await me(admin.client) == 200

    # Locked after failed logins (as throttling leaves it): the unlock lets it in.
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO login_throttles (scope, key, failures, last_failure_at, locked_at)"
            " VALUES ('account', lower($1), 10, now(), now())",
            username,
        )
    assert await sign_in(other, username, generated) == 403
    listed = await admin.get(path)
    assert listed["locked"] is True
    unlocked = await admin.call("POST", path + "/unlock")
    assert unlocked["unlocked"] is True and unlocked["user"]["locked"] is False
    assert await sign_in(other, username, generated) == 200
    # Nothing left to unlock: answered, not recorded.
    assert (await admin.call("POST", path + "/unlock"))["unlocked"] is False
    assert await changes(admin, "user", agent.user_id) == [
        "create",
        "logout",
        "password",
        "password",
        "unlock",
    ]


async def test_an_api_key_is_shown_once_listed_and_refused_once_revoked(
    admin: Admin, server: TestServer, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        water = await conn.fetchval("SELECT id FROM enterprises WHERE code = 'qd-water'")
    path = f"/api/v1/admin/enterprises/{water}/api-keys"
    made = await admin.call("POST", path, {"name": "ERP 工单接口"}, status=201)
    key = made["key"]
    assert key.startswith(made["key_prefix"]) and made["revoked_at"] is None
    bearer = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as system:
        async with system.get("/api/v1/orders", headers=bearer) as response:
            assert response.status == 200
        listed = (await admin.get(path))["items"]
        mine = next(k for k in listed if k["id"] == made["id"])
        assert "key" not in mine and mine["last_used_at"] is not None
        assert key not in str(listed)

        revoked = await admin.call("POST", f"{path}/{made['id']}/revoke")
        assert revoked["revoked_at"] is not None
        async with system.get("/api/v1/orders", headers=bearer) as response:
            assert response.status == 401
            assert (await response.json())["error"]["code"] == "bad_api_key"
    # Revoking again changes nothing; another enterprise's key is not found there.
    await admin.call("POST", f"{path}/{made['id']}/revoke")
    assert await changes(admin, "api_key", made["id"]) == ["create", "revoke"]
    record = (await admin.get("/api/v1/admin/changes", entity="api_key"))["items"]
    assert key not in str(record)
    await admin.call("POST", f"{path}/999999/revoke", status=404)
    await admin.call("POST", "/api/v1/admin/enterprises/999999/api-keys", {"name": "x"}, status=404)
    assert (await admin.call("POST", path, {"name": " "}, status=422))["error"]["fields"]


async def test_the_webhook_is_read_and_its_changes_recorded(
    admin: Admin, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        energy = await conn.fetchval("SELECT id FROM enterprises WHERE code = 'qd-energy'")
    path = f"/api/v1/enterprises/{energy}/webhook"
    assert (await admin.get(path))["url"] is None
    async with admin.client.delete(path, headers=admin.headers) as response:
        assert response.status == 204
    assert await changes(admin, "webhook", energy) == ["remove"]


async def test_callers_with_a_profile_are_listed_by_flag(admin: Admin) -> None:
    phone = "13900007777"
    await admin.call(
        "PATCH", f"/api/v1/callers/{phone}", {"key_account": True, "name": "重点客户王先生"}
    )
    found = (await admin.get("/api/v1/admin/callers", flag="key_account", q="0007777"))["items"]
    assert [(c["phone"], c["key_account"]) for c in found] == [("+8613900007777", True)]
    assert (await admin.get("/api/v1/admin/callers", flag="special_needs", q="0007777"))[
        "items"
    ] == []
