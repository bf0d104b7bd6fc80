"""The time-limit ladder on durable deadlines, with the relay's clock moved forward."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from redis import Redis
from rq import Queue

from hotline.relay import Relay
from hotline.settings import Settings
from tests.routing_support import Desk, enterprise_ids, open_desks, order_events, settle
from wiring.subscriptions import relay_sources

SECOND = dt.timedelta(seconds=1)


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
