"""Rolling up the day counts: one transaction per day, so a report reads either a day's
old counts or its new ones, never half of each."""

from __future__ import annotations

import datetime as dt

import asyncpg

from reports.days import queries
from reports.hot.service import roll_day as roll_hot_day


async def do_roll_up(pool: asyncpg.Pool, start: dt.date, end: dt.date, now: dt.datetime) -> int:
    """The days [start, end) rolled anew; returns how many."""
    day = start
    while day < end:
        async with pool.acquire() as conn, conn.transaction():
            await queries.roll_day(conn, day, now)
            # The hot issues' repeat keys and words of the day (docs/reports.md).
            await roll_hot_day(conn, day)
        day += dt.timedelta(days=1)
    return (end - start).days
