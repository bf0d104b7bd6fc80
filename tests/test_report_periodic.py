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
from hotline.migrate import ALONE_MARKER, MigrationError, migrate
from hotline.settings import Settings
from hotline.workcal import WorkingCalendar
from reports.days import queries as days
from reports.days.service import do_roll_up
from reports.periodic import queries
from reports.periodic.document import build_document
from reports.periodic.periods import Period, month_of, period_of, week_of
from reports.periodic.schedule import carry_out
from reports.periodic.service import due_periods
from testkit.orders import insert_order
from tests.factories import Clock, log_in, make_user, unique
from wiring.cli import main
from wiring.jobs import job_context

CHINA = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
_taken: set[dt.date] = set()


def quiet_week() -> dt.date:
    """The Monday of a week long ago no other test writes facts in (the database is
    shared), nor the week before it or the one a year before: a report compares them."""
    while True:
        monday = week_of(dt.date(2010, 1, 1) + dt.timedelta(days=random.randrange(3000))).first
        weeks = {
            monday,
            monday - dt.timedelta(days=7),
            week_of(monday.replace(year=monday.year - 1)).first,
        }
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


async def agent_on(conn: asyncpg.Connection) -> int:
    """A new agent of 12319; its user id."""
    _, actor = await make_user(conn, "agent", hotline_code="12319")
    assert actor.user_id is not None
    return actor.user_id


async def test_a_day_counts_its_calls_order_moves_and_after_call_time(pool: asyncpg.Pool) -> None:
    day = quiet_week()
    async with pool.acquire() as conn:
        agent, other = await agent_on(conn), await agent_on(conn)
        a, b = str(agent), str(other)
        await call(conn, at(day, 9), answered_after=10, talk=120, agent=agent)
        await call(conn, at(day, 10), answered_after=15, talk=60, agent=agent)
        await call(conn, at(day, 11), answered_after=40, talk=300, agent=other)
        await call(conn, at(day, 12), left=True)  # abandoned
        await call(conn, at(day, 23, 59, 59), left=True)
        await call(conn, at(day, 0) - dt.timedelta(seconds=1), answered_after=1, agent=agent)
        await call(conn, at(day, 13), hotline="96111", left=True)

        unit = await conn.fetchval("SELECT id FROM enterprises ORDER BY id LIMIT 1")
        order = (await order_on(conn, at(day - dt.timedelta(days=30), 9), lead_enterprise_id=unit))[
            "id"
        ]
        for to, hour in [
            ("dispatched", 9),
            ("dispatched", 10),
            ("returned", 11),
            ("escalated", 12),
            ("reopened", 13),
            ("in_progress", 14),
        ]:
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
                await set_agent_status(conn, agent, status, when)
        for when in [at(day, 10), at(day, 10, 5)]:
            async with conn.transaction():
                await set_agent_status(conn, other, "after_call", when)
        async with conn.transaction():
            await set_agent_status(conn, other, "offline", at(day, 10, 20))
        changes = await conn.fetchval(
            "SELECT count(*) FROM agent_status_changes WHERE user_id = $1", other
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


async def test_the_report_compares_periods_and_names_items_areas_and_agents(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    monday = quiet_week()
    week = week_of(monday)
    before = monday - dt.timedelta(days=7)
    year_ago = week.last_year().first
    async with pool.acquire() as conn:
        agent = await agent_on(conn)
        name = await conn.fetchval("SELECT display_name FROM users WHERE id = $1", agent)
        street = await conn.fetchrow(
            "SELECT code, parent_code FROM areas WHERE level = 'street' LIMIT 1"
        )
        item = await conn.fetchrow(
            "SELECT name_zh, name_en FROM service_items WHERE code = 'G-CONSULT'"
        )
        district = await conn.fetchrow(
            "SELECT name_zh, name_en FROM areas WHERE code = $1", street["parent_code"]
        )
        mine = {"registered_by": agent, "area_code": street["code"]}
        await order_on(conn, at(monday, 9), status="resolved_on_call", **mine)
        await order_on(conn, at(monday + dt.timedelta(days=2), 9), **mine)
        late = await order_on(
            conn,
            at(monday + dt.timedelta(days=1), 9),
            status="completed",
            resolution_due_at=at(monday + dt.timedelta(days=2), 9),
            completed_at=at(monday + dt.timedelta(days=4), 9),
        )
        overdue = await order_on(
            conn, at(monday, 10), resolution_due_at=at(monday + dt.timedelta(days=3), 9)
        )
        await order_on(conn, at(before, 9))
        await order_on(conn, at(year_ago, 9))
        await order_on(conn, at(year_ago + dt.timedelta(days=6), 9))
        await call(conn, at(monday, 9), answered_after=5, talk=100, agent=agent)
        await call(conn, at(monday, 11), answered_after=20, talk=200, agent=agent)
        await call(conn, at(monday, 12), left=True)
        async with conn.transaction():
            await set_agent_status(conn, agent, "after_call", at(monday, 9, 2))
        async with conn.transaction():
            await set_agent_status(conn, agent, "available", at(monday, 9, 3))
    for first in (monday, before, year_ago):
        await do_roll_up(pool, first, first + dt.timedelta(days=7), NOW)

    async with pool.acquire() as conn:
        document = await build_document(conn, week, "12319", settings, NOW)

    summary = {row["measure"]: row for row in document["summary"]}
    assert summary["registered"] == {
        "measure": "registered",
        "value": 4,
        "previous": 1,
        "last_year": 2,
        "change_previous": 3,
        "change_last_year": 2,
    }
    assert summary["resolved_on_call_share"]["value"] == 0.25
    assert summary["calls_offered"]["value"] == 3
    assert summary["calls_abandoned"]["value"] == 1
    assert summary["answer_rate"]["value"] == round(2 / 3, 4)
    assert summary["answer_rate"]["previous"] is None  # no call the week before
    assert summary["answer_rate"]["change_previous"] is None
    assert {"response_rate", "satisfaction_rate", "score"} <= set(summary)
    assert [d["registered"] for d in document["daily"]] == [2, 1, 1, 0, 0, 0, 0]

    items = {r["key"]: r for r in document["orders_by"]["item"]}
    assert items["G-CONSULT"]["registered"] == 4
    assert (items["G-CONSULT"]["name_zh"], items["G-CONSULT"]["name_en"]) == tuple(item)
    areas = {r["key"]: r for r in document["orders_by"]["district"]}
    assert areas[street["parent_code"]]["registered"] == 2
    assert (
        areas[street["parent_code"]]["name_zh"],
        areas[street["parent_code"]]["name_en"],
    ) == tuple(district)
    assert document["agents"] == [
        {
            "key": str(agent),
            "name_zh": name,
            "name_en": name,
            "calls_handled": 2,
            "calls_answered_15s": 1,
            "registered": 2,
            "resolved_on_call": 1,
            "avg_handling_seconds": 150,
            "avg_after_call_seconds": 30,
        }
    ]
    assert document["completed_late"]["count"] == 1
    assert document["completed_late"]["rows"][0]["number"] == late["number"]
    assert overdue["id"] in {r["order_id"] for r in document["overdue"]["rows"]}
    assert document["data_as_of"] == NOW.isoformat()
    assert document["days_not_rolled"] == 0
    assert document["scope"]["code"] == "12319"
    assert document["previous_period"]["first_day"] == before.isoformat()


def test_periods_and_the_ones_they_are_compared_with() -> None:
    march = month_of(dt.date(2024, 3, 15))
    assert (march.first, march.last) == (dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    assert month_of(dt.date(2024, 3, 1)).previous() == month_of(dt.date(2024, 2, 10))
    assert march.previous().last == dt.date(2024, 2, 29)
    assert march.last_year() == month_of(dt.date(2023, 3, 1))
    leap = Period("daily", dt.date(2024, 2, 29), dt.date(2024, 2, 29))
    assert leap.last_year().first == dt.date(2023, 2, 28)
    custom = period_of("custom", None, dt.date(2024, 1, 1), dt.date(2024, 1, 10))
    assert custom.previous() == Period("custom", dt.date(2023, 12, 22), dt.date(2023, 12, 31))
    assert week_of(dt.date(2026, 12, 6)).first == dt.date(2026, 11, 30)  # a Sunday's week


def test_the_month_is_owed_from_its_first_working_day() -> None:
    # November 2026 begins on a Sunday; the calendar makes Monday the 2nd a holiday.
    calendar = WorkingCalendar(
        periods=[(dt.time(9), dt.time(17))], overrides={dt.date(2026, 11, 2): False}
    )
    kinds = {d: {p.kind for p in due_periods(dt.date(2026, 11, d), calendar)} for d in (1, 2, 3, 4)}
    assert kinds[1] == kinds[2] == {"daily", "weekly"}
    assert kinds[3] == kinds[4] == {"daily", "weekly", "monthly"}
    assert month_of(dt.date(2026, 10, 1)) in due_periods(dt.date(2026, 11, 3), calendar)


async def test_the_morning_run_makes_the_months_reports_once(
    pool: asyncpg.Pool, settings: Settings, clock: Clock
) -> None:
    # Monday 1 March 2004, a working day, 06:00 in China.
    clock.set(dt.datetime(2004, 2, 29, 22, 0, tzinfo=dt.UTC))
    ctx = job_context(settings, clock=clock)
    february = month_of(dt.date(2004, 2, 1))
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM report_days WHERE day = '2004-02-29'")
        scopes = ["", *await queries.hotline_codes(conn)]
        for attempt in range(2):  # a second morning run makes nothing more
            await queries.insert_run(conn, "morning", clock(), clock())
            run_id = await conn.fetchval(
                "UPDATE report_runs SET state = 'enqueued', due_at = $1 "
                "WHERE kind = 'morning' AND state IN ('pending', 'enqueued') RETURNING id",
                clock(),
            )
            said = await carry_out(conn, run_id, ctx)
            assert said.startswith("rolled 8 day(s)"), said
            assert said.endswith(f"made {3 * len(scopes) if attempt == 0 else 0} report(s)"), said
            assert (
                await conn.fetchval("SELECT state FROM report_runs WHERE id = $1", run_id) == "done"
            )
            assert await carry_out(conn, run_id, ctx) == "done already"
        monthly = await conn.fetch(
            "SELECT scope, version, generated_by, document FROM periodic_reports "
            "WHERE period_kind = 'monthly' AND first_day = $1 AND last_day = $2",
            february.first,
            february.last,
        )
        rolled = await conn.fetchval("SELECT rolled_at FROM report_days WHERE day = '2004-02-29'")
        waiting = await conn.fetchval(
            "SELECT due_at FROM report_runs WHERE kind = 'morning' AND state = 'pending'"
        )
    assert sorted(r["scope"] for r in monthly) == sorted(scopes)
    assert {(r["version"], r["generated_by"]) for r in monthly} == {(1, None)}
    assert monthly[0]["document"]["period"]["last_day"] == "2004-02-29"
    assert rolled == clock()
    assert waiting == dt.datetime(2004, 3, 1, 22, 0, tzinfo=dt.UTC)  # the next morning


async def test_supervisors_list_open_compute_and_regenerate_reports(
    pool: asyncpg.Pool, client: aiohttp.ClientSession, server: Any
) -> None:
    async with pool.acquire() as conn:
        supervisor, _ = await make_user(conn, "supervisor")
        agent, _ = await make_user(conn, "agent", hotline_code="12319")
        scoped, scoped_actor = await make_user(conn, "supervisor", hotline_code="12319")
    csrf = await log_in(client, supervisor)
    day = quiet_week().isoformat()

    async def get(path: str, **query: str) -> tuple[int, Any]:
        async with client.get(path, params=query) as response:
            return response.status, await response.json()

    status, body = await get("/api/v1/reports/periodic/compute", kind="weekly", day=day)
    assert status == 200, body
    assert body["document"]["period"]["first_day"] == day
    assert body["document"]["scope"] == {"code": "", "name_zh": "全中心", "name_en": "Whole centre"}

    made = []
    for _ in range(2):  # a regeneration is the next version
        async with client.post(
            "/api/v1/reports/periodic",
            json={"kind": "weekly", "day": day, "scope": "12319"},
            headers={"X-CSRF-Token": csrf},
        ) as response:
            assert response.status == 201, await response.text()
            made.append(await response.json())
    assert [m["version"] for m in made] == [1, 2]
    assert made[1]["generated_by_name"]
    status, listed = await get("/api/v1/reports/periodic", kind="weekly", scope="12319")
    assert status == 200
    ours = [r for r in listed["items"] if r["first_day"] == day]
    assert [r["id"] for r in ours] == [made[1]["id"]]
    assert "document" not in ours[0]
    status, opened = await get(f"/api/v1/reports/periodic/{made[0]['id']}")
    assert status == 200 and opened["document"]["scope"]["code"] == "12319"
    status, _ = await get("/api/v1/reports/periodic/999999999")
    assert status == 404

    for query, code, field in [
        ({"kind": "custom", "start": day}, "bad_period", "end"),
        ({"kind": "custom", "start": "2024-01-01", "end": "2025-06-01"}, "period_too_long", "end"),
        ({"kind": "custom", "start": "2024-01-02", "end": "2024-01-01"}, "bad_period", "end"),
        ({"kind": "daily", "start": day, "end": day}, "bad_period", "day"),
        ({"kind": "monthly"}, "bad_period", "day"),
    ]:
        status, body = await get("/api/v1/reports/periodic/compute", **query)
        assert (status, body["error"]["code"]) == (400, code), (query, body)
        assert field in body["error"]["fields"], body
    status, body = await get(
        "/api/v1/reports/periodic/compute", kind="daily", day=day, scope="99999"
    )
    assert (status, body["error"]["code"]) == (422, "unknown_hotline")
    status, body = await get("/api/v1/reports/periodic/compute", kind="yearly", day=day)
    assert status == 422 and "kind" in body["error"]["fields"]

    async with aiohttp.ClientSession(
        base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as other:
        await log_in(other, agent)
        async with other.get("/api/v1/reports/periodic") as response:
            assert response.status == 403
    async with aiohttp.ClientSession(
        base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as other:
        await log_in(other, scoped)
        assert scoped_actor.hotline_code == "12319"
        async with other.get(
            "/api/v1/reports/periodic/compute", params={"kind": "daily", "day": day}
        ) as response:
            assert response.status == 403  # the centre's is for who sees every hotline
            assert (await response.json())["error"]["code"] == "scope_forbidden"
        async with other.get(f"/api/v1/reports/periodic/{made[0]['id']}") as response:
            assert response.status == 200


async def test_an_index_left_invalid_by_a_failed_build_is_built_again(
    fresh_database: Any, tmp_path: Path
) -> None:
    url = await fresh_database("alone")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE things (n integer)")
        await conn.execute("INSERT INTO things SELECT generate_series(1, 100)")
        # As a concurrent build that died half way leaves it: there, marked invalid.
        await conn.execute("CREATE INDEX things_n_idx ON things (n)")
        await conn.execute(
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'things_n_idx'::regclass"
        )
        (tmp_path / "0001_things.sql").write_text(
            "CREATE TABLE others (n integer);\n"
            f"{ALONE_MARKER}\n"
            "-- the numbers, without a writer waiting\n"
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS things_n_idx ON things (n);\n",
            encoding="utf-8",
        )
        assert [m.version for m in await migrate(url, tmp_path)] == [1]
        assert await migrate(url, tmp_path) == []
        valid = await conn.fetchval(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'things_n_idx'::regclass"
        )
        assert valid is True
        assert await conn.fetchval("SELECT to_regclass('others') IS NOT NULL")
        (tmp_path / "0002_more.sql").write_text(
            f"{ALONE_MARKER}\nDROP TABLE others;\n", encoding="utf-8"
        )
        with pytest.raises(MigrationError, match="CONCURRENTLY"):
            await migrate(url, tmp_path)
    finally:
        await conn.close()


def test_hotline_reports_roll_rolls_each_day_and_says_so(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    first = quiet_week()
    last = first + dt.timedelta(days=2)
    assert main(["reports", "roll", "--from", first.isoformat(), "--to", last.isoformat()]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{first}: rolled (1/3)",
        f"{first + dt.timedelta(days=1)}: rolled (2/3)",
        f"{last}: rolled (3/3)",
        "3 day(s) rolled",
    ]
    assert main(["reports", "roll", "--from", last.isoformat(), "--to", first.isoformat()]) == 2
