"""The day counts reports read (docs/reports.md, "Day counts"): a day's orders counted
under each dimension, a street toward its district too, drafts left out, and a day
rolled again replacing its counts rather than adding to them."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from zoneinfo import ZoneInfo

import asyncpg

from reports.days import queries
from reports.days.service import do_roll_up
from testkit.orders import insert_order
from tests.factories import unique

CHINA = ZoneInfo("Asia/Shanghai")


def quiet_day() -> dt.date:
    """A day of long ago no other test registers orders on (the database is shared)."""
    return dt.date(2001, 1, 1) + dt.timedelta(days=random.randrange(3000))


async def add(conn: asyncpg.Connection, at: dt.datetime, **values: object) -> None:
    row = {
        "number": unique("12319-d-"),
        "hotline_code": "12319",
        "channel": "voice",
        "kind": "complaint",
        "service_item_code": "G-CONSULT",
        "description": "测试",
        "status": "dispatched",
        "created_at": at,
        "updated_at": at,
        **values,
    }
    await insert_order(conn, row)


async def test_a_day_counts_its_orders_under_each_dimension(pool: asyncpg.Pool) -> None:
    day = quiet_day()
    start = dt.datetime.combine(day, dt.time(0, 0), CHINA)
    async with pool.acquire() as conn:
        street = await conn.fetchrow(
            "SELECT code, parent_code FROM areas WHERE level = 'street' LIMIT 1"
        )
        assert street is not None
        item = await conn.fetchval("SELECT domain FROM service_items WHERE code = 'G-CONSULT'")
        # The first and last minutes of the local day, and one each side of it.
        await add(conn, start, area_code=street["code"])
        await add(conn, start + dt.timedelta(hours=23, minutes=59), status="resolved_on_call")
        await add(conn, start - dt.timedelta(minutes=1))
        await add(conn, start + dt.timedelta(days=1))
        await add(conn, start + dt.timedelta(hours=9), status="draft")
        await add(conn, start + dt.timedelta(hours=10), hotline_code="96111", channel="sms")

    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    for _ in range(2):  # rolled twice, counted once
        assert await do_roll_up(pool, day, day + dt.timedelta(days=1), now) == 1

    async def count(
        dimension: str, measure: str = "registered", hotline_codes: list[str] | None = None
    ) -> dict[str, int]:
        async with pool.acquire() as conn:
            rows = await queries.counts(
                conn,
                day,
                day + dt.timedelta(days=1),
                dimension=dimension,
                measure=measure,
                hotline_codes=hotline_codes,
            )
        return {r["key"]: r["n"] for r in rows}

    assert await count("total") == {"": 3}
    assert await count("total", hotline_codes=["12319"]) == {"": 2}
    assert await count("channel") == {"voice": 2, "sms": 1}
    assert await count("total", "resolved_on_call") == {"": 1}
    assert await count("street") == {street["code"]: 1}
    assert await count("district") == {street["parent_code"]: 1}
    assert await count("area_item") == {f"{street['parent_code']}|G-CONSULT": 1}
    assert await count("domain") == ({item: 3} if item else {})
    async with pool.acquire() as conn:
        rolled = await conn.fetchval("SELECT rolled_at FROM report_days WHERE day = $1", day)
    assert rolled == now


async def month_differences(conn: asyncpg.Connection, month: dt.date) -> list[asyncpg.Record]:
    """The month rows of ``month`` that are not the sums of its day rows, and the sums
    that have no month row: none when the month rows hold."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        WITH days AS (
            SELECT hotline_code, dimension, key, measure, sum(n) AS n
              FROM report_day_counts
             WHERE day >= $1 AND day < ($1::date + interval '1 month')
             GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0
        ), months AS (
            SELECT hotline_code, dimension, key, measure, n
              FROM report_month_counts WHERE month = $1
        ), repeat_days AS (
            SELECT r.kind, h.code, r.key_hash, sum(r.n) AS n
              FROM report_day_repeats r
             CROSS JOIN LATERAL (VALUES (r.hotline_code), ('')) AS h (code)
             WHERE r.day >= $1 AND r.day < ($1::date + interval '1 month')
             GROUP BY 1, 2, 3
        ), repeat_months AS (
            SELECT kind, hotline_code, key_hash, n
              FROM report_month_repeats WHERE month = $1 AND n <> 0
        )
        (SELECT 'count' AS rows, * FROM days EXCEPT SELECT 'count', * FROM months)
        UNION ALL
        (SELECT 'count', * FROM months EXCEPT SELECT 'count', * FROM days)
        UNION ALL
        (SELECT 'repeat', kind, code, key_hash::text, '', n FROM repeat_days
         EXCEPT SELECT 'repeat', kind, hotline_code, key_hash::text, '', n FROM repeat_months)
        UNION ALL
        (SELECT 'repeat', kind, hotline_code, key_hash::text, '', n FROM repeat_months
         EXCEPT SELECT 'repeat', kind, code, key_hash::text, '', n FROM repeat_days)
        """,
        month,
    )
    return rows


async def test_month_rows_are_the_sums_of_their_days_however_days_are_rolled(
    pool: asyncpg.Pool,
) -> None:
    # A month of long ago no other test rolls (quiet_day's are later).
    month = dt.date(1980 + random.randrange(20), random.randrange(12) + 1, 1)
    following = (month + dt.timedelta(days=32)).replace(day=1)
    days = [month + dt.timedelta(days=i) for i in range((following - month).days)]
    address = unique("月份路") + "3号"
    async with pool.acquire() as conn:
        for i, day in enumerate(days):
            at = dt.datetime.combine(day, dt.time(10), CHINA)
            await add(conn, at, address=address, caller_phone="+8613700000000")
            if i % 3 == 0:
                await add(conn, at, hotline_code="96111", channel="sms", address=address)
        moved = await conn.fetchval(
            "SELECT id FROM work_orders WHERE address = $1 ORDER BY created_at LIMIT 1", address
        )
        # The day after the month: its rows are another month's.
        await add(conn, dt.datetime.combine(following, dt.time(10), CHINA), address=address)
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    # Two rolls of the month's days at once, and the first half again meanwhile: each
    # takes out of the month's rows what it put in, whatever the other did.
    half = days[len(days) // 2]
    await asyncio.gather(
        do_roll_up(pool, month, following + dt.timedelta(days=1), now),
        do_roll_up(pool, month, half, now),
        do_roll_up(pool, half, following, now),
    )
    async with pool.acquire() as conn:
        assert await month_differences(conn, month) == []
        n = await conn.fetchval(
            """
            SELECT n FROM report_month_counts
             WHERE month = $1 AND hotline_code = '12319' AND dimension = 'item'
               AND key = 'G-CONSULT' AND measure = 'registered'
            """,
            month,
        )
        assert n >= len(days)
        # An order moved to another item and address: its day's keys change, the
        # month's follow; a key left with no order leaves no count behind.
        await conn.execute(
            "UPDATE work_orders SET service_item_code = 'W01', address = $2 WHERE id = $1",
            moved,
            unique("新路") + "1号",
        )
    await do_roll_up(pool, month, month + dt.timedelta(days=1), now)
    async with pool.acquire() as conn:
        assert await month_differences(conn, month) == []
        # A period's counts are the same read from its days or its whole months.
        for start, end in [
            (month, following),
            (month + dt.timedelta(days=3), following + dt.timedelta(days=1)),
            (month - dt.timedelta(days=2), following),
            (month + dt.timedelta(days=3), month + dt.timedelta(days=9)),
        ]:
            read = await conn.fetch(
                """
                SELECT hotline_code, dimension, key, measure, sum(n) AS n
                  FROM report_counts($1, $2) GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0
                EXCEPT
                SELECT hotline_code, dimension, key, measure, sum(n)
                  FROM report_day_counts WHERE day >= $1 AND day < $2
                 GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0
                """,
                start,
                end,
            )
            assert read == [], (start, end)
            total = await conn.fetchval(
                """
                SELECT sum(n) FROM report_counts($1, $2)
                 WHERE dimension = 'total' AND measure = 'registered'
                """,
                start,
                end,
            )
            expected = await conn.fetchval(
                """
                SELECT sum(n) FROM report_day_counts
                 WHERE day >= $1 AND day < $2 AND dimension = 'total' AND measure = 'registered'
                """,
                start,
                end,
            )
            assert total == expected, (start, end)
