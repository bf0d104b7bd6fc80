"""The relay moves due outbox rows and deadlines into RQ; jobs carry each out once.

These tests are synchronous: RQ's worker runs in the main thread and each job opens
its own event loop and connection, as in a real worker process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue, SimpleWorker

from hotline import db, leased
from hotline.context import JobContext
from hotline.deadlines import queries as deadline_queries
from hotline.deadlines.handlers import kinds
from hotline.deadlines.jobs import run_deadline
from hotline.orders import queries as order_queries
from hotline.orders.service import record_event
from hotline.outbox import queries as outbox_queries
from hotline.outbox.handlers import topics
from hotline.outbox.jobs import run_outbox_row
from hotline.relay import Relay, Source
from hotline.settings import Settings
from tests.factories import order_in_status

T = TypeVar("T")
SECOND = dt.timedelta(seconds=1)


def run(settings: Settings, work: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    async def main() -> T:
        assert settings.database_url
        pool = await db.create_pool(settings.database_url, min_size=2, max_size=4)
        try:
            return await work(pool)
        finally:
            await pool.close()

    return asyncio.run(main())


def fresh_queue(redis_conn: Redis) -> Queue:
    return Queue(f"relay-test-{uuid.uuid4().hex[:8]}", connection=redis_conn)


async def add_rows(pool: asyncpg.Pool, topic: str, count: int) -> list[int]:
    async with pool.acquire() as conn:
        ids = [
            await outbox_queries.insert(conn, topic=topic, key=f"{topic}:{i}", payload={"i": i})
            for i in range(count)
        ]
    return [i for i in ids if i is not None]


def job_rows(queue: Queue, prefix: str) -> list[int]:
    return [
        int(job_id.split("-")[1])
        for job_id in queue.get_job_ids()
        if job_id.startswith(prefix + "-")
    ]


def test_two_relays_enqueue_each_outbox_row_exactly_once(
    settings: Settings, redis_conn: Redis
) -> None:
    queue = fresh_queue(redis_conn)
    topic = f"test.once.{uuid.uuid4().hex[:6]}"

    async def scenario(pool: asyncpg.Pool) -> list[int]:
        ids = await add_rows(pool, topic, 300)
        relays = [Relay(pool, queue, batch=25) for _ in range(2)]
        while True:
            passes = await asyncio.gather(relays[0].run_once(), relays[1].run_once())
            if not any(counts["outbox"] for counts in passes):
                return ids

    ids = run(settings, scenario)
    enqueued = [row for row in job_rows(queue, "outbox") if row in set(ids)]
    assert sorted(enqueued) == sorted(ids)  # every row, none twice


def test_a_job_run_twice_acts_once(settings: Settings, redis_conn: Redis) -> None:
    queue = fresh_queue(redis_conn)
    topic = f"test.effect.{uuid.uuid4().hex[:6]}"

    async def note_on_order(
        conn: asyncpg.Connection, payload: dict[str, Any], ctx: JobContext
    ) -> None:
        await record_event(conn, payload["order_id"], "test.effect", None, ctx.clock())

    topics.subscribe(topic, note_on_order)

    async def scenario(pool: asyncpg.Pool) -> tuple[int, int]:
        async with pool.acquire() as conn:
            order = await order_in_status(conn, "registered", dt.datetime.now(dt.UTC))
            row_id = await outbox_queries.insert(
                conn, topic=topic, key=f"{topic}:1", payload={"order_id": order["id"]}
            )
        # A lease of zero: the second pass takes the row again, as after a lost relay.
        relay = Relay(pool, queue, lease_seconds=0)
        await relay.run_once()
        await relay.run_once()
        assert row_id is not None
        return order["id"], row_id

    order_id, row_id = run(settings, scenario)
    assert len([r for r in job_rows(queue, "outbox") if r == row_id]) == 2
    SimpleWorker([queue], connection=redis_conn).work(burst=True)
    assert run_outbox_row(row_id) == "skipped"

    async def check(pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn:
            events = await order_queries.list_events(conn, order_id)
            row = await conn.fetchrow("SELECT state FROM outbox WHERE id = $1", row_id)
        assert [e["type"] for e in events] == ["test.effect"]
        assert row["state"] == "done"

    run(settings, check)


def test_a_failing_handler_is_retried_later_with_its_error(
    settings: Settings, redis_conn: Redis
) -> None:
    queue = fresh_queue(redis_conn)
    topic = f"test.fail.{uuid.uuid4().hex[:6]}"

    async def broken(conn: asyncpg.Connection, payload: dict[str, Any], ctx: JobContext) -> None:
        raise RuntimeError("enterprise system said 503")

    topics.subscribe(topic, broken)

    async def scenario(pool: asyncpg.Pool) -> int:
        (row_id,) = await add_rows(pool, topic, 1)
        await Relay(pool, queue).run_once()
        return row_id

    row_id = run(settings, scenario)
    SimpleWorker([queue], connection=redis_conn).work(burst=True)

    async def check(pool: asyncpg.Pool) -> None:
        row = await pool.fetchrow(
            "SELECT *, due_at > now() AS later FROM outbox WHERE id = $1", row_id
        )
        assert row["state"] == "pending" and row["later"]
        assert row["attempts"] == 1
        assert "enterprise system said 503" in row["last_error"]

    run(settings, check)


def test_rows_go_back_when_redis_is_unreachable(settings: Settings) -> None:
    queue = Queue(
        "unreachable", connection=Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    )
    topic = f"test.down.{uuid.uuid4().hex[:6]}"

    async def scenario(pool: asyncpg.Pool) -> None:
        ids = await add_rows(pool, topic, 3)
        with pytest.raises(RedisConnectionError):
            await Relay(pool, queue).run_once()
        states = await pool.fetch("SELECT state FROM outbox WHERE id = ANY($1::bigint[])", ids)
        assert {r["state"] for r in states} == {"pending"}

    run(settings, scenario)


def test_a_due_deadline_fires_once_with_an_event(settings: Settings, redis_conn: Redis) -> None:
    queue = fresh_queue(redis_conn)
    now = dt.datetime.now(dt.UTC)
    kind = f"test_sign_for_{uuid.uuid4().hex[:6]}"

    async def remind(conn: asyncpg.Connection, deadline: asyncpg.Record, at: dt.datetime) -> None:
        await record_event(conn, deadline["order_id"], "test.reminder", None, at)

    kinds.subscribe(kind, remind)

    async def scenario(pool: asyncpg.Pool) -> tuple[int, int, int]:
        async with pool.acquire() as conn:
            order = await order_in_status(conn, "dispatched", now)
            due = await deadline_queries.insert(
                conn,
                order_id=order["id"],
                kind=kind,
                due_at=now - dt.timedelta(seconds=1),
                now=now,
            )
            later = await deadline_queries.insert(
                conn,
                order_id=order["id"],
                kind="resolution",
                due_at=now + dt.timedelta(hours=1),
                now=now,
            )
        await Relay(pool, queue, clock=lambda: now).run_once()
        return order["id"], due, later

    order_id, due, later = run(settings, scenario)
    assert due in job_rows(queue, "deadline")
    assert later not in job_rows(queue, "deadline")
    SimpleWorker([queue], connection=redis_conn).work(burst=True)

    async def check(pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn:
            events = await order_queries.list_events(conn, order_id)
            states = {
                r["id"]: r["state"] for r in await order_queries.list_deadlines(conn, order_id)
            }
        assert [(e["type"], e["data"].get("kind")) for e in events] == [
            ("deadline.reached", kind),
            ("test.reminder", None),
        ]
        assert states == {due: "fired", later: "pending"}

    run(settings, check)
    assert run_deadline(due) == "skipped"  # a second delivery changes nothing
    run(settings, check)


def test_timers_go_to_their_own_queue(settings: Settings, redis_conn: Redis) -> None:
    work, timers = fresh_queue(redis_conn), fresh_queue(redis_conn)
    now = dt.datetime.now(dt.UTC)
    topic = f"test.lanes.{uuid.uuid4().hex[:6]}"

    async def scenario(pool: asyncpg.Pool) -> tuple[int, int]:
        (row_id,) = await add_rows(pool, topic, 1)
        async with pool.acquire() as conn:
            order = await order_in_status(conn, "dispatched", now)
            deadline = await deadline_queries.insert(
                conn, order_id=order["id"], kind="lane_test", due_at=now - SECOND, now=now
            )
        await Relay(pool, work, clock=lambda: now, timer_queue=timers).run_once()
        return row_id, deadline

    row_id, deadline = run(settings, scenario)
    assert deadline in job_rows(timers, "deadline") and row_id not in job_rows(timers, "outbox")
    assert row_id in job_rows(work, "outbox") and deadline not in job_rows(work, "deadline")


def test_slow_jobs_go_to_the_slow_queue(settings: Settings, redis_conn: Redis) -> None:
    work, slow = fresh_queue(redis_conn), fresh_queue(redis_conn)
    topic = f"test.slow.{uuid.uuid4().hex[:6]}"
    # The outbox drained as a slow source stands for a classifier's training runs.
    lane = Source(
        "outbox", leased.Lease("outbox", claimed_state="enqueued"), run_outbox_row, slow=True
    )

    async def scenario(pool: asyncpg.Pool) -> int:
        (row_id,) = await add_rows(pool, topic, 1)
        await Relay(pool, work, sources=(lane,), slow_queue=slow).run_once()
        return row_id

    row_id = run(settings, scenario)
    assert row_id in job_rows(slow, "outbox") and row_id not in job_rows(work, "outbox")
