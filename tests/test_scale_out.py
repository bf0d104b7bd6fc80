"""Scale-out on one machine: two ``hotline web`` processes, two ``hotline worker``
processes and the relay, all real subprocesses on one PostgreSQL and one Redis, with a
database, RQ queue and live channel of their own.

(a) a console connected to web A hears of an order registered through web B;
(b) 1,000 orders registered through both webs are each dispatched exactly once, the
    dispatch jobs shared by both workers;
(c) a worker SIGKILLed in the middle of a dispatch job loses nothing: the outbox row it
    held is taken again once its lease runs out, and the other worker dispatches it.

To kill a worker provably in the middle of a job, the test holds a lock on one order,
waits until a worker's current job is that order's dispatch and PostgreSQL shows the job
waiting for the lock, and kills that worker.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import signal
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import socketio
from redis import Redis
from rq import Queue, Worker
from rq.job import Job
from rq.registry import FinishedJobRegistry
from rq.worker import BaseWorker

from hotline import db
from tests.factories import make_user
from tests.process_support import (
    PUBLIC_URL,
    Running,
    deployment,
    deployment_settings,
    new_database,
)
from tests.routing_support import Desk
from tests.waiting import until, waiting_on_a_lock
from wiring.services import ServiceUrls

pytestmark = pytest.mark.scale_out

ORDERS = 1000
VICTIM = ORDERS * 8 // 10  # the order whose dispatch job is in flight when its worker is killed
LEASE_SECONDS = 5  # the shortest the settings allow: the killed job comes back after it
CONCURRENCY = 16


async def sign_in(web: Running, pool: asyncpg.Pool, role: str) -> Desk:
    async with pool.acquire() as conn:
        username, _ = await make_user(conn, role)
    client = aiohttp.ClientSession(
        base_url=web.url,
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        headers={"Origin": PUBLIC_URL},
    )
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": "test-password-1"}
    )
    assert response.status == 200, await response.text()
    return Desk(client, (await response.json())["csrf_token"])


async def listen(web: Running, desk: Desk) -> tuple[socketio.AsyncClient, list[dict[str, Any]]]:
    cookies = desk.client.cookie_jar.filter_cookies(desk.client._base_url)  # type: ignore[arg-type]
    cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())
    heard: list[dict[str, Any]] = []
    client = socketio.AsyncClient(reconnection=False)
    client.on("order_event", heard.append)
    await client.connect(
        web.url,
        headers={"Cookie": cookie, "Origin": PUBLIC_URL},
        transports=["websocket"],
        wait_timeout=10,
    )
    return client, heard


# Orders spread over items and areas, as a city's are (duplicate detection compares an
# order with the recent ones of its item and area).
ITEMS = ("W01", "W02")
AREAS = ("370202", "370203", "370211", "370212", "370213", "370214", "370215", "370281")
VICTIM_ITEM = "B01"  # routed to a unit of its own, whose row the test locks


async def register(desk: Desk, n: int, item: str | None = None) -> int:
    order = await desk.post(
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": item or ITEMS[n % len(ITEMS)],
            "area": AREAS[n % len(AREAS)],
            "address": f"香港中路 {n} 号",
            "description": f"测试工单 #{n}",
        },
        status=201,
    )
    return int(order["id"])


async def register_many(desks: list[Desk], count: int) -> list[int]:
    """``count`` orders, alternately through each desk's web process, ``CONCURRENCY`` at
    a time, order ``VICTIM`` of ``VICTIM_ITEM``; their ids in the order asked for."""
    ids: list[int] = [0] * count
    turn = itertools.cycle(desks)
    lanes = asyncio.Semaphore(CONCURRENCY)

    async def one(n: int, desk: Desk) -> None:
        async with lanes:
            ids[n] = await register(desk, n, VICTIM_ITEM if n == VICTIM else None)

    await asyncio.gather(*(one(n, next(turn)) for n in range(count)))
    return ids


def dispatch_jobs(redis: Redis, queue: Queue, rows: dict[int, int]) -> list[tuple[int, str, Any]]:
    """(outbox row, worker name, result) of every finished job for the given rows."""
    # Job ids are "outbox-<row>-<attempt>-<queue>" (hotline/relay.py, job_id).
    ids = [
        job_id
        for job_id in FinishedJobRegistry(queue=queue).get_job_ids()
        if job_id.startswith("outbox-") and int(job_id.split("-")[1]) in rows
    ]
    found = []
    for job in Job.fetch_many(ids, connection=redis):
        if job is not None:
            row = int(job.id.split("-")[1])
            found.append((row, job.worker_name or "", job.return_value()))
    return found


async def test_two_webs_and_two_workers_share_the_work_and_lose_nothing(
    services: ServiceUrls, fresh_database: Callable[[str], Awaitable[str]], tmp_path: Path
) -> None:
    url = await new_database(fresh_database, "scale")
    settings = deployment_settings(url, services.redis_url)
    redis = Redis.from_url(services.redis_url)
    queue = Queue(settings.queue_name, connection=redis)
    pool = await db.create_pool(url, min_size=2, max_size=6)
    desks: list[Desk] = []
    live: socketio.AsyncClient | None = None
    try:
        async with deployment(
            settings,
            tmp_path,
            HOTLINE_LEASE_SECONDS=str(LEASE_SECONDS),
            HOTLINE_LIVE_CHANNEL=f"live-{uuid.uuid4().hex[:8]}",
        ) as processes:
            web_a, web_b = processes.start("web", "web-a"), processes.start("web", "web-b")
            workers = [processes.start("worker", f"worker{i}") for i in (1, 2)]
            processes.start("relay", "relay")
            await processes.wait_until_healthy(web_a, web_b)

            # The routing rules, made through B; everyone signs in on their own process.
            supervisor_b = await sign_in(web_b, pool, "supervisor")
            desks.append(supervisor_b)
            units = {
                u["code"]: u["id"] for u in (await supervisor_b.get("/api/v1/enterprises"))["items"]
            }
            for item, unit in (*((i, "qd-water") for i in ITEMS), (VICTIM_ITEM, "qd-billing")):
                await supervisor_b.post(
                    "/api/v1/routing/rules",
                    {"service_item": item, "candidates": [units[unit]]},
                    status=201,
                )
            supervisor_a = await sign_in(web_a, pool, "supervisor")
            agent_a = await sign_in(web_a, pool, "agent")
            agent_b = await sign_in(web_b, pool, "agent")
            desks += [supervisor_a, agent_a, agent_b]

            # (a) Connected to A, the supervisor hears of an order registered through B.
            live, heard = await listen(web_a, supervisor_a)
            first = await register(agent_b, -1)

            async def heard_of_first() -> bool:
                return any(m.get("order_id") == first for m in heard)

            await until(heard_of_first, "web A pushes the event of the order made on B", 400)
            names = {w.pid: w.name for w in Worker.all(queue=queue)}
            assert set(names) == {w.process.pid for w in workers}

            # (b) 1,000 orders through both webs while both workers dispatch them. (c) The
            # victim's dispatch waits for the unit row the test holds; its worker is
            # killed right then.
            async with pool.acquire() as blocker, blocker.transaction():
                await blocker.execute(
                    "SELECT 1 FROM enterprises WHERE id = $1 FOR UPDATE", units["qd-billing"]
                )
                registering = asyncio.create_task(register_many([agent_a, agent_b], ORDERS))

                async def victim_row() -> int | None:
                    async with pool.acquire() as conn:
                        row: int | None = await conn.fetchval(
                            "SELECT x.id FROM work_orders o JOIN outbox x "
                            "ON x.topic = 'order.registered' "
                            "AND (x.payload->>'order_id')::bigint = o.id "
                            "WHERE o.service_item_code = $1",
                            VICTIM_ITEM,
                        )
                    return row

                def busy_with(row: int) -> BaseWorker | None:
                    for worker in Worker.all(queue=queue):
                        if (worker.get_current_job_id() or "").startswith(f"outbox-{row}-"):
                            return worker
                    return None

                async def victim_in_flight() -> bool:
                    row = await victim_row()
                    return (
                        row is not None
                        and busy_with(row) is not None
                        and await waiting_on_a_lock(pool, "dispatches")
                    )

                await until(victim_in_flight, "a worker runs the victim's dispatch", 1200)
                victim = await victim_row()
                assert victim is not None
                holder = busy_with(victim)
                assert holder is not None
                (killed,) = [w for w in workers if w.process.pid == holder.pid]
                assert await asyncio.to_thread(killed.kill) == -signal.SIGKILL
            survivor = next(w for w in workers if w is not killed)
            ids = await registering
            async with pool.acquire() as conn:
                rows = {
                    r["id"]: int(r["order_id"])
                    for r in await conn.fetch(
                        "SELECT id, payload->>'order_id' AS order_id FROM outbox "
                        "WHERE topic = 'order.registered' "
                        "AND (payload->>'order_id')::bigint = ANY($1::bigint[])",
                        ids,
                    )
                }
            assert len(rows) == ORDERS and rows[victim] == ids[VICTIM]

            async def all_dispatched() -> bool:
                async with pool.acquire() as conn:
                    done = await conn.fetchval(
                        "SELECT count(DISTINCT order_id) FROM dispatches "
                        "WHERE order_id = ANY($1::bigint[])",
                        ids,
                    )
                return bool(done == ORDERS)

            await until(all_dispatched, "every order is dispatched", 900)
            assert survivor.process.poll() is None, survivor.output()

            # Each order dispatched exactly once: one dispatch row, one dispatch event.
            async with pool.acquire() as conn:
                per_order = await conn.fetch(
                    """
                    SELECT o.id,
                           (SELECT count(*) FROM dispatches d WHERE d.order_id = o.id) AS d,
                           (SELECT count(*) FROM order_events e
                             WHERE e.order_id = o.id AND e.type = 'order.dispatch') AS e
                      FROM work_orders o WHERE o.id = ANY($1::bigint[])
                    """,
                    ids,
                )
                victim_attempts = await conn.fetchval(
                    "SELECT attempts FROM outbox WHERE id = $1", victim
                )
            assert len(per_order) == ORDERS
            assert {(r["d"], r["e"]) for r in per_order} == {(1, 1)}

            # Each dispatch job done exactly once (re-deliveries after a lease find the row
            # done and skip), and both workers did their share.
            jobs = dispatch_jobs(redis, queue, rows)
            done = [(row, name) for row, name, result in jobs if result == "done"]
            assert sorted(row for row, _ in done) == sorted(rows)
            by_worker = collections.Counter(name for _, name in done)
            assert set(by_worker) == set(names.values()), (by_worker, names)
            assert all(count > 0 for count in by_worker.values()), by_worker
            # The killed job came back after its lease and the survivor carried it out.
            assert victim_attempts >= 2
            assert dict(done)[victim] == names[survivor.process.pid]

            # The console on A hears of orders made through either web.
            async def heard_of_both() -> bool:
                return {ids[0], ids[1]} <= {m.get("order_id") for m in heard}

            await until(heard_of_both, "web A pushes events of orders made on A and B", 400)
            print(f"\ndispatch jobs done per worker: {by_worker}")
    finally:
        if live is not None:
            await live.disconnect()
        for desk in desks:
            await desk.client.close()
        await pool.close()
        redis.close()
