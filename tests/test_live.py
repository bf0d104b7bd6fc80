"""Live pushes: a unit's console hears of a dispatch made by a worker in another process."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import socketio
from aiohttp.test_utils import TestServer

from hotline.orders.models import NewDraft
from hotline.orders.service import do_register_draft
from hotline.settings import Settings
from tests.routing_support import Desk, enterprise_ids, open_desks, settle


@pytest.fixture
async def desks(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[dict[str, Desk]]:
    async with open_desks(server, pool, "agent", "supervisor", "energy", "water") as opened:
        yield opened


def cookie_of(d: Desk, server: TestServer) -> str:
    jar = d.client.cookie_jar.filter_cookies(server.make_url("/"))
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())


async def listen(
    server: TestServer, headers: dict[str, str]
) -> tuple[socketio.AsyncClient, list[Any]]:
    received: list[Any] = []
    client = socketio.AsyncClient(reconnection=False)
    client.on("order_event", lambda data: received.append(data))
    try:
        await client.connect(
            str(server.make_url("/")), headers=headers, transports=["websocket"], wait_timeout=5
        )
    except socketio.exceptions.ConnectionError:
        # A refused engine.io client keeps the HTTP session it opened; close it.
        if client.eio.http is not None:
            await client.eio.http.close()
        raise
    return client, received


async def test_the_unit_hears_of_its_dispatch_and_no_other_unit_does(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings, server: TestServer
) -> None:
    ids = await enterprise_ids(desks["supervisor"])
    await desks["supervisor"].post(
        "/api/v1/routing/rules",
        {"service_item": "G06", "area": "370215001", "candidates": [ids["qd-energy"]]},
        status=201,
    )
    origin = {"Origin": settings.base_url}
    energy, heard = await listen(server, {"Cookie": cookie_of(desks["energy"], server), **origin})
    water, overheard = await listen(server, {"Cookie": cookie_of(desks["water"], server), **origin})
    try:
        order = await desks["agent"].post(
            "/api/v1/orders",
            {
                "hotline": "96556",
                "service_item": "G06",
                "area": "370215001",
                "description": "申请停气检修",
            },
            status=201,
        )
        await settle(pool, settings)  # the worker, another process, emits through Redis
        for _ in range(50):
            if any(m["order_id"] == order["id"] for m in heard):
                break
            await asyncio.sleep(0.1)
        (message,) = [m for m in heard if m["order_id"] == order["id"]]
        assert message["type"] == "dispatch.created" and message["number"] == order["number"]
        detail = await desks["agent"].get(f"/api/v1/orders/{order['id']}")
        dispatched = next(e for e in detail["events"] if e["type"] == "order.dispatch")
        assert message["seq"] == dispatched["seq"]
        assert not [m for m in overheard if m["order_id"] == order["id"]]
    finally:
        await energy.disconnect()
        await water.disconnect()


async def test_no_session_or_a_foreign_origin_gets_no_connection(
    desks: dict[str, Desk], server: TestServer, settings: Settings
) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        await listen(server, {"Origin": settings.base_url})
    with pytest.raises(socketio.exceptions.ConnectionError):
        await listen(
            server, {"Cookie": cookie_of(desks["water"], server), "Origin": "https://evil.example"}
        )


async def test_supervisors_hear_a_sign_for_reminder(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings, server: TestServer
) -> None:
    ids = await enterprise_ids(desks["supervisor"])
    await desks["supervisor"].post(
        "/api/v1/routing/rules",
        {"service_item": "G07", "area": "370215002", "candidates": [ids["qd-energy"]]},
        status=201,
    )
    headers = {"Cookie": cookie_of(desks["supervisor"], server), "Origin": settings.base_url}
    supervisor, heard = await listen(server, headers)
    try:
        order = await desks["agent"].post(
            "/api/v1/orders",
            {
                "hotline": "96556",
                "service_item": "G07",
                "area": "370215002",
                "description": "预约燃气安全检查",
            },
            status=201,
        )
        await settle(pool, settings)
        detail = await desks["agent"].get(f"/api/v1/orders/{order['id']}")
        (sign_for,) = [d for d in detail["deadlines"] if d["kind"] == "sign_for"]
        late = dt.datetime.fromisoformat(sign_for["due_at"]) + dt.timedelta(seconds=1)
        await settle(pool, settings, at=late)
        for _ in range(50):
            if any(m.get("level") == "reminder" and m["order_id"] == order["id"] for m in heard):
                break
            await asyncio.sleep(0.1)
        reminders = [
            m for m in heard if m.get("level") == "reminder" and m["order_id"] == order["id"]
        ]
        assert len(reminders) == 1 and reminders[0]["type"] == "notice.created"
    finally:
        await supervisor.disconnect()


async def test_agents_hear_of_a_new_draft(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings, server: TestServer
) -> None:
    headers = {"Cookie": cookie_of(desks["agent"], server), "Origin": settings.base_url}
    agent, heard = await listen(server, headers)
    try:
        async with pool.acquire() as conn, conn.transaction():
            draft = await do_register_draft(
                conn,
                NewDraft(
                    hotline="12319",
                    channel="sms",
                    description="路灯不亮了",
                    caller_phone="13900001234",
                ),
                dt.datetime.now(dt.UTC),
            )
        await settle(pool, settings)
        for _ in range(50):
            if any(m["order_id"] == draft["id"] for m in heard):
                break
            await asyncio.sleep(0.1)
        (message,) = [m for m in heard if m["order_id"] == draft["id"]]
        assert message["type"] == "order.drafted" and message["channel"] == "sms"
    finally:
        await agent.disconnect()
