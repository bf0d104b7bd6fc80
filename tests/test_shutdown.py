"""Graceful shutdown of the real processes: on SIGTERM a web process answers the
requests it is already serving and a worker finishes the job it is running.

To be sure a request or job is in flight when the signal arrives, the test holds a lock
the work needs and checks PostgreSQL's view of the waiting backend before signalling."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from redis import Redis
from rq import Queue, Worker
from rq.worker import BaseWorker

from hotline import db
from hotline.relay import Relay
from hotline.settings import Settings
from tests.factories import PASSWORD, make_user, register_order
from tests.process_support import (
    Deployment,
    deployment,
    deployment_settings,
    new_database,
)
from tests.waiting import until, waiting_on_a_lock
from wiring.services import ServiceUrls
from wiring.subscriptions import relay_sources


@pytest.fixture(scope="module")
async def own_settings(
    services: ServiceUrls, fresh_database: Callable[[str], Awaitable[str]]
) -> Settings:
    return deployment_settings(await new_database(fresh_database, "shutdown"), services.redis_url)


@pytest.fixture
async def own_pool(own_settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    assert own_settings.database_url
    pool = await db.create_pool(own_settings.database_url, min_size=1, max_size=3)
    yield pool
    await pool.close()


@pytest.fixture
async def processes(own_settings: Settings, tmp_path: Path) -> AsyncIterator[Deployment]:
    async with deployment(own_settings, tmp_path) as made:
        yield made


async def test_a_request_in_flight_at_sigterm_still_gets_its_answer(
    processes: Deployment, own_pool: asyncpg.Pool
) -> None:
    web = await processes.start_web("web")
    async with own_pool.acquire() as conn:
        username, _ = await make_user(conn, "agent")
    async with aiohttp.ClientSession() as session:
        # A phone number in a URL, for the log check below.
        async with session.get(f"{web.url}/api/v1/orders?q=13812345678") as response:
            assert response.status == 401
        async with own_pool.acquire() as blocker, blocker.transaction():
            await blocker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
            login = asyncio.create_task(
                session.post(
                    f"{web.url}/api/v1/auth/login",
                    json={"username": username, "password": PASSWORD},
                )
            )
            await until(lambda: waiting_on_a_lock(own_pool, "users"), "the login waits")
            web.process.send_signal(signal.SIGTERM)

            async def refusing() -> bool:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", web.port)
                except OSError:
                    return True
                writer.close()
                return False

            # The listening socket is closed: the process is shutting down.
            await until(refusing, "the web process stops accepting connections")
            assert not login.done()
        # The lock is released: the request that was in flight completes.
        response = await login
        assert response.status == 200, await response.text()
        assert (await response.json())["csrf_token"]
    assert await asyncio.to_thread(web.process.wait, 30) == 0
    lines = web.output().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "logger", "process", "message"} <= set(entries[0])
    assert all(e["process"] == "web" for e in entries)
    access = [e["message"] for e in entries if e["logger"] == "aiohttp.access"]
    assert any("q=138****5678" in m for m in access), access
    assert "13812345678" not in web.output()


async def test_a_worker_finishes_its_job_after_sigterm(
    processes: Deployment, own_pool: asyncpg.Pool, own_settings: Settings
) -> None:
    async with own_pool.acquire() as conn:
        _, actor = await make_user(conn, "agent")
        order = await register_order(conn, actor, own_settings, dt.datetime.now(dt.UTC))
    assert own_settings.redis_url
    redis = Redis.from_url(own_settings.redis_url)
    queue = Queue(own_settings.queue_name, connection=redis)
    worker = processes.start("worker", "worker")
    relay = Relay(own_pool, queue, sources=relay_sources())
    async with own_pool.acquire() as blocker, blocker.transaction():
        await blocker.execute("SELECT 1 FROM work_orders WHERE id = $1 FOR UPDATE", order["id"])
        assert (await relay.run_once())["outbox"] >= 1
        await until(lambda: waiting_on_a_lock(own_pool, "work_orders"), "the job waits")

        def the_worker() -> BaseWorker:
            (found,) = [w for w in Worker.all(queue=queue) if w.pid == worker.process.pid]
            return found

        assert the_worker().get_current_job_id() is not None
        worker.process.send_signal(signal.SIGTERM)

        async def stopping() -> bool:
            return the_worker().shutdown_requested_date is not None

        await until(stopping, "the worker takes the signal")
    # The lock is released: the job runs to its end, then the worker exits.
    assert await asyncio.to_thread(worker.process.wait, 30) == 0, worker.output()
    async with own_pool.acquire() as conn:
        states = await conn.fetch(
            "SELECT state FROM outbox "
            "WHERE topic = 'order.registered' AND payload->>'order_id' = $1",
            str(order["id"]),
        )
        status = await conn.fetchval("SELECT status FROM work_orders WHERE id = $1", order["id"])
    assert [r["state"] for r in states] == ["done"]
    assert status != "registered"  # routed (to coordination: no rule matches)
