"""Order registration: the whole use case against raw INSERTs of the same rows.

Registration validates, upserts the citizen, numbers the order, computes two deadlines
on the working calendar and writes order + deadlines + event + outbox row in one
transaction. The baseline writes the same five rows with plain INSERTs in one
transaction, at the same concurrency, in the same run.

    python -m bench.register [--orders 2000] [--concurrency 8]

Uses HOTLINE_DATABASE_URL's server when set (else an embedded one) and a database of
its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

from bench.scratch import run_on_scratch_database
from hotline import db
from hotline.migrate import migrate
from hotline.orders.models import NewOrder
from hotline.orders.service import do_register_order
from hotline.reference.calendar import load_calendar
from hotline.settings import Settings
from hotline.users.models import Actor, Role
from wiring.seed import seed_reference


async def measure(
    label: str, count: int, concurrency: int, one: Callable[[int], Awaitable[None]]
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            started = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    rate = count / elapsed
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"{label:<14} {rate:8.0f} orders/s   p50 {cuts[49] * 1000:6.2f} ms   "
        f"p99 {cuts[98] * 1000:6.2f} ms"
    )
    return rate, latencies


async def run(url: str, settings: Settings, count: int, concurrency: int) -> None:
    await migrate(url)
    pool = await db.create_pool(url, min_size=concurrency, max_size=concurrency)
    try:
        async with pool.acquire() as conn:
            await seed_reference(conn)
            calendar = await load_calendar(conn, settings)
        actor = Actor(user_id=None, name="bench", role=Role.AGENT)

        async def register(i: int) -> None:
            new = NewOrder(
                hotline="96111",
                service_item="W01",
                area="370202",
                description=f"水表走字快 {i}",
                caller_phone=f"1380000{i % 10000:04d}",
            )
            async with db.transaction(pool) as conn:
                await do_register_order(conn, actor, new, calendar, dt.datetime.now(dt.UTC))

        async def raw(i: int) -> None:
            now = dt.datetime.now(dt.UTC)
            async with db.transaction(pool) as conn:
                order_id = await conn.fetchval(
                    "INSERT INTO work_orders (number, hotline_code, channel, kind, "
                    "service_item_code, area_code, description, status, caller_phone) "
                    "VALUES ($1, '96111', 'agent', 'request', 'W01', '370202', $2, "
                    "'registered', '+8613800000000') RETURNING id",
                    f"raw-{uuid.uuid4().hex}",
                    f"水表走字快 {i}",
                )
                for kind in ("first_contact", "resolution"):
                    await conn.execute(
                        "INSERT INTO deadlines (order_id, kind, due_at) VALUES ($1, $2, $3)",
                        order_id,
                        kind,
                        now,
                    )
                await conn.execute(
                    "INSERT INTO order_events (order_id, type) VALUES ($1, 'order.registered')",
                    order_id,
                )
                await conn.execute(
                    "INSERT INTO outbox (topic, key) VALUES ('bench', $1)", f"raw:{order_id}"
                )

        await measure("warm-up", 200, concurrency, register)
        print(f"{count} orders at concurrency {concurrency}:")
        raw_rate, _ = await measure("raw inserts", count, concurrency, raw)
        rate, _ = await measure("registration", count, concurrency, register)
        print(f"registration / raw = {rate / raw_rate:.2f}")
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    run_on_scratch_database(
        lambda settings: run(settings.database_url or "", settings, args.orders, args.concurrency)
    )


if __name__ == "__main__":
    main()
