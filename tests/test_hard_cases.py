"""办不成事 (hard cases): flagged by an agent or on the public form, they skip routing, go
to coordination on a limit of their own, and are counted apart (issue 15, item 6).

The web runs on a test clock set to a Monday morning some months ahead (so the relay
fires none of the order's deadlines while the test runs at real time); routing's worker
runs at real time and computes the hard-case due from the order's registration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestServer

from hotline.settings import Settings
from tests.factories import Clock
from tests.routing_support import Desk, enterprise_ids, open_desks, settle

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 15 March 2027, 10:00: no holiday near it.
MONDAY = dt.datetime(2027, 3, 15, 10, 0, tzinfo=SHANGHAI)
# Three working days on (the default HOTLINE_HARD_CASE_WORKING_DAYS; working days end at
# the day's close), before W01's own five-day limit.
HARD_CASE_DUE = dt.datetime(2027, 3, 18, 18, 0, tzinfo=SHANGHAI)
STREET = "370214004"  # a rule of this test's own sends W01 there to 青岛水务集团
TRIED = "3 月 8 日到区供水服务窗口反映，答复不归其管；又打过物业电话，无人处理"


@pytest.fixture
async def desks(
    server: TestServer, pool: asyncpg.Pool, clock: Clock
) -> AsyncIterator[dict[str, Desk]]:
    clock.set(MONDAY)
    async with open_desks(server, pool, "agent", "supervisor", "water") as opened:
        yield opened


def moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def pending(order: Any, kind: str) -> dt.datetime:
    (deadline,) = [d for d in order["deadlines"] if d["kind"] == kind and d["state"] == "pending"]
    return moment(deadline["due_at"])


async def hard_case_figures(desk: Desk, hotline: str, day: dt.date) -> dict[str, Any]:
    figures = await desk.get(
        "/api/v1/figures/hard-cases", start=day.isoformat(), end=day.isoformat()
    )
    (row,) = [r for r in figures["items"] if r["key"] == hotline]
    return dict(row)


def assert_taken_as_hard_case(order: Any) -> None:
    """Straight to coordination (no dispatch, no rule), due on the hard-case limit."""
    assert order["status"] == "escalated" and order["dispatches"] == []
    assert order["hard_case"] is True and order["tried_elsewhere"] == TRIED
    assert moment(order["hard_case_due_at"]) == HARD_CASE_DUE
    assert moment(order["resolution_due_at"]) == HARD_CASE_DUE
    assert pending(order, "resolution") == HARD_CASE_DUE
    types = [e["type"] for e in order["events"]]
    assert "order.start_dispatch" not in types
    (escalated,) = [e for e in order["events"] if e["type"] == "order.escalate"]
    assert escalated["data"]["reason"].startswith("办不成事")
    assert TRIED in escalated["data"]["reason"]


async def test_an_agents_hard_case_is_coordinated_and_counted_apart(
    desks: dict[str, Desk],
    server: TestServer,
    pool: asyncpg.Pool,
    settings: Settings,
    clock: Clock,
) -> None:
    agent, supervisor, water = desks["agent"], desks["supervisor"], desks["water"]
    ids = await enterprise_ids(supervisor)
    await supervisor.post(
        "/api/v1/routing/rules",
        {"service_item": "W01", "area": STREET, "candidates": [ids["qd-water"]]},
        status=201,
    )
    body = {
        "hotline": "96111",
        "service_item": "W01",
        "area": STREET,
        "description": "水表走字太快，多次反映无果",
        "hard_case": True,
    }
    refused = await agent.post("/api/v1/orders", body, status=422)
    assert list(refused["error"]["fields"]) == ["tried_elsewhere"]
    created = await agent.post("/api/v1/orders", {**body, "tried_elsewhere": TRIED}, status=201)
    # A usual order of the same item and area, routed by the rules as before.
    usual = await agent.post("/api/v1/orders", {**body, "hard_case": False}, status=201)
    await settle(pool, settings)

    path = f"/api/v1/orders/{created['id']}"
    order = await agent.get(path)
    assert_taken_as_hard_case(order)
    assert (await agent.get(f"/api/v1/orders/{usual['id']}"))["status"] == "dispatched"

    # The board's own list, and the coordination queue without it.
    listed = await supervisor.get("/api/v1/orders", hard_case="true", sort="due")
    assert created["id"] in [o["id"] for o in listed["items"]]
    assert usual["id"] not in [o["id"] for o in listed["items"]]
    queue = await supervisor.get("/api/v1/orders", status="escalated", hard_case="false")
    assert created["id"] not in [o["id"] for o in queue["items"]]

    # The supervisor coordinates it as any other order; the lead unit does the work.
    await supervisor.post(
        path + "/coordinate",
        {
            "lead_enterprise_id": ids["qd-water"],
            "due_at": HARD_CASE_DUE.isoformat(),
            "note": "督办",
        },
    )
    (dispatch,) = (await agent.get(path))["dispatches"]
    await water.post(f"/api/v1/dispatches/{dispatch['id']}/sign-for")
    await water.post(f"/api/v1/dispatches/{dispatch['id']}/complete", {"reply": "已换表"})

    # Another hard case stays open past its due.
    late = await agent.post(
        "/api/v1/orders", {**body, "tried_elsewhere": TRIED, "area": "370214005"}, status=201
    )
    await settle(pool, settings)
    assert (await agent.get(f"/api/v1/orders/{late['id']}"))["status"] == "escalated"
    # Only the centre sees them.
    response = await water.client.get(
        "/api/v1/figures/hard-cases",
        params={"start": str(MONDAY.date()), "end": str(MONDAY.date())},
    )
    assert response.status == 403
    clock.set(HARD_CASE_DUE + dt.timedelta(minutes=1))
    async with open_desks(server, pool, "supervisor") as later:  # Monday's session ran out
        figures = await hard_case_figures(later["supervisor"], "96111", MONDAY.date())
    assert {k: figures[k] for k in ("registered", "completed", "completed_on_time")} == {
        "registered": 2,
        "completed": 1,
        "completed_on_time": 1,
    }
    assert (figures["on_time_rate"], figures["open"], figures["overdue"]) == (1.0, 1, 1)


def report_form(**fields: str) -> FormData:
    form = FormData(default_to_multipart=True)  # as browsers send it
    base = {"description": "路灯下的井盖松动，多次反映无人修", "address": "宁夏路 5 号"}
    for name, value in {**base, "phone": "139 1234 0015", **fields}.items():
        form.add_field(name, value)
    return form


async def test_a_citizen_flags_a_hard_case_on_the_public_form(
    desks: dict[str, Desk], server: TestServer, pool: asyncpg.Pool, settings: Settings
) -> None:
    async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as anonymous:
        response = await anonymous.post(
            "/api/v1/public/reports", data=report_form(hard_case="true")
        )
        assert response.status == 422, await response.text()
        assert list((await response.json())["error"]["fields"]) == ["tried_elsewhere"]
        response = await anonymous.post(
            "/api/v1/public/reports", data=report_form(hard_case="true", tried_elsewhere=TRIED)
        )
        assert response.status == 201, await response.text()
        number = (await response.json())["number"]
    async with pool.acquire() as conn:
        draft_id = await conn.fetchval("SELECT id FROM work_orders WHERE number = $1", number)
    agent = desks["agent"]
    draft = await agent.get(f"/api/v1/orders/{draft_id}")
    assert (draft["status"], draft["hard_case"], draft["tried_elsewhere"]) == ("draft", True, TRIED)

    # The agent confirms it and the citizen's flag stays; it cannot lose where they tried.
    refused = await agent.post(
        f"/api/v1/orders/{draft_id}/confirm",
        {"service_item": "W01", "area": STREET, "tried_elsewhere": ""},
        status=422,
    )
    assert list(refused["error"]["fields"]) == ["tried_elsewhere"]
    await agent.post(f"/api/v1/orders/{draft_id}/confirm", {"service_item": "W01", "area": STREET})
    await settle(pool, settings)
    assert_taken_as_hard_case(await agent.get(f"/api/v1/orders/{draft_id}"))
    figures = await hard_case_figures(desks["supervisor"], "12319", MONDAY.date())
    assert (figures["registered"], figures["open"], figures["completed"]) == (1, 1, 0)
    assert figures["on_time_rate"] is None
