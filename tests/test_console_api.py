"""The API the consoles add: agents' status, the queue, my orders, the suggested item,
resolving during the call, the board's counters and its rates (the callbacks' figures),
and masked numbers for units."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from hotline.board.queries import BOARD_COUNTERS, board_counter_args
from hotline.phones import mask_phone
from hotline.settings import Settings
from tests.factories import Clock
from tests.routing_support import Desk, enterprise_ids, open_desks, settle
from tests.test_board_counts import counted_from_scratch
from tests.test_callbacks import enterprise_id, local, unit_dispatch

ORDER = {
    "hotline": "96111",
    "service_item": "W05",
    "description": "宁夏路水管漏水",
    "address": "宁夏路 201 号",
    "caller_phone": "13912345678",
    "caller_name": "市民乙",
}
WHOLE = "+8613912345678"


@pytest.fixture
async def desks(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[dict[str, Desk]]:
    async with open_desks(server, pool, "agent", "supervisor", "water") as opened:
        yield opened


async def put(desk: Desk, path: str, body: dict[str, str], status: int = 200) -> object:
    response = await desk.client.put(path, json=body, headers={"X-CSRF-Token": desk.csrf})
    assert response.status == status, await response.text()
    return await response.json()


async def test_an_agent_sets_a_status_and_supervisors_see_it(desks: dict[str, Desk]) -> None:
    agent = desks["agent"]
    assert (await agent.get("/api/v1/agents/me/status"))["status"] == "offline"
    first = await put(agent, "/api/v1/agents/me/status", {"status": "available"})
    again = await put(agent, "/api/v1/agents/me/status", {"status": "available"})
    assert isinstance(first, dict) and isinstance(again, dict)
    assert again["since"] == first["since"]  # the same status keeps its start
    busy = await put(agent, "/api/v1/agents/me/status", {"status": "busy"})
    assert isinstance(busy, dict) and busy["status"] == "busy"
    await put(agent, "/api/v1/agents/me/status", {"status": "napping"}, status=422)
    await put(desks["water"], "/api/v1/agents/me/status", {"status": "busy"}, status=403)
    listed = (await desks["supervisor"].get("/api/v1/agents"))["items"]
    me = (await agent.get("/api/v1/auth/me"))["user"]
    (row,) = [a for a in listed if a["id"] == me["id"]]
    assert row["status"] == "busy"


@pytest.mark.parametrize(
    ("text", "best"),
    [
        ("我家水表不准，这个月水费太高", "W01"),
        ("家里暖气不热，室温只有十四度", "H05"),
        ("楼下水管漏水，水流到马路上", "W05"),
    ],
)
async def test_the_description_suggests_the_item(
    desks: dict[str, Desk], text: str, best: str
) -> None:
    found = (await desks["agent"].get("/api/v1/service-items/suggest", text=text))["items"]
    assert found[0]["code"] == best and found[0]["words"]


async def test_no_keyword_no_suggestion_and_units_may_not_ask(desks: dict[str, Desk]) -> None:
    agent = desks["agent"]
    assert (await agent.get("/api/v1/service-items/suggest", text="今天天气不错"))["items"] == []
    response = await desks["water"].client.get("/api/v1/service-items/suggest?text=水表")
    assert response.status == 403


async def test_resolved_on_the_call_in_one_step_is_never_routed(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    agent = desks["agent"]
    body = {
        **ORDER,
        "service_item": "G-CONSULT",
        "description": "咨询停水时间",
        "reply": "已告知计划停水时间",
        "client_request_id": "resolved-1",
    }
    order = await agent.post("/api/v1/orders/resolved-on-call", body, status=201)
    assert order["status"] == "resolved_on_call" and order["reply"] == "已告知计划停水时间"
    again = await agent.post("/api/v1/orders/resolved-on-call", body, status=200)
    assert again["id"] == order["id"]
    await settle(pool, settings)
    detail = await agent.get(f"/api/v1/orders/{order['id']}")
    assert detail["status"] == "resolved_on_call" and detail["dispatches"] == []
    mine = (await agent.get("/api/v1/agents/me/orders"))["items"]
    assert mine[0]["id"] == order["id"]
    missing = {k: v for k, v in body.items() if k != "reply"}
    await agent.post("/api/v1/orders/resolved-on-call", missing, status=422)


async def test_a_unit_sees_the_callers_number_only_while_it_handles_the_order(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    ids = await enterprise_ids(desks["supervisor"])
    await desks["supervisor"].post(
        "/api/v1/routing/rules",
        {"service_item": "W05", "area": "370203", "candidates": [ids["qd-water"]]},
        status=201,
    )
    order = await desks["agent"].post("/api/v1/orders", {**ORDER, "area": "370203"}, status=201)
    await settle(pool, settings)
    water = desks["water"]
    (row,) = [
        r for r in (await water.get("/api/v1/inbox"))["items"] if r["order_id"] == order["id"]
    ]
    assert row["caller_phone"] == WHOLE  # pending: the unit may call to clarify
    assert (await water.get(f"/api/v1/orders/{order['id']}"))["caller_phone"] == WHOLE
    listed = (await water.get("/api/v1/orders", q=order["number"]))["items"]
    assert listed[0]["caller_phone"] == mask_phone(WHOLE)  # lists never show it whole
    await water.post(
        f"/api/v1/dispatches/{row['id']}/return",
        {"reason_code": "wrong_area", "reason_text": "不在本单位区域"},
    )
    returned = await water.get(f"/api/v1/orders/{order['id']}")
    assert returned["caller_phone"] == mask_phone(WHOLE)  # no longer its order to work on
    centre = await desks["supervisor"].get(f"/api/v1/orders/{order['id']}")
    assert centre["caller_phone"] == WHOLE


async def test_the_board_counts_what_the_tables_hold(
    desks: dict[str, Desk], pool: asyncpg.Pool, clock: Clock
) -> None:
    now = dt.datetime.now(dt.UTC)
    clock.set(now)
    for item in ("W01", "H05", "W05"):
        await desks["agent"].post("/api/v1/orders", {**ORDER, "service_item": item}, status=201)
    board = await desks["supervisor"].get("/api/v1/board")
    day_start = now.astimezone(dt.timezone(dt.timedelta(hours=8))).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    async with pool.acquire() as conn:
        expected = await counted_from_scratch(
            conn, day_start, now, now + dt.timedelta(hours=board["due_soon_hours"])
        )
    assert board["counters"] == expected
    assert board["counters"]["registered_today"] >= 3
    response = await desks["water"].client.get("/api/v1/board")
    assert response.status == 403


async def test_every_board_count_reads_kept_counts_and_indexes(pool: asyncpg.Pool) -> None:
    """With sequential scans priced out, no count of the board reads a table whole: the
    kept counts answer by their key, the minutes at a period's ends come from the orders'
    indexes (the tables here are too small for the planner to prefer those unprompted)."""
    now = dt.datetime.now(dt.UTC)
    args = board_counter_args(now - dt.timedelta(hours=9), now, now + dt.timedelta(hours=4))
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off")
        rows = await conn.fetch("EXPLAIN " + BOARD_COUNTERS, *args)
    plan = "\n".join(r[0] for r in rows)
    for table in ("work_orders", "order_returns", "time_requests", "board_counts"):
        assert f"Seq Scan on {table} " not in plan, plan
    for index in ("work_orders_registered_idx", "work_orders_board_open_idx", "board_counts_pkey"):
        assert index in plan, plan


async def test_the_boards_unit_rates_are_the_callback_figures(
    desks: dict[str, Desk], pool: asyncpg.Pool, clock: Clock
) -> None:
    """A week of May 2024 (no other test's dispatches), counted by hand."""
    hour = dt.timedelta(hours=1)
    monday = local(2024, 5, 6, 10, 0)
    async with pool.acquire() as conn, conn.transaction():
        water = await enterprise_id(conn, "qd-water")
        billing = await enterprise_id(conn, "qd-billing")
        # Water: made Monday, signed in time, completed on time Tuesday, good callback.
        await unit_dispatch(
            conn,
            "qd-water",
            monday,
            signed=monday + hour,
            completed=(monday + 24 * hour, True),
            answer=(True, 5, "good"),
        )
        # Made Monday, signed late, completed late Wednesday, not solved and rated 2.
        await unit_dispatch(
            conn,
            "qd-water",
            monday,
            signed=monday + 3 * hour,
            completed=(monday + 48 * hour, False),
            answer=(False, 2, "bad"),
        )
        await unit_dispatch(conn, "qd-water", monday + 24 * hour)  # never signed for
        await unit_dispatch(conn, "qd-water", local(2024, 4, 30, 10, 0), signed=monday)  # before
        # Billing: made, signed and completed on Tuesday, all in time, rated 4.
        await unit_dispatch(
            conn,
            "qd-billing",
            monday + 23 * hour,
            signed=monday + 24 * hour,
            completed=(monday + 29 * hour, True),
            answer=(True, 4, "good"),
        )
    clock.set(local(2024, 5, 8, 12, 0))  # Wednesday: the 7 days are 2 to 8 May
    board = await desks["supervisor"].get("/api/v1/board/units", days="7")
    assert (board["start"], board["end"]) == ("2024-05-02", "2024-05-08")
    units = {u["unit_id"]: u for u in board["units"]}
    assert set(units) == {water, billing}
    assert {k: units[water][k] for k in RATES} == {
        "response_rate": 0.3333,  # 1 of 3 signed for in time
        "resolution_rate": 0.5,  # 1 of 2 solved
        "satisfaction_rate": 0.5,  # 1 of 2 rated 3 or better
        "on_time_rate": 0.5,  # 1 of 2 completed in time
        "score": 45.0,  # 30 × 0.3333 + 35 × 0.5 + 35 × 0.5
    }
    assert units[water]["name"] == "青岛水务集团"
    assert {k: units[billing][k] for k in RATES} == {
        "response_rate": 1.0,
        "resolution_rate": 1.0,
        "satisfaction_rate": 1.0,
        "on_time_rate": 1.0,
        "score": 100.0,
    }
    # Per day: a response counts on the day of the dispatch, the rest on the completion's.
    trend = {(p["unit_id"], p["day"]): {k: p[k] for k in RATES} for p in board["trend"]}
    assert trend == {
        (water, "2024-05-06"): {**NOTHING, "response_rate": 0.5},
        (water, "2024-05-07"): {
            "response_rate": 0.0,
            "resolution_rate": 1.0,
            "satisfaction_rate": 1.0,
            "on_time_rate": 1.0,
            "score": 70.0,
        },
        (water, "2024-05-08"): {
            **NOTHING,
            "resolution_rate": 0.0,
            "satisfaction_rate": 0.0,
            "on_time_rate": 0.0,
        },
        (billing, "2024-05-07"): {**{k: 1.0 for k in RATES}, "score": 100.0},
    }
    # One definition: the board shows exactly what the figures API answers.
    figures = await desks["supervisor"].get(
        "/api/v1/figures", by="unit", start="2024-05-02", end="2024-05-08"
    )
    assert [{k: v for k, v in u.items() if k != "unit_id"} for u in board["units"]] == figures[
        "items"
    ]
    groups = await desks["supervisor"].get("/api/v1/board/units", days="7", by="group")
    group_figures = await desks["supervisor"].get(
        "/api/v1/figures", by="group", start="2024-05-02", end="2024-05-08"
    )
    assert groups["by"] == "group"
    assert [{k: v for k, v in u.items() if k != "unit_id"} for u in groups["units"]] == (
        group_figures["items"]
    )
    response = await desks["water"].client.get("/api/v1/board/units?days=7")
    assert response.status == 403


RATES = ("response_rate", "resolution_rate", "satisfaction_rate", "on_time_rate", "score")
NOTHING = dict.fromkeys(RATES)


async def test_the_queue_shows_waiting_callers_masked(
    desks: dict[str, Desk], pool: asyncpg.Pool, clock: Clock
) -> None:
    queued = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=90)
    await pool.execute(
        """
        INSERT INTO calls (call_sid, hotline_code, from_phone, to_number, status, queued_at)
        VALUES ('CAconsolequeue1', '96111', '+8613800001111', '96111', 'queued', $1)
        """,
        queued,
    )
    clock.set(queued + dt.timedelta(seconds=90))
    items = (await desks["agent"].get("/api/v1/calls/waiting"))["items"]
    (row,) = [c for c in items if c["from_phone"].endswith("1111")]
    assert row["from_phone"] == mask_phone("+8613800001111") and row["waiting_seconds"] == 90
    # An offline agent is offered no call (it would ring at an empty desk).
    refused = await desks["agent"].post("/api/v1/calls/next", status=409)
    assert refused["error"]["code"] == "agent_offline"
    await put(desks["agent"], "/api/v1/agents/me/status", {"status": "available"})
    taken = await desks["agent"].post("/api/v1/calls/next")
    assert "*" not in taken["caller"]["phone"]  # whoever takes a call sees the number whole
