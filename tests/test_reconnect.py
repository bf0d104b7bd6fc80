"""The web's database connections dropped by the server (a restart, a fail-over, an
administrator's pg_terminate_backend): requests that were using them are answered, not
failed, and nothing is written twice."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web
from aiohttp.test_utils import TestServer

from hotline.settings import Settings
from testkit.twilio import sid
from tests.factories import log_in, make_user, register_order
from tests.test_twilio_intake import Twilio, call_params, twilio
from tests.waiting import until
from web.api import Api, Routes
from web.app import create_app
from web.keys import POOL

__all__ = ["twilio"]  # the fixture, used by name

WAITING_BACKENDS = """
    SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid)
     WHERE NOT l.granted AND a.datname = current_database() AND l.relation = $1::regclass
"""


async def _dropped_while_waiting(
    pool: asyncpg.Pool, table: str, request: asyncio.Future[Any], times: int = 1
) -> None:
    """Hold ``table`` locked until ``request``'s connection waits on it, then terminate
    that connection (as a server restart would), ``times`` times; then let go."""
    async with pool.acquire() as admin, admin.transaction():
        await admin.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")

        dropped: set[int] = set()

        async def waiting() -> bool:
            if request.done():  # answered without waiting: the test is wrong, say how
                raise AssertionError(f"the request did not wait for {table}: {request.result()}")
            # A backend just terminated may still be listed until it has exited.
            rows = await pool.fetch(WAITING_BACKENDS, table)
            return any(row["pid"] not in dropped for row in rows)

        for _ in range(times):
            await until(waiting, f"the request waits for {table}", attempts=1200)
            for row in await pool.fetch(WAITING_BACKENDS, table):
                if row["pid"] not in dropped:
                    dropped.add(row["pid"])
                    await pool.execute("SELECT pg_terminate_backend($1)", row["pid"])


async def test_a_webhook_whose_connection_is_dropped_before_commit_is_stored_once(
    twilio: Twilio, pool: asyncpg.Pool
) -> None:
    call_sid = sid("CA")
    request = asyncio.ensure_future(twilio.post("/twilio/voice", call_params(call_sid, "96111")))
    await _dropped_while_waiting(pool, "calls", request)
    await request  # answered 200 (Twilio.post checks), on the second try
    assert await pool.fetchval("SELECT count(*) FROM calls WHERE call_sid = $1", call_sid) == 1


async def test_a_webhook_that_loses_its_connection_twice_is_told_to_try_again(
    twilio: Twilio, pool: asyncpg.Pool
) -> None:
    call_sid = sid("CA")
    params = call_params(call_sid, "96111")
    request = asyncio.ensure_future(twilio.post("/twilio/voice", params, status=503))
    await _dropped_while_waiting(pool, "calls", request, times=2)
    await request  # 503: Twilio tries the webhook again (its fallback URL, or a retry)
    assert await pool.fetchval("SELECT count(*) FROM calls WHERE call_sid = $1", call_sid) == 0
    await twilio.post("/twilio/voice", params)
    assert await pool.fetchval("SELECT count(*) FROM calls WHERE call_sid = $1", call_sid) == 1


async def test_a_read_whose_connection_is_dropped_is_answered(
    client: aiohttp.ClientSession, pool: asyncpg.Pool, settings: Settings, now: dt.datetime
) -> None:
    async with pool.acquire() as conn:
        username, actor = await make_user(conn, "supervisor")
        order = await register_order(conn, actor, settings, now)
    await log_in(client, username)

    async def read() -> dict[str, Any]:
        async with client.get(f"/api/v1/orders/{order['id']}") as response:
            assert response.status == 200, await response.text()
            return dict(await response.json())

    request = asyncio.ensure_future(read())
    await _dropped_while_waiting(pool, "work_orders", request)
    assert (await request)["id"] == order["id"]


# ---------------------------------------------- lost while committing: replayable or not


async def _commit_then_lose_the_connection(request: web.Request) -> web.Response:
    """Commits one row, then (the first time only) loses its connection."""
    async with request.app[POOL].acquire() as conn:
        async with conn.transaction():
            await conn.execute("INSERT INTO reconnect_probe (path) VALUES ($1)", request.path)
        ran = await conn.fetchval(
            "SELECT count(*) FROM reconnect_probe WHERE path = $1", request.path
        )
        if ran == 1:
            await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    return web.Response(text=str(ran))


async def test_after_a_commit_only_a_replayable_operation_runs_again(
    settings: Settings, pool: asyncpg.Pool
) -> None:
    await pool.execute("CREATE TABLE IF NOT EXISTS reconnect_probe (path text)")
    routes = Routes()
    for path, replayable in (("/probe/once", False), ("/probe/replayable", True)):
        routes.route(
            "POST", path, summary="probe", tag="probe", public=True, replayable=replayable
        )(_commit_then_lose_the_connection)
    api = Api()
    api.include(routes)
    server = TestServer(create_app(settings, api))
    await server.start_server()
    try:
        async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as client:
            async with client.post("/probe/once") as response:
                assert response.status == 503
                assert response.headers["Retry-After"]
                assert (await response.json())["error"]["code"] == "database_unavailable"
            async with client.post("/probe/replayable") as response:
                assert response.status == 200
                assert await response.text() == "2"  # run again on a fresh connection
        counts = dict(await pool.fetch("SELECT path, count(*) FROM reconnect_probe GROUP BY path"))
        assert counts == {"/probe/once": 1, "/probe/replayable": 2}
    finally:
        await server.close()
        await pool.execute("DROP TABLE reconnect_probe")
