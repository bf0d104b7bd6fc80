"""Closed local days of the figures, counted once into figure_day_counts (migration
0012), so that a month of figures reads about thirty rows per unit instead of every
dispatch of the month. The relay process runs ``run``; any number of relays may.

A day is rolled once it ended more than ``SETTLED_AFTER`` ago and none of its
dispatches still waits for its sign-for deadline. A later change to one of its
dispatches (a late rating, an approved appeal) makes migration 0012's trigger forget the
day, which is then counted live until a later round rolls it again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from zoneinfo import ZoneInfo

import asyncpg

from callbacks import queries
from hotline.relay import wait_or_stop

log = logging.getLogger(__name__)

# The trigger forgets the days of dispatches changed more than 30 minutes after they were
# made or completed; waiting twice that covers a change whose trigger ran before a round
# began and whose transaction had not committed yet.
SETTLED_AFTER = dt.timedelta(hours=1)
DAYS_PER_ROUND = 31
ROUND_SECONDS = 300.0


def local_midnight(moment: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    day = moment.astimezone(tz).date()
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz)


def next_midnight(midnight: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(midnight.date() + dt.timedelta(days=1), dt.time(0), tzinfo=tz)


async def roll_up(
    pool: asyncpg.Pool, tz: ZoneInfo, now: dt.datetime, *, limit: int = DAYS_PER_ROUND
) -> int:
    """Roll up to ``limit`` settled days not rolled yet, newest first (the board reads
    recent weeks); each day in a transaction of its own. Returns how many were rolled."""
    async with pool.acquire() as conn:
        first = await queries.first_dispatch_at(conn)
        if first is None:
            return 0
        oldest = local_midnight(first, tz)
        newest_end = local_midnight(now - SETTLED_AFTER, tz)
        done = await queries.rolled_days(conn, oldest, newest_end)
    rolled = 0
    day_start = local_midnight(newest_end - dt.timedelta(hours=12), tz)
    while day_start >= oldest and rolled < limit:
        if day_start not in done:
            async with pool.acquire() as conn, conn.transaction():
                if await queries.roll_day(conn, (day_start, next_midnight(day_start, tz)), now):
                    rolled += 1
        day_start = local_midnight(day_start - dt.timedelta(hours=12), tz)
    return rolled


async def run(pool: asyncpg.Pool, tz: ZoneInfo, stop: asyncio.Event) -> None:
    """Roll days every ``ROUND_SECONDS`` (sooner while days are left) until ``stop``."""
    while not stop.is_set():
        wait = ROUND_SECONDS
        try:
            rolled = await roll_up(pool, tz, dt.datetime.now(dt.UTC))
            if rolled:
                log.info("figures: %d days rolled up", rolled)
            if rolled == DAYS_PER_ROUND:
                wait = 1.0  # more days are left: history being rolled for the first time
        except (OSError, asyncpg.PostgresError):
            log.exception("figures roll-up failed; trying again in %.0fs", ROUND_SECONDS)
        await wait_or_stop(stop, wait)
