"""Urgent orders run on their item's urgent limits, in natural hours (issue 15, item 9).

Orders are registered through the REST API at a moment the test clock sets: a Saturday
evening some months ahead (the relay fires nothing of them early while the test runs
at real time). The dispatch is made by the real worker at real time; its sign-for limit
is checked against the dispatch's own creation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from hotline.settings import Settings
from tests.factories import Clock
from tests.routing_support import Desk, enterprise_ids, open_desks, order_events, settle

SHANGHAI = ZoneInfo("Asia/Shanghai")
SECOND = dt.timedelta(seconds=1)
# Saturday 13 March 2027, 19:00: no holiday or make-up working day near it.
SATURDAY_EVENING = dt.datetime(2027, 3, 13, 19, 0, tzinfo=SHANGHAI)


@pytest.fixture
async def desks(
    server: TestServer, pool: asyncpg.Pool, clock: Clock
) -> AsyncIterator[dict[str, Desk]]:
    """Signed in on the Saturday evening (a session signed in earlier would have run out
    by then)."""
    clock.set(SATURDAY_EVENING)
    async with open_desks(server, pool, "agent", "supervisor", "water") as opened:
        yield opened


def moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def due(order: Any, kind: str) -> dt.datetime:
    (deadline,) = [d for d in order["deadlines"] if d["kind"] == kind and d["state"] == "pending"]
    return moment(deadline["due_at"])


async def register(desk: Desk, item: str, priority: str, area: str = "370213") -> Any:
    body = {
        "hotline": "96111",
        "service_item": item,
        "priority": priority,
        "area": area,
        "description": "投诉:抢修人员迟迟未到",
        "address": "urgent limits",
    }
    created = await desk.post("/api/v1/orders", body, status=201)
    return await desk.get(f"/api/v1/orders/{created['id']}")


async def test_an_urgent_order_on_a_saturday_evening_is_due_in_natural_hours(
    desks: dict[str, Desk],
) -> None:
    agent = desks["agent"]
    # G-COMPLAINT: urgent limits 2 h sign-for, 4 h first contact, 24 h resolution.
    urgent = await register(agent, "G-COMPLAINT", "urgent")
    assert moment(urgent["resolution_due_at"]) == SATURDAY_EVENING + dt.timedelta(hours=24)
    assert due(urgent, "resolution") == SATURDAY_EVENING + dt.timedelta(hours=24)
    assert due(urgent, "first_contact") == SATURDAY_EVENING + dt.timedelta(hours=4)
    (registered,) = [e for e in urgent["events"] if e["type"] == "order.registered"]
    assert registered["data"]["limits"] == "urgent"

    # The same complaint, normal: 7 working days, the weekend not counted: Tuesday.
    normal = await register(agent, "G-COMPLAINT", "normal")
    assert moment(normal["resolution_due_at"]) == dt.datetime(2027, 3, 23, 18, tzinfo=SHANGHAI)
    assert due(normal, "first_contact") == dt.datetime(2027, 3, 15, 18, tzinfo=SHANGHAI)
    (registered,) = [e for e in normal["events"] if e["type"] == "order.registered"]
    assert registered["data"]["limits"] == "normal"

    # W01 has no urgent limits: an urgent meter check keeps the working-day ones.
    meter = await register(agent, "W01", "urgent")
    assert moment(meter["resolution_due_at"]) == dt.datetime(2027, 3, 19, 18, tzinfo=SHANGHAI)
    (registered,) = [e for e in meter["events"] if e["type"] == "order.registered"]
    assert registered["data"]["limits"] == "normal"


async def test_the_ladder_of_an_urgent_order_follows_its_urgent_limits(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings, clock: Clock
) -> None:
    street = "370214002"
    ids = await enterprise_ids(desks["supervisor"])
    await desks["supervisor"].post(
        "/api/v1/routing/rules",
        {"service_item": "G-COMPLAINT", "area": street, "candidates": [ids["qd-water"]]},
        status=201,
    )
    order = await register(desks["agent"], "G-COMPLAINT", "urgent", street)
    clock.reset()
    await settle(pool, settings)
    order = await desks["agent"].get(f"/api/v1/orders/{order['id']}")

    # Sign for within 2 natural hours of the dispatch, whatever the day.
    (dispatch,) = order["dispatches"]
    sign_for_due = moment(dispatch["sign_for_due_at"])
    assert sign_for_due - moment(dispatch["created_at"]) == dt.timedelta(hours=2)
    assert due(order, "sign_for") == sign_for_due

    # Yellow at 80% of the 24 natural hours: Sunday 14:12.
    warning = due(order, "resolution_warning")
    assert warning == SATURDAY_EVENING + dt.timedelta(hours=24) * 0.8
    assert due(order, "resolution") == SATURDAY_EVENING + dt.timedelta(hours=24)

    await settle(pool, settings, at=sign_for_due + SECOND)
    await desks["water"].post(f"/api/v1/dispatches/{dispatch['id']}/sign-for")
    await settle(pool, settings, at=warning - SECOND)
    events = await order_events(desks["agent"], order["id"])
    assert "ladder.reminder" in events and "ladder.yellow" not in events
    await settle(pool, settings, at=warning + SECOND)
    events = await order_events(desks["agent"], order["id"])
    assert events.count("ladder.yellow") == 1 and "ladder.red" not in events
    await settle(pool, settings, at=due(order, "resolution") + SECOND)
    events = await order_events(desks["agent"], order["id"])
    assert events.count("ladder.red") == 1 and events.count("ladder.supervision") == 1


async def test_changing_the_priority_recomputes_the_open_deadlines(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings, clock: Clock
) -> None:
    street = "370214003"
    ids = await enterprise_ids(desks["supervisor"])
    await desks["supervisor"].post(
        "/api/v1/routing/rules",
        {"service_item": "G-COMPLAINT", "area": street, "candidates": [ids["qd-water"]]},
        status=201,
    )
    order = await register(desks["agent"], "G-COMPLAINT", "normal", street)
    clock.reset()
    await settle(pool, settings)
    path = f"/api/v1/orders/{order['id']}"
    tuesday = dt.datetime(2027, 3, 23, 18, tzinfo=SHANGHAI)
    assert moment((await desks["agent"].get(path))["resolution_due_at"]) == tuesday

    changed = await desks["agent"].post(path + "/priority", {"priority": "urgent"})
    assert changed["priority"] == "urgent"
    sunday = SATURDAY_EVENING + dt.timedelta(hours=24)
    assert moment(changed["resolution_due_at"]) == sunday
    order = await desks["agent"].get(path)
    assert due(order, "resolution") == sunday
    assert due(order, "first_contact") == SATURDAY_EVENING + dt.timedelta(hours=4)
    assert due(order, "resolution_warning") == SATURDAY_EVENING + dt.timedelta(hours=24) * 0.8
    (dispatch,) = order["dispatches"]
    sign_for_due = moment(dispatch["sign_for_due_at"])
    assert sign_for_due - moment(dispatch["created_at"]) == dt.timedelta(hours=2)
    assert due(order, "sign_for") == sign_for_due
    (event,) = [e for e in order["events"] if e["type"] == "order.priority_changed"]
    assert (event["data"]["from"], event["data"]["to"]) == ("normal", "urgent")
    assert event["data"]["limits"] == "urgent"

    # Lifted again: back on working days; the same priority twice changes nothing.
    await desks["agent"].post(path + "/priority", {"priority": "normal"})
    await desks["agent"].post(path + "/priority", {"priority": "normal"})
    order = await desks["agent"].get(path)
    assert moment(order["resolution_due_at"]) == tuesday
    assert due(order, "resolution") == tuesday
    assert [e["type"] for e in order["events"]].count("order.priority_changed") == 2

    # A unit cannot change it; a finished order's priority stays.
    response = await desks["water"].client.post(
        path + "/priority",
        json={"priority": "urgent"},
        headers={"X-CSRF-Token": desks["water"].csrf},
    )
    assert response.status == 403
    await desks["water"].post(f"/api/v1/dispatches/{dispatch['id']}/sign-for")
    await desks["water"].post(f"/api/v1/dispatches/{dispatch['id']}/complete", {"reply": "已处理"})
    refused = await desks["agent"].post(path + "/priority", {"priority": "urgent"}, status=409)
    assert refused["error"]["code"] == "order_not_open"
