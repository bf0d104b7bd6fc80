"""The order API: happy paths and each error it answers with."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp import ClientSession

from tests.factories import Clock, log_in, make_user

Client = ClientSession

ORDER = {
    "hotline": "96111",
    "service_item": "W01",
    "description": "水表走字太快，怀疑水表不准",
    "area": "370202",
    "address": "香港中路 100 号",
    "caller_phone": "138 1234 5678",
    "caller_name": "市民甲",
}


async def agent_client(client: Client, pool: asyncpg.Pool) -> dict[str, str]:
    async with pool.acquire() as conn:
        username, _ = await make_user(conn, "agent", hotline_code="96111")
    return {"X-CSRF-Token": await log_in(client, username)}


async def test_agent_registers_an_order_with_number_clocks_event_and_outbox(
    client: Client, pool: asyncpg.Pool, clock: Clock
) -> None:
    clock.set(dt.datetime(2026, 9, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    headers = await agent_client(client, pool)
    response = await client.post("/api/v1/orders", json=ORDER, headers=headers)
    assert response.status == 201, await response.text()
    order = await response.json()
    assert re.fullmatch(r"96111-20260930-\d{4}", order["number"])
    assert order["status"] == "registered"
    assert order["caller_phone"] == "+8613812345678"
    assert order["kind"] == "request"  # from the service item
    assert "start_dispatch" in order["actions"]
    # W01 resolves in 5 working days: Sep 30 does not count, National Day is off,
    # Saturday Oct 10 is a make-up working day: Oct 8, 9, 10, 12, 13.
    assert dt.datetime.fromisoformat(order["resolution_due_at"]) == dt.datetime(
        2026, 10, 13, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai")
    )

    detail = await (await client.get(f"/api/v1/orders/{order['id']}")).json()
    assert [e["type"] for e in detail["events"]] == ["order.registered"]
    assert {d["kind"] for d in detail["deadlines"]} == {"first_contact", "resolution"}
    async with pool.acquire() as conn:
        outbox = await conn.fetchrow(
            "SELECT * FROM outbox WHERE key = $1", f"order.registered:{order['id']}"
        )
    assert outbox["payload"]["order_id"] == order["id"]
    assert outbox["payload"]["seq"] == detail["events"][0]["seq"]


async def test_numbers_count_up_per_hotline_and_day(client: Client, pool: asyncpg.Pool) -> None:
    headers = await agent_client(client, pool)
    numbers = []
    for _ in range(2):
        response = await client.post("/api/v1/orders", json=ORDER, headers=headers)
        numbers.append((await response.json())["number"])
    first, second = (int(n.rsplit("-", 1)[1]) for n in numbers)
    assert second == first + 1


async def test_a_retried_request_returns_the_first_order(
    client: Client, pool: asyncpg.Pool
) -> None:
    headers = await agent_client(client, pool)
    body = {**ORDER, "client_request_id": "call-CA123-form-1"}
    first = await client.post("/api/v1/orders", json=body, headers=headers)
    again = await client.post("/api/v1/orders", json=body, headers=headers)
    assert (first.status, again.status) == (201, 200)
    assert (await first.json())["id"] == (await again.json())["id"]
    async with pool.acquire() as conn:
        count = await conn.fetchval(
            "SELECT count(*) FROM work_orders WHERE client_request_id = $1", "call-CA123-form-1"
        )
    assert count == 1


async def test_unknown_references_answer_422_with_fields(
    client: Client, pool: asyncpg.Pool
) -> None:
    headers = await agent_client(client, pool)
    body = {**ORDER, "service_item": "NOPE", "area": "999999", "caller_phone": "12"}
    response = await client.post("/api/v1/orders", json=body, headers=headers)
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "invalid_order"
    assert set(error["fields"]) == {"service_item", "area", "caller_phone"}


async def test_a_one_digit_or_lettered_phone_is_a_422_not_a_server_error(
    client: Client, pool: asyncpg.Pool
) -> None:
    headers = await agent_client(client, pool)
    for phone in ("1", "a1"):
        body = {**ORDER, "caller_phone": phone}
        response = await client.post("/api/v1/orders", json=body, headers=headers)
        assert response.status == 422, await response.text()
        assert set((await response.json())["error"]["fields"]) == {"caller_phone"}
        response = await client.get(f"/api/v1/callers/{phone}")
        assert response.status == 422, await response.text()


async def test_missing_and_extra_fields_answer_422(client: Client, pool: asyncpg.Pool) -> None:
    headers = await agent_client(client, pool)
    body = {k: v for k, v in ORDER.items() if k != "description"} | {"colour": "red"}
    response = await client.post("/api/v1/orders", json=body, headers=headers)
    assert response.status == 422
    assert set((await response.json())["error"]["fields"]) == {"description", "colour"}


async def test_bad_json_and_wrong_media_type(client: Client, pool: asyncpg.Pool) -> None:
    headers = await agent_client(client, pool)
    bad = await client.post(
        "/api/v1/orders", data="{not json", headers={**headers, "Content-Type": "application/json"}
    )
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "bad_json"
    array = await client.post("/api/v1/orders", json=[ORDER], headers=headers)
    assert array.status == 400
    form = await client.post("/api/v1/orders", data={"a": "b"}, headers=headers)
    assert form.status == 415
    assert (await form.json())["error"]["code"] == "unsupported_media_type"


async def test_a_body_over_the_limit_answers_413(client: Client, pool: asyncpg.Pool) -> None:
    headers = await agent_client(client, pool)
    body = {**ORDER, "description": "漏" * 600_000}
    response = await client.post("/api/v1/orders", json=body, headers=headers)
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "body_too_large"


async def test_without_a_session_the_api_answers_401(client: Client) -> None:
    response = await client.get("/api/v1/orders")
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "not_authenticated"


async def test_wrong_password_answers_401(client: Client) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"username": "agent", "password": "wrong-one"}
    )
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "bad_credentials"


async def test_state_changes_need_the_csrf_token(client: Client, pool: asyncpg.Pool) -> None:
    await agent_client(client, pool)
    response = await client.post("/api/v1/orders", json=ORDER)
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "csrf_failed"


async def test_requests_from_another_site_are_refused(client: Client, pool: asyncpg.Pool) -> None:
    headers = await agent_client(client, pool)
    response = await client.post(
        "/api/v1/orders", json=ORDER, headers={**headers, "Origin": "https://evil.example"}
    )
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "bad_origin"


async def test_enterprise_users_cannot_register(client: Client, pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        username, _ = await make_user(conn, "enterprise_user", enterprise_code="qd-water")
    csrf = await log_in(client, username)
    response = await client.post("/api/v1/orders", json=ORDER, headers={"X-CSRF-Token": csrf})
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "role_forbidden"


async def test_unknown_order_answers_404(client: Client, pool: asyncpg.Pool) -> None:
    await agent_client(client, pool)
    response = await client.get("/api/v1/orders/999999999")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"


async def test_resolve_on_call_stops_the_clocks_and_cannot_happen_twice(
    client: Client, pool: asyncpg.Pool
) -> None:
    headers = await agent_client(client, pool)
    order = await (
        await client.post(
            "/api/v1/orders",
            json={**ORDER, "service_item": "G-CONSULT", "description": "咨询水费价格"},
            headers=headers,
        )
    ).json()
    url = f"/api/v1/orders/{order['id']}/resolve-on-call"
    done = await client.post(url, json={"reply": "已告知阶梯水价标准"}, headers=headers)
    assert done.status == 200
    assert (await done.json())["status"] == "resolved_on_call"
    detail = await (await client.get(f"/api/v1/orders/{order['id']}")).json()
    assert [e["type"] for e in detail["events"]] == ["order.registered", "order.resolve_on_call"]
    assert {d["state"] for d in detail["deadlines"]} == {"cancelled"}
    again = await client.post(url, json={"reply": "再次"}, headers=headers)
    assert again.status == 409
    assert (await again.json())["error"]["code"] == "illegal_transition"


async def test_search_filters_and_pages_by_cursor(client: Client, pool: asyncpg.Pool) -> None:
    headers = await agent_client(client, pool)
    marker = "独特地址-检索测试"
    ids = []
    for _ in range(5):
        response = await client.post(
            "/api/v1/orders",
            json={**ORDER, "address": marker, "area": "370202001"},
            headers=headers,
        )
        ids.append((await response.json())["id"])
    seen: list[int] = []
    cursor = None
    while True:
        params = {"q": marker, "limit": "2", "area": "370202"}
        if cursor:
            params["cursor"] = cursor
        page = await (await client.get("/api/v1/orders", params=params)).json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(ids, reverse=True)
    none = await (
        await client.get("/api/v1/orders", params={"q": marker, "status": "closed,merged"})
    ).json()
    assert none["items"] == []
    not_overdue = await (
        await client.get("/api/v1/orders", params={"q": marker, "overdue": "false"})
    ).json()
    assert len(not_overdue["items"]) == 5


async def test_bad_search_parameters_answer_400(client: Client, pool: asyncpg.Pool) -> None:
    await agent_client(client, pool)
    for params in ({"limit": "0"}, {"cursor": "garbage"}, {"sort": "name"}):
        response = await client.get("/api/v1/orders", params=params)
        assert response.status == 400, params
        assert (await response.json())["error"]["code"] == "invalid_query"


async def test_reference_lists(client: Client, pool: asyncpg.Pool) -> None:
    await agent_client(client, pool)
    items = (await (await client.get("/api/v1/service-items")).json())["items"]
    by_domain: dict[str | None, int] = {}
    for item in items:
        by_domain[item["domain"]] = by_domain.get(item["domain"], 0) + 1
    assert by_domain == {"water": 5, "gas": 8, "heating": 7, "billing": 5, None: 5}
    hotlines = (await (await client.get("/api/v1/hotlines")).json())["items"]
    assert {h["number"] for h in hotlines} == {"12319", "96111", "96556"}
    areas = (await (await client.get("/api/v1/areas")).json())["items"]
    assert any(a["name_zh"] == "市南区" and a["streets"] for a in areas)
    enterprises = (await (await client.get("/api/v1/enterprises")).json())["items"]
    windows = {e["code"]: e["windows"] for e in enterprises}
    assert (windows["qd-water"], windows["qd-energy"], windows["qd-billing"]) == (13, 14, 10)


async def test_log_out_ends_the_session(client: Client, pool: asyncpg.Pool) -> None:
    headers = await agent_client(client, pool)
    assert (await client.get("/api/v1/auth/me")).status == 200
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status == 204
    after = await client.get("/api/v1/auth/me")
    assert after.status == 200 and await after.json() == {"user": None, "csrf_token": None}
