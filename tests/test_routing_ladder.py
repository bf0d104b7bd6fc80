"""The time-limit ladder on durable deadlines, with the relay's clock moved forward."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from redis import Redis
from rq import Queue

from hotline.relay import Relay
from hotline.settings import Settings
from hotline.workcal import WorkingCalendar
from tests.factories import Clock
from tests.routing_support import Desk, enterprise_ids, open_desks, order_events, settle
from wiring.subscriptions import relay_sources

SECOND = dt.timedelta(seconds=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


@pytest.fixture
async def desks(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[dict[str, Desk]]:
    async with open_desks(server, pool, "agent", "supervisor", "water") as opened:
        yield opened


async def routed_order(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings, street: str
) -> Any:
    ids = await enterprise_ids(desks["supervisor"])
    await desks["supervisor"].post(
        "/api/v1/routing/rules",
        {"service_item": "W01", "area": street, "candidates": [ids["qd-water"]]},
        status=201,
    )
    order = await desks["agent"].post(
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": "W01",
            "area": street,
            "description": "水表不准",
            "address": "ladder",
        },
        status=201,
    )
    await settle(pool, settings)
    return await desks["agent"].get(f"/api/v1/orders/{order['id']}")


def due(order: Any, kind: str) -> dt.datetime:
    (deadline,) = [d for d in order["deadlines"] if d["kind"] == kind and d["state"] == "pending"]
    return dt.datetime.fromisoformat(deadline["due_at"])


async def notices_for(d: Desk, order_id: int) -> list[str]:
    items = (await d.get("/api/v1/supervision/notices", limit="500"))["items"]
    return sorted(n["level"] for n in items if n["order_id"] == order_id)


async def test_sign_for_timeout_reminds_exactly_once(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    order = await routed_order(desks, pool, settings, "370213002")
    late = due(order, "sign_for") + SECOND
    await settle(pool, settings, at=late)
    await settle(pool, settings, at=late + dt.timedelta(minutes=5))
    assert await notices_for(desks["supervisor"], order["id"]) == ["reminder"]
    assert (await order_events(desks["agent"], order["id"])).count("ladder.reminder") == 1
    # Marked for the figures when the reminder went out (and not when signed in time).
    missed = await pool.fetchval(
        "SELECT sign_for_missed_at FROM dispatches WHERE order_id = $1 AND state = 'pending'",
        order["id"],
    )
    assert missed is not None


async def test_signing_in_time_means_no_reminder(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    order = await routed_order(desks, pool, settings, "370213003")
    dispatch = next(d for d in order["dispatches"] if d["state"] == "pending")
    await desks["water"].post(f"/api/v1/dispatches/{dispatch['id']}/sign-for")
    await settle(pool, settings, at=due(order, "sign_for") + SECOND)
    assert await notices_for(desks["supervisor"], order["id"]) == []
    missed = "SELECT sign_for_missed_at FROM dispatches WHERE id = $1"
    assert await pool.fetchval(missed, dispatch["id"]) is None


async def test_the_whole_overdue_ladder_each_step_once(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    order = await routed_order(desks, pool, settings, "370213004")
    dispatch = next(d for d in order["dispatches"] if d["state"] == "pending")
    await desks["water"].post(f"/api/v1/dispatches/{dispatch['id']}/sign-for")
    warning, resolution, notice = (
        due(order, k) for k in ("resolution_warning", "resolution", "public_notice")
    )
    assert warning < resolution < notice

    await settle(pool, settings, at=warning + SECOND)
    assert await notices_for(desks["supervisor"], order["id"]) == ["yellow"]
    await settle(pool, settings, at=resolution + SECOND)
    assert await notices_for(desks["supervisor"], order["id"]) == ["red", "supervision", "yellow"]
    await settle(pool, settings, at=notice + SECOND)
    await settle(pool, settings, at=notice + dt.timedelta(days=1))
    assert await notices_for(desks["supervisor"], order["id"]) == [
        "public_notice",
        "red",
        "supervision",
        "yellow",
    ]
    events = await order_events(desks["agent"], order["id"])
    for step in ("ladder.yellow", "ladder.red", "ladder.supervision", "ladder.public_notice"):
        assert events.count(step) == 1, step


async def test_a_completed_order_climbs_no_further(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    order = await routed_order(desks, pool, settings, "370213005")
    dispatch = next(d for d in order["dispatches"] if d["state"] == "pending")
    await desks["water"].post(f"/api/v1/dispatches/{dispatch['id']}/sign-for")
    await desks["water"].post(f"/api/v1/dispatches/{dispatch['id']}/complete", {"reply": "已处理"})
    await settle(pool, settings, at=due(order, "public_notice") + SECOND)
    assert await notices_for(desks["supervisor"], order["id"]) == []


async def test_a_deadline_fires_after_redis_is_flushed(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings, redis_conn: Redis
) -> None:
    order = await routed_order(desks, pool, settings, "370213006")
    late = due(order, "sign_for") + SECOND
    # The relay hands the deadline to RQ, then Redis loses everything before a worker runs.
    queue = Queue(settings.queue_name, connection=redis_conn)
    claimed = await Relay(pool, queue, sources=relay_sources(), clock=lambda: late).run_once()
    assert claimed["deadline"] >= 1
    redis_conn.flushall()
    await settle(pool, settings, at=late)  # still leased: nothing to do yet
    assert await notices_for(desks["supervisor"], order["id"]) == []
    # Once the lease has run out, the deadline is taken again from PostgreSQL.
    await settle(pool, settings, at=late + dt.timedelta(seconds=settings.lease_seconds + 1))
    assert await notices_for(desks["supervisor"], order["id"]) == ["reminder"]


async def test_a_suspension_stops_the_clock_and_resuming_gives_back_what_was_left(
    server: TestServer, pool: asyncpg.Pool, settings: Settings, clock: Clock
) -> None:
    """挂起 (issue 15, item 8): registered on a Monday morning some months ahead, the
    order (W01: 5 working days) is due the next Monday 18:00. Suspended on Tuesday 10:00,
    nothing of its ladder fires, however late; resumed on the Wednesday of the week
    after, it gets back the working time it had left: due Tuesday 30 March, 18:00. The
    desks sign in again at each moment the clock jumps to (a session lasts 12 hours)."""

    @contextlib.asynccontextmanager
    async def desks_at(when: dt.datetime) -> AsyncIterator[dict[str, Desk]]:
        clock.set(when)
        async with open_desks(server, pool, "agent", "supervisor", "water") as opened:
            yield opened

    async with desks_at(dt.datetime(2027, 3, 15, 9, 0, tzinfo=SHANGHAI)) as desks:
        order = await routed_order(desks, pool, settings, "370214006")
        assert moment(order["resolution_due_at"]) == dt.datetime(2027, 3, 22, 18, tzinfo=SHANGHAI)
        dispatch = next(d for d in order["dispatches"] if d["state"] == "pending")
        path = f"/api/v1/dispatches/{dispatch['id']}"
        await desks["water"].post(path + "/sign-for")
    before = {k: due(order, k) for k in ("resolution_warning", "resolution", "public_notice")}

    suspended_at = dt.datetime(2027, 3, 16, 10, 0, tzinfo=SHANGHAI)
    async with desks_at(suspended_at) as desks:
        request = await desks["water"].post(
            path + "/time-requests",
            {
                "kind": "suspension",
                "reason": "业主出差，无法入户",
                "requested_due_at": "2027-04-30T10:00:00+08:00",
            },
        )
        approved = await desks["supervisor"].post(
            f"/api/v1/time-requests/{request['id']}/decision", {"decision": "approve"}
        )
        assert approved["resolution_due_at"] is None
        state = await desks["agent"].get(f"/api/v1/orders/{order['id']}")
        assert state["suspended"] is True
        (suspension,) = state["suspensions"]
        assert suspension["remaining_unit"] == "working_hours"
        stopped = ("resolution_warning", "resolution", "public_notice")
        pending = [d["kind"] for d in state["deadlines"] if d["state"] == "pending"]
        assert not set(pending) & set(stopped)
        again = await desks["water"].post(
            path + "/time-requests",
            {"reason": "再延", "requested_due_at": "2027-05-30T10:00:00+08:00"},
            status=409,
        )
        assert again["error"]["code"] == "suspended"

        # Past every step the order had: nothing fires while it is suspended.
        await settle(pool, settings, at=before["public_notice"] + dt.timedelta(days=1))
        assert await notices_for(desks["supervisor"], order["id"]) == []

    resumed_at = dt.datetime(2027, 3, 24, 10, 0, tzinfo=SHANGHAI)
    async with desks_at(resumed_at) as desks:
        resumed = await desks["water"].post(path + "/resume")
        new_due = dt.datetime(2027, 3, 30, 18, tzinfo=SHANGHAI)
        assert moment(resumed["resolution_due_at"]) == new_due
        state = await desks["agent"].get(f"/api/v1/orders/{order['id']}")
        assert state["suspended"] is False
        assert state["suspensions"][0]["suspended_seconds"] == 8 * 24 * 3600
        assert due(state, "resolution") == new_due
        # The yellow is as far ahead, in working time, as it was when the clock stopped.
        calendar = WorkingCalendar(periods=settings.working_periods)
        left = calendar.working_seconds(suspended_at, before["resolution_warning"])
        warning = calendar.add(resumed_at, left / 3600, "working_hours")
        assert due(state, "resolution_warning") == warning
        await desks["water"].post(path + "/resume", status=409)

        await settle(pool, settings, at=new_due + SECOND)
        notices = await notices_for(desks["supervisor"], order["id"])
        assert notices == ["red", "supervision", "yellow"]

        # The figures show the suspended time apart, on the day the suspension started.
        figures = await desks["supervisor"].get(
            "/api/v1/figures", by="unit", start="2027-03-16", end="2027-03-16"
        )
    (row,) = [r for r in figures["items"] if r["key"] == str(suspension["enterprise_id"])]
    assert (row["suspensions"], row["suspended_hours"]) == (1, 192.0)


async def test_a_suspension_ends_by_itself_at_its_expected_end(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    """The unit never resumes: at the end it gave, the clock runs again by itself."""
    order = await routed_order(desks, pool, settings, "370214005")
    dispatch = next(d for d in order["dispatches"] if d["state"] == "pending")
    path = f"/api/v1/dispatches/{dispatch['id']}"
    await desks["water"].post(path + "/sign-for")
    end = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    request = await desks["water"].post(
        path + "/time-requests",
        {"kind": "suspension", "reason": "等待燃气公司停气", "requested_due_at": end.isoformat()},
    )
    await desks["supervisor"].post(
        f"/api/v1/time-requests/{request['id']}/decision", {"decision": "approve"}
    )
    await settle(pool, settings, at=end + SECOND)
    state = await desks["agent"].get(f"/api/v1/orders/{order['id']}")
    assert state["suspended"] is False
    (resumed,) = [e for e in state["events"] if e["type"] == "clock.resumed"]
    assert resumed["actor"] == "system"
    assert due(state, "resolution") == moment(state["resolution_due_at"])
