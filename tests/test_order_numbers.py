"""Order numbers: unique and rising per hotline and local day, taken without a lock that
would make registrations wait for each other, also for the day's first two at once."""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg

from tests.waiting import backend_waits, until


async def next_order_sequence(conn: asyncpg.Connection, hotline: str, day: dt.date) -> int:
    number = await conn.fetchval("SELECT next_order_number($1, $2)", hotline, day)
    assert number.startswith(f"{hotline}-{day:%Y%m%d}-")
    return int(number.rsplit("-", 1)[1])


# Days no other test registers orders on, one per test.
FIRST_AT_ONCE = dt.date(2031, 3, 3)
ROLLED_BACK = dt.date(2031, 3, 4)
MANY = dt.date(2031, 3, 5)


async def test_two_first_orders_of_a_day_get_one_and_two(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as first, pool.acquire() as second:
        tx = first.transaction()
        await tx.start()
        assert await next_order_sequence(first, "96111", FIRST_AT_ONCE) == 1
        # The second waits for the first's transaction (it created the day's sequence)...
        waiting = asyncio.create_task(next_order_sequence(second, "96111", FIRST_AT_ONCE))
        await until(lambda: backend_waits(pool, second.get_server_pid()), "the second waits")
        assert not waiting.done()
        await tx.commit()
        # ...and then takes the next number of the same sequence.
        assert await waiting == 2


async def test_a_first_order_rolled_back_leaves_the_day_to_start_again(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as first, pool.acquire() as second:
        tx = first.transaction()
        await tx.start()
        assert await next_order_sequence(first, "96556", ROLLED_BACK) == 1
        waiting = asyncio.create_task(next_order_sequence(second, "96556", ROLLED_BACK))
        await until(lambda: backend_waits(pool, second.get_server_pid()), "the second waits")
        await tx.rollback()
        assert await waiting == 1


async def test_numbers_are_unique_per_hotline_and_day_under_concurrency(
    pool: asyncpg.Pool,
) -> None:
    async def take(hotline: str) -> tuple[str, int]:
        async with pool.acquire() as conn, conn.transaction():
            return hotline, await next_order_sequence(conn, hotline, MANY)

    taken = await asyncio.gather(*(take(h) for h in ("12319", "96111") * 60))
    for hotline in ("12319", "96111"):
        numbers = sorted(n for h, n in taken if h == hotline)
        assert numbers == list(range(1, 61))


async def test_past_9999_the_number_grows_a_digit(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.fetchval("SELECT next_order_number('12319', '2031-03-06')")
        await conn.execute("SELECT setval('order_numbers_12319_20310306', 9999)")
        assert await conn.fetchval("SELECT next_order_number('12319', '2031-03-06')") == (
            "12319-20310306-10000"
        )
