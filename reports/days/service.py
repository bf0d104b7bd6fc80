"""Rolling up the day counts: one transaction per day, so a report reads either a day's
old counts or its new ones, never half of each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import asyncpg

from reports.days import queries
from reports.hot.service import roll_day as roll_hot_day

# Told each day once it is rolled, with how many of the days are done.
Progress = Callable[[dt.date, int], None]


async def do_roll_days(
    conn: asyncpg.Connection,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    progress: Progress | None = None,
) -> int:
    """The days [start, end) rolled anew on ``conn``; returns how many."""
    day = start
    while day < end:
        async with conn.transaction():
            await queries.lock_month(conn, day)
            await queries.roll_day(conn, day, now)
            # The hot issues' repeat keys and words of the day (docs/reports.md).
            await roll_hot_day(conn, day)
        if progress is not None:
            progress(day, (day - start).days + 1)
        day += dt.timedelta(days=1)
    return max((end - start).days, 0)


async def do_roll_up(pool: asyncpg.Pool, start: dt.date, end: dt.date, now: dt.datetime) -> int:
    """The days [start, end) rolled anew; returns how many."""
    async with pool.acquire() as conn:
        return await do_roll_days(conn, start, end, now)
