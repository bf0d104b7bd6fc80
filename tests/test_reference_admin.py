"""Administrators keep areas, enterprises, windows and the catalogue through the API
(docs/core.md, "Administering reference data"): only administrators; fields checked;
every change recorded; retiring what live orders need refused, or the rules moved; and a
change reaches another running web process at once while orders keep the limits they
were registered under."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from hotline.settings import Settings
from tests.factories import log_in, make_user, unique
from tests.process_support import PUBLIC_URL, deployment
from tests.routing_support import Desk, desk

ADMIN = "/api/v1/admin"


@pytest.fixture
async def admin(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[Desk]:
    signed_in = await desk(str(server.make_url("/")), pool, "admin")
    yield signed_in
    await signed_in.client.close()


@pytest.fixture
async def agent(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[Desk]:
    signed_in = await desk(str(server.make_url("/")), pool, "agent")
    yield signed_in
    await signed_in.client.close()


async def send(
    who: Desk, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    response = await who.client.request(
        method, path, json=body or {}, headers={"X-CSRF-Token": who.csrf}
    )
    return response.status, await response.json()


def item_body(code: str | None = None, *, days: int = 5, urgent_hours: int = 48) -> dict[str, Any]:
    body: dict[str, Any] = {
        "domain": "water",
        "kind": "repair",
        "name_zh": "测试事项",
        "name_en": "Test item",
        "sign_for_amount": 2,
        "sign_for_unit": "working_hours",
        "first_contact_amount": 1,
        "first_contact_unit": "working_days",
        "resolution_amount": days,
        "resolution_unit": "working_days",
        "urgent_sign_for_hours": 1,
        "urgent_first_contact_hours": 2,
        "urgent_resolution_hours": urgent_hours,
        "keywords": ["测试"],
    }
    if code:
        body["code"] = code
    return body


async def test_only_administrators_change_reference_data(agent: Desk, admin: Desk) -> None:
    status, body = await send(agent, "POST", f"{ADMIN}/service-items", item_body(unique("T")))
    assert status == 403, body
    status, _ = await send(agent, "GET", f"{ADMIN}/areas")
    assert status == 403
    assert (await admin.get(f"{ADMIN}/areas"))["items"]


async def test_fields_are_checked_and_codes_unique(admin: Desk) -> None:
    bad = item_body(unique("T")) | {"resolution_amount": 0, "resolution_unit": "fortnights"}
    status, body = await send(admin, "POST", f"{ADMIN}/service-items", bad)
    assert status == 422 and body["error"]["code"] == "invalid", body
    assert {"resolution_amount", "resolution_unit"} <= set(body["error"]["fields"])
    # The old shape (until the next release): errors name its keys as sent.
    old = {k: v for k, v in bad.items() if not k.startswith("resolution_")}
    old["resolution"] = {"amount": 0, "unit": "fortnights"}
    status, body = await send(admin, "POST", f"{ADMIN}/service-items", old)
    assert status == 422 and {"resolution.amount", "resolution.unit"} <= set(
        body["error"]["fields"]
    ), body
    partial = {k: v for k, v in item_body(unique("T")).items() if k != "urgent_sign_for_hours"}
    status, body = await send(admin, "POST", f"{ADMIN}/service-items", partial)
    assert status == 422 and set(body["error"]["fields"]) == {"urgent_sign_for_hours"}, body

    status, body = await send(admin, "POST", f"{ADMIN}/service-items", item_body("W01"))
    assert (status, body["error"]["code"]) == (409, "duplicate")

    branch = {"code": unique("b"), "kind": "branch", "name_zh": "分公司", "name_en": "Branch"}
    status, body = await send(admin, "POST", f"{ADMIN}/enterprises", branch)
    assert status == 422 and "parent_code" in body["error"]["fields"], body
    # An old name sent is the name the error gives (until the next release).
    status, body = await send(admin, "POST", f"{ADMIN}/enterprises", {**branch, "parent": "x"})
    assert status == 422 and "parent" in body["error"]["fields"], body

    window = {"code": unique("w"), "name_zh": "窗口", "name_en": "Window", "area_code": "nowhere"}
    status, body = await send(admin, "POST", f"{ADMIN}/enterprises/qd-water/windows", window)
    assert status == 422 and "area_code" in body["error"]["fields"], body

    status, body = await send(
        admin, "PUT", f"{ADMIN}/areas/nowhere", {"name_zh": "无", "name_en": "x"}
    )
    assert status == 404, body


async def test_a_unit_with_its_branch_and_window_is_set_up_and_recorded(
    admin: Desk, pool: asyncpg.Pool
) -> None:
    code = unique("ent-")
    company = {
        "code": code,
        "kind": "company",
        "name_zh": "新水务",
        "name_en": "New Water",
        "domains": ["water"],
        "hotline_code": "96111",
    }
    created = await admin.post(f"{ADMIN}/enterprises", company, status=201)
    assert created["active"] and created["domains"] == ["water"]
    branch = {
        "code": code + "-b",
        "kind": "branch",
        "parent_code": code,
        "name_zh": "新水务东区",
        "name_en": "New Water East",
    }
    made = await admin.post(f"{ADMIN}/enterprises", branch, status=201)
    assert (made["parent_id"], made["parent_code"]) == (created["id"], code)
    window = {
        "code": code + "-w1",
        "name_zh": "一号窗口",
        "name_en": "Window 1",
        "area_code": "370202",
    }
    await admin.post(f"{ADMIN}/enterprises/{code}/windows", window, status=201)
    status, renamed = await send(
        admin,
        "PUT",
        f"{ADMIN}/windows/{code}-w1",
        {"name_zh": "一号综合窗口", "name_en": "Window 1", "area_code": "370202"},
    )
    assert status == 200 and renamed["name_zh"] == "一号综合窗口"
    listed = await admin.get(f"{ADMIN}/enterprises/{code}/windows")
    assert [w["code"] for w in listed["items"]] == [code + "-w1"]

    changes = await admin.get(f"{ADMIN}/changes", entity="window", key=code + "-w1")
    assert [c["action"] for c in changes["items"]] == ["edit", "create"]
    latest = changes["items"][0]
    assert (
        latest["before"]["name_zh"] == "一号窗口" and latest["after"]["name_zh"] == "一号综合窗口"
    )
    assert latest["username"]
    async with pool.acquire() as conn:
        recorded = await conn.fetchval(
            "SELECT after FROM admin_changes WHERE entity = 'enterprise' AND entity_key = $1",
            code,
        )
    assert recorded["name_en"] == "New Water" and "webhook_secret" not in recorded


async def registered(who: Desk, item: str, area: str = "370202") -> dict[str, Any]:
    order: dict[str, Any] = await who.post(
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": item,
            "area": area,
            "address": "香港中路 1 号",
            "description": "测试工单",
            "caller_phone": "13812345678",
        },
        status=201,
    )
    return order


async def test_retiring_what_open_orders_need_is_refused_with_how_many(
    admin: Desk, agent: Desk
) -> None:
    item = unique("T")
    await admin.post(f"{ADMIN}/service-items", item_body(item), status=201)
    street = unique("st")
    await admin.post(
        f"{ADMIN}/areas",
        {"code": street, "parent_code": "370202", "name_zh": "测试街道", "name_en": "Test Street"},
        status=201,
    )
    await registered(agent, item, street)

    status, body = await send(admin, "POST", f"{ADMIN}/service-items/{item}/disable")
    assert (status, body["error"]["code"]) == (409, "item_in_use")
    assert "1 张未办结工单" in body["error"]["message"]
    status, body = await send(admin, "POST", f"{ADMIN}/areas/{street}/disable")
    assert (status, body["error"]["code"]) == (409, "area_in_use")
    assert "1 张未办结工单" in body["error"]["message"]
    # A district with active streets is refused too.
    status, body = await send(admin, "POST", f"{ADMIN}/areas/370202/disable")
    assert (status, body["error"]["code"]) == (409, "area_in_use")

    # An unused street is retired, and new orders may no longer name it.
    empty = unique("st")
    await admin.post(
        f"{ADMIN}/areas",
        {"code": empty, "parent_code": "370202", "name_zh": "空街道", "name_en": "Empty Street"},
        status=201,
    )
    retired = await admin.post(f"{ADMIN}/areas/{empty}/disable")
    assert retired["active"] is False
    status, body = await send(
        agent,
        "POST",
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": item,
            "area": empty,
            "description": "x",
            "caller_phone": "13812345678",
        },
    )
    assert status == 422 and "area" in body["error"]["fields"], body


async def test_a_unit_named_by_rules_is_retired_by_moving_them(admin: Desk) -> None:
    codes = [unique("unit-") for _ in range(2)]
    ids = []
    for code in codes:
        unit = {"code": code, "kind": "company", "name_zh": code, "name_en": code}
        ids.append((await admin.post(f"{ADMIN}/enterprises", unit, status=201))["id"])
    item = unique("T")
    await admin.post(f"{ADMIN}/service-items", item_body(item), status=201)
    rule = await admin.post(
        "/api/v1/routing/rules", {"service_item": item, "candidates": [ids[0]]}, status=201
    )

    status, body = await send(admin, "POST", f"{ADMIN}/enterprises/{codes[0]}/disable")
    assert (status, body["error"]["code"]) == (409, "enterprise_in_use"), body
    assert "1 条指向它的派单规则" in body["error"]["message"]
    status, body = await send(
        admin, "POST", f"{ADMIN}/enterprises/{codes[0]}/disable", {"move_to": codes[0]}
    )
    assert status == 422 and "move_to" in body["error"]["fields"]

    retired = await admin.post(f"{ADMIN}/enterprises/{codes[0]}/disable", {"move_to": codes[1]})
    assert retired["active"] is False
    rules = await admin.get("/api/v1/routing/rules")
    (moved,) = [r for r in rules["items"] if r["id"] == rule["id"]]
    assert moved["candidates"] == [ids[1]]
    history = await admin.get(f"/api/v1/routing/rules/{rule['id']}/history")
    assert sorted(h["action"] for h in history["items"]) == ["created", "updated"]


async def agent_on(url: str, pool: asyncpg.Pool) -> Desk:
    """An agent signed in at another web process (behind the deployment's address)."""
    async with pool.acquire() as conn:
        username, _ = await make_user(conn, "agent")
    client = aiohttp.ClientSession(
        base_url=url, cookie_jar=aiohttp.CookieJar(unsafe=True), headers={"Origin": PUBLIC_URL}
    )
    return Desk(client, await log_in(client, username))


def moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


async def test_another_process_uses_a_change_at_once_and_orders_keep_their_limits(
    admin: Desk, pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    item = unique("T")
    await admin.post(f"{ADMIN}/service-items", item_body(item, days=5, urgent_hours=48), status=201)
    async with deployment(settings, tmp_path) as running:
        web = await running.start_web("web-b")
        other = await agent_on(web.url, pool)
        try:
            before = await registered(other, item)
            assert before["time_limits"]["resolution_amount"] == "5"

            await admin.client.put(
                f"{ADMIN}/service-items/{item}",
                json=item_body(days=2, urgent_hours=12) | {"name_zh": "测试事项（新）"},
                headers={"X-CSRF-Token": admin.csrf},
            )
            # The other process has held the item since the first order; the change's
            # announcement makes it use the new limits for the next order.
            after = await registered(other, item)
            assert after["time_limits"]["resolution_amount"] == "2"
            assert after["time_limits"]["urgent_resolution_hours"] == "12"
            assert moment(after["resolution_due_at"]) < moment(before["resolution_due_at"])

            # The first order keeps its limits, also when its deadlines are computed
            # again: made urgent, it runs on the urgent limit it was registered under.
            urgent = await other.post(
                f"/api/v1/orders/{before['id']}/priority", {"priority": "urgent"}
            )
            assert moment(urgent["resolution_due_at"]) == moment(
                before["created_at"]
            ) + dt.timedelta(hours=48)
            again = await other.get(f"/api/v1/orders/{before['id']}")
            assert again["time_limits"]["resolution_amount"] == "5"

            # A retired item is refused at once by the other process too.
            for order in (before, after):
                async with pool.acquire() as conn:
                    await conn.execute(
                        "UPDATE work_orders SET status = 'closed' WHERE id = $1", order["id"]
                    )
            await admin.post(f"{ADMIN}/service-items/{item}/disable")
            response = await other.client.post(
                "/api/v1/orders",
                json={
                    "hotline": "96111",
                    "service_item": item,
                    "description": "x",
                    "caller_phone": "13812345678",
                },
                headers={"X-CSRF-Token": other.csrf},
            )
            assert response.status == 422
        finally:
            await other.client.close()
