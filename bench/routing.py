"""Routing: how fast a dispatch decision is, and how late the ladder's timers fire.

1. Decision latency: ``do_route_order`` (rank the units by rule, dispatch, write the
   dispatch, deadline, events and outbox row) in one transaction per order, p50/p99,
   against a raw asyncpg round trip (``SELECT 1``) measured in the same run.
2. Timer lateness: 10,000 deadlines pending (due later), while orders keep arriving,
   a few hundred deadlines fall due over the measuring window; the real relay and real
   ``hotline worker`` processes fire them. Lateness = fired_at - due_at.

    python -m bench.routing [--decisions 2000] [--timers 600] [--window 60] [--workers 2]

Uses HOTLINE_DATABASE_URL / HOTLINE_REDIS_URL when set (else embedded servers) and a
database and queue of its own. Targets on a 2-core machine: decision p99 <= 10 ms;
lateness p99 <= 1 s, max <= 2 s, never early.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import time

import asyncpg
from redis import Redis
from rq import Queue

from bench.scratch import run_on_scratch_database
from hotline import db
from hotline.deadlines import queries as deadline_queries
from hotline.migrate import migrate
from hotline.orders.models import NewOrder
from hotline.orders.service import do_register_order
from hotline.reference.calendar import load_calendar
from hotline.relay import Relay
from hotline.settings import Settings
from hotline.users.models import Actor, Role
from hotline.workcal import WorkingCalendar
from routing.dispatch import do_route_order, lock_order
from routing.rules import RuleInput, do_create_rule
from wiring.seed import seed_reference
from wiring.subscriptions import relay_sources

ACTOR = Actor(user_id=None, name="bench", role=Role.SUPERVISOR)


def cuts(values: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(values, n=100)
    return q[49], q[98], max(values)


async def register(pool: asyncpg.Pool, calendar: WorkingCalendar, i: int) -> int:
    new = NewOrder(
        hotline="96111",
        service_item="W01",
        area="370202001",
        description=f"水表不准 {i}",
        address=f"香港中路 {i} 号",
    )
    async with db.transaction(pool) as conn:
        result = await do_register_order(conn, ACTOR, new, calendar, dt.datetime.now(dt.UTC))
    return int(result.order["id"])


async def decision_latency(
    pool: asyncpg.Pool, settings: Settings, calendar: WorkingCalendar, count: int
) -> None:
    ids = [await register(pool, calendar, i) for i in range(count)]
    raw: list[float] = []
    decisions: list[float] = []
    for order_id in ids:
        started = time.perf_counter()
        await pool.fetchval("SELECT 1")
        raw.append(time.perf_counter() - started)
        started = time.perf_counter()
        async with db.transaction(pool) as conn:
            order = await lock_order(conn, order_id)
            await do_route_order(
                conn, order, calendar=calendar, settings=settings, now=dt.datetime.now(dt.UTC)
            )
        decisions.append(time.perf_counter() - started)
    r50, r99, _ = cuts(raw)
    d50, d99, dmax = cuts(decisions)
    print(
        f"decision latency ({count} orders): p50 {d50 * 1000:.2f} ms, p99 {d99 * 1000:.2f} ms, "
        f"max {dmax * 1000:.2f} ms"
    )
    print(f"raw round trip:                  p50 {r50 * 1000:.2f} ms, p99 {r99 * 1000:.2f} ms")
    print(f"decision p99 / raw p99 = {d99 / r99:.1f}   (target: decision p99 <= 10 ms)")


async def timer_lateness(
    pool: asyncpg.Pool,
    settings: Settings,
    calendar: WorkingCalendar,
    *,
    timers: int,
    window: float,
    workers: int,
) -> None:
    holder = await register(pool, calendar, -1)
    now = dt.datetime.now(dt.UTC)
    async with db.transaction(pool) as conn:
        for i in range(10_000):  # the backdrop: pending, due after the window
            await deadline_queries.insert(
                conn,
                order_id=holder,
                kind="bench_backdrop",
                due_at=now + dt.timedelta(hours=2, seconds=i),
                now=now,
            )
        start = now + dt.timedelta(seconds=5)
        measured = [
            await deadline_queries.insert(
                conn,
                order_id=holder,
                kind="bench_timer",
                due_at=start + dt.timedelta(seconds=window * i / timers),
                now=now,
            )
            for i in range(timers)
        ]
    print(
        f"timers: {timers} falling due over {window:.0f} s, 10,000 more pending, "
        f"{workers} worker process(es), relay every {settings.relay_interval} s"
    )
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": settings.database_url or "",
        "HOTLINE_REDIS_URL": settings.redis_url or "",
        "HOTLINE_QUEUE_NAME": settings.queue_name,
        "HOTLINE_LOG_LEVEL": "WARNING",
    }
    procs = [
        await asyncio.create_subprocess_exec(sys.executable, "-m", "wiring.cli", "worker", env=env)
        for _ in range(workers)
    ]
    assert settings.redis_url
    connection = Redis.from_url(settings.redis_url)
    relay = Relay(
        pool,
        Queue(settings.queue_name, connection=connection),
        sources=relay_sources(),
        batch=settings.relay_batch,
        timer_queue=Queue(settings.timer_queue_name, connection=connection),
    )
    stop = asyncio.Event()
    relay_task = asyncio.create_task(relay.run(stop, settings.relay_interval))

    async def arrivals() -> int:
        made = 0
        while not stop.is_set():
            await register(pool, calendar, made)
            made += 1
            await asyncio.sleep(0.1)  # ten orders a second keep arriving
        return made

    arrival_task = asyncio.create_task(arrivals())
    deadline = time.monotonic() + window + 30
    while time.monotonic() < deadline:
        fired = await pool.fetchval(
            "SELECT count(*) FROM deadlines WHERE id = ANY($1::bigint[]) AND state = 'fired'",
            measured,
        )
        print(f"\r  fired {fired}/{timers}", end="", flush=True)
        if fired == timers:
            break
        await asyncio.sleep(1)
    print()
    stop.set()
    await relay_task
    arrived = await arrival_task
    for proc in procs:
        proc.terminate()
    for proc in procs:
        await asyncio.wait_for(proc.wait(), timeout=30)
    rows = await pool.fetch(
        "SELECT extract(epoch FROM fired_at - due_at)::float AS late FROM deadlines "
        "WHERE id = ANY($1::bigint[]) AND state = 'fired'",
        measured,
    )
    late = [r["late"] for r in rows]
    if not late:
        print("no timer fired")
        return
    p50, p99, worst = cuts(late)
    print(f"orders arriving meanwhile: {arrived}")
    print(
        f"lateness: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {worst * 1000:.0f} ms, "
        f"earliest {min(late) * 1000:.0f} ms, fired {len(late)}/{timers}"
    )
    print("targets: p99 <= 1000 ms, max <= 2000 ms, earliest >= 0 (never early)")


async def run(url: str, settings: Settings, args: argparse.Namespace) -> None:
    await migrate(url)
    pool = await db.create_pool(url, min_size=2, max_size=6)
    try:
        async with pool.acquire() as conn:
            await seed_reference(conn)
            calendar = await load_calendar(conn, settings)
            water = await conn.fetchval("SELECT id FROM enterprises WHERE code = 'qd-water'")
            async with conn.transaction():
                await do_create_rule(
                    conn,
                    ACTOR,
                    RuleInput(service_item="W01", area="370202001", candidates=[water]),
                    dt.datetime.now(dt.UTC),
                )
        await decision_latency(pool, settings, calendar, args.decisions)
        await timer_lateness(
            pool, settings, calendar, timers=args.timers, window=args.window, workers=args.workers
        )
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decisions", type=int, default=2000)
    parser.add_argument("--timers", type=int, default=600)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    run_on_scratch_database(lambda settings: run(settings.database_url or "", settings, args))


if __name__ == "__main__":
    main()
