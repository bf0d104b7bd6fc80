"""An enterprise sees only the orders dispatched to it (or to its branches)."""

from __future__ import annotations

import datetime as dt

import asyncpg
from aiohttp import ClientSession

from hotline.settings import Settings
from hotline.users.service import do_create_api_key
from tests.factories import dispatch_to, log_in, make_user, register_order

Client = ClientSession


async def test_enterprise_a_cannot_read_enterprise_b_order(
    client: Client, pool: asyncpg.Pool, settings: Settings, now: dt.datetime
) -> None:
    async with pool.acquire() as conn:
        _, agent = await make_user(conn, "agent")
        water_order = await register_order(conn, agent, settings, now)
        energy_order = await register_order(
            conn, agent, settings, now, service_item="G04", hotline="96556"
        )
        await dispatch_to(conn, water_order["id"], "qd-water", now)
        await dispatch_to(conn, energy_order["id"], "qd-energy", now)
        username, _ = await make_user(conn, "enterprise_user", enterprise_code="qd-water")
    await log_in(client, username)

    own = await client.get(f"/api/v1/orders/{water_order['id']}")
    assert own.status == 200
    foreign = await client.get(f"/api/v1/orders/{energy_order['id']}")
    assert foreign.status == 404
    assert (await foreign.json())["error"]["code"] == "not_found"
    listed = await (await client.get("/api/v1/orders", params={"limit": "200"})).json()
    listed_ids = {o["id"] for o in listed["items"]}
    assert water_order["id"] in listed_ids
    assert energy_order["id"] not in listed_ids


async def test_a_group_sees_what_went_to_its_branches(
    client: Client, pool: asyncpg.Pool, settings: Settings, now: dt.datetime
) -> None:
    async with pool.acquire() as conn:
        _, agent = await make_user(conn, "agent")
        order = await register_order(conn, agent, settings, now)
        await dispatch_to(conn, order["id"], "qd-water-east", now)
        username, _ = await make_user(conn, "enterprise_admin", enterprise_code="qd-water")
    await log_in(client, username)
    assert (await client.get(f"/api/v1/orders/{order['id']}")).status == 200


async def test_an_enterprise_system_reads_with_its_api_key(
    client: Client, pool: asyncpg.Pool, settings: Settings, now: dt.datetime
) -> None:
    async with pool.acquire() as conn:
        _, agent = await make_user(conn, "agent")
        mine = await register_order(conn, agent, settings, now)
        other = await register_order(conn, agent, settings, now)
        await dispatch_to(conn, mine["id"], "qd-billing", now)
        billing = await conn.fetchval("SELECT id FROM enterprises WHERE code = 'qd-billing'")
        key, _ = await do_create_api_key(conn, enterprise_id=billing, name="ERP", created_by=None)
    auth = {"Authorization": f"Bearer {key}"}
    assert (await client.get(f"/api/v1/orders/{mine['id']}", headers=auth)).status == 200
    assert (await client.get(f"/api/v1/orders/{other['id']}", headers=auth)).status == 404
    bad = await client.get("/api/v1/orders", headers={"Authorization": "Bearer hlk_forged"})
    assert bad.status == 401
