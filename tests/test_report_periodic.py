"""Periodic reports (docs/reports.md, "Periodic reports"): the day counts of calls, order
moves and after-call time; the report's document with its comparisons, per agent and
names; the schedule making the month's report on the month's first working day once;
the API's roles and bad periods; the migration runner's concurrent index builds."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import pytest

from hotline.board.queries import set_agent_status
from hotline.context import JobContext
from hotline.migrate import migrate
from hotline.settings import Settings
from hotline.workcal import WorkingCalendar
from reports.days import queries as days
from reports.days.service import do_roll_up
from reports.periodic import queries
from reports.periodic.document import build_document
from reports.periodic.periods import Period, month_of, period_of, week_of
from reports.periodic.schedule import carry_out
from reports.periodic.service import due_periods, make_due_reports
from tests.factories import Clock, log_in, make_user, unique
from testkit.orders import insert_order
from wiring.jobs import job_context

CHINA = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
_taken: set[dt.date] = set()


def quiet_week() -> dt.date:
    """The Monday of a week long ago no other test writes facts in (the database is
    shared), nor the week before it: a report compares the two."""
    while True:
        monday = week_of(dt.date(2010, 1, 1) + dt.timedelta(days=random.randrange(3000))).first
        weeks = {monday, monday - dt.timedelta(days=7)}
        if not weeks & _taken:
            _taken.update(weeks)
            return monday


def at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, second), CHINA)


_sids = itertools.count(1)


async def call(
    conn: asyncpg.Connection,
    queued: dt.datetime,
    *,
    answered_after: int | None = None,
    talk: int = 0,
    agent: int | None = None,
    left: bool = False,
    hotline: str = "12319",
) -> None:
    answered = queued + dt.timedelta(seconds=answered_after) if answered_after is not None else None
    await conn.execute(
        """
        INSERT INTO calls (call_sid, hotline_code, from_phone, to_number, agent_user_id,
                           queued_at, answered_at, ended_at, left_queue_at, created_at)
        VALUES ($1, $2, '+8613800000000', '12319', $3, $4, $5, $6, $7, $4)
        """,
        unique(f"CA-periodic-{next(_sids)}-"),
        hotline,
        agent,
        queued,
        answered,
        answered + dt.timedelta(seconds=talk) if answered else None,
        queued + dt.timedelta(seconds=30) if left else answered,
    )


async def order_on(conn: asyncpg.Connection, when: dt.datetime, **values: Any) -> asyncpg.Record:
    row = {
        "number": unique("12319-p-"),
        "hotline_code": "12319",
        "channel": "voice",
        "kind": "complaint",
        "service_item_code": "G-CONSULT",
        "description": "测试",
        "status": "dispatched",
        "created_at": when,
        "updated_at": when,
        **values,
    }
    return await insert_order(conn, row)


async def move(conn: asyncpg.Connection, order_id: int, to: str, when: dt.datetime) -> None:
    await conn.execute(
        """
        INSERT INTO order_events (order_id, type, from_status, to_status, created_at)
        VALUES ($1, 'order.test', 'registered', $2, $3)
        """,
        order_id,
        to,
        when,
    )


async def counted(
    pool: asyncpg.Pool, day: dt.date, dimension: str, measure: str, hotline: str = "12319"
) -> dict[str, int]:
    async with pool.acquire() as conn:
        rows = await days.counts(
            conn,
            day,
            day + dt.timedelta(days=1),
            dimension=dimension,
            measure=measure,
            hotline_codes=[hotline],
        )
    return {r["key"]: r["n"] for r in rows}


async def test_a_day_counts_its_calls_order_moves_and_after_call_time(pool: asyncpg.Pool) -> None:
    day = quiet_week()
    async with pool.acquire() as conn:
        _, agent = await make_user(conn, "agent", hotline_code="12319")
        _, other = await make_user(conn, "agent", hotline_code="12319")
        a, b = str(agent.user_id), str(other.user_id)
        await call(conn, at(day, 9), answered_after=10, talk=120, agent=agent.user_id)
        await call(conn, at(day, 10), answered_after=15, talk=60, agent=agent.user_id)
        await call(conn, at(day, 11), answered_after=40, talk=300, agent=other.user_id)
        await call(conn, at(day, 12), left=True)  # abandoned
        await call(conn, at(day, 23, 59, 59), left=True)
        await call(conn, at(day, 0) - dt.timedelta(seconds=1), answered_after=1, agent=agent.user_id)
        await call(conn, at(day, 13), hotline="96111", left=True)

        unit = await conn.fetchval("SELECT id FROM enterprises ORDER BY id LIMIT 1")
        order = (await order_on(conn, at(day - dt.timedelta(days=30), 9), lead_enterprise_id=unit))["id"]
        for to, hour in [("dispatched", 9), ("dispatched", 10), ("returned", 11), ("escalated", 12),
                         ("reopened", 13), ("in_progress", 14)]:
            await move(conn, order, to, at(day, hour))
        await move(conn, order, "returned", at(day, 0) - dt.timedelta(minutes=1))

        # After-call work: 10 minutes in the morning, and from 23:50 into the next day
        # (10 minutes of this day); the other agent's status set twice is one change.
        for status, when in [
            ("after_call", at(day, 9, 2)),
            ("available", at(day, 9, 12)),
            ("after_call", at(day, 23, 50)),
            ("available", at(day, 23, 50) + dt.timedelta(minutes=30)),
        ]:
            async with conn.transaction():
                await set_agent_status(conn, agent.user_id, status, when)
        for when in [at(day, 10), at(day, 10, 5)]:
            async with conn.transaction():
                await set_agent_status(conn, other.user_id, "after_call", when)
        async with conn.transaction():
            await set_agent_status(conn, other.user_id, "offline", at(day, 10, 20))
        changes = await conn.fetchval(
            "SELECT count(*) FROM agent_status_changes WHERE user_id = $1", other.user_id
        )
    assert changes == 2

    for _ in range(2):  # rolled twice, counted once
        await do_roll_up(pool, day, day + dt.timedelta(days=1), NOW)

    assert await counted(pool, day, "total", "offered") == {"": 5}
    assert await counted(pool, day, "total", "answered") == {"": 3}
    assert await counted(pool, day, "total", "abandoned") == {"": 2}
    assert await counted(pool, day, "total", "answered_15s") == {"": 2}
    assert await counted(pool, day, "total", "offered", "96111") == {"": 1}
    assert await counted(pool, day, "agent", "answered") == {a: 2, b: 1}
    assert await counted(pool, day, "agent", "answered_15s") == {a: 2}
    assert await counted(pool, day, "agent", "handling_seconds") == {a: 180, b: 300}
    assert await counted(pool, day, "agent", "after_call_seconds") == {a: 1200, b: 1200}
    assert await counted(pool, day, "total", "dispatched") == {"": 2}
    assert await counted(pool, day, "total", "returned") == {"": 1}
    assert await counted(pool, day, "total", "escalated") == {"": 1}
    assert await counted(pool, day, "total", "reopened") == {"": 1}
    assert await counted(pool, day, "unit", "dispatched") == {str(unit): 2}
    # The next day has the after-call minutes past midnight.
    await do_roll_up(pool, day + dt.timedelta(days=1), day + dt.timedelta(days=2), NOW)
    assert await counted(pool, day + dt.timedelta(days=1), "agent", "after_call_seconds") == {
        a: 1200
    }
