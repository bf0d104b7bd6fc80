"""The day counts reports read (docs/reports.md, "Day counts"): a day's orders counted
under each dimension, a street toward its district too, drafts left out, and a day
rolled again replacing its counts rather than adding to them."""

from __future__ import annotations

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
