"""The working calendar's administration (issue 19, item 3): a year's days imported from
a file or entered by hand, checked for completeness, confirmed; each change recorded,
and computed with at once by the running application (its announcement)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestServer

from hotline import workcal
from hotline.calendar_admin.check import DayEntry, check_year, read_csv
from hotline.errors import InvalidInput
from hotline.reference import versions
from hotline.settings import Settings
from hotline.workcal import WorkingCalendar
from tests.factories import Clock
from tests.routing_support import Desk, desk
from tests.waiting import until
from web.keys import CALENDAR
from wiring.seed import seed_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parent.parent
PROJECTED = json.loads((ROOT / "config/demo/calendar.json").read_text("utf-8"))["2027"]
NOTICE = "国务院办公厅关于2027年部分节假日安排的通知 国办发明电〔2026〕7号"


def official_2027() -> dict[str, Any]:
    """A notice unlike the projection: 端午节 Wednesday to Friday (9–11 June), worked
    for on Saturday 5 and Sunday 13 June."""
    days = [d for d in PROJECTED["days"] if d["name"] != "端午节"]
    days += [{"date": f"2027-06-{n:02d}", "workday": False, "name": "端午节"} for n in (9, 10, 11)]
    days += [{"date": f"2027-06-{n:02d}", "workday": True, "name": "端午节调休"} for n in (5, 13)]
    return {"source": NOTICE, "provisional": False, "days": days}


async def call(
    who: Desk, method: str, path: str, body: dict[str, Any] | None = None, status: int = 200
) -> Any:
    response = await who.client.request(
        method, path, json=body, headers={"X-CSRF-Token": who.csrf, "Accept-Language": "en"}
    )
    text = await response.text()
    assert response.status == status, f"{method} {path}: {response.status} {text}"
    return json.loads(text) if text else None


@pytest.fixture
async def admin(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[Desk]:
    opened = await desk(str(server.make_url("/")), pool, "admin")
    yield opened
    await opened.client.close()


@pytest.fixture
async def agent(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[Desk]:
    opened = await desk(str(server.make_url("/")), pool, "agent")
    yield opened
    await opened.client.close()


@pytest.fixture
async def keep_2027(
    pool: asyncpg.Pool, settings: Settings, server: TestServer
) -> AsyncIterator[None]:
    """The tests share one database: 2027 as the seed left it afterwards, and the
    application told so before the next test."""
    async with pool.acquire() as conn:
        days = await conn.fetch("SELECT * FROM calendar_days WHERE extract(year FROM day) = 2027")
        year = await conn.fetchrow("SELECT * FROM calendar_years WHERE year = 2027")
    yield
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM calendar_days WHERE extract(year FROM day) = 2027")
        await conn.executemany(
            "INSERT INTO calendar_days (day, workday, name, source) VALUES ($1, $2, $3, $4)",
            [(d["day"], d["workday"], d["name"], d["source"]) for d in days],
        )
        await conn.execute(
            "UPDATE calendar_years SET state = $2, source = $3, confirmed_by = NULL, "
            "confirmed_at = NULL WHERE year = $1",
            2027,
            year["state"],
            year["source"],
        )
    client = aioredis.Redis.from_url(settings.redis_url or "")
    heard = versions.signal.heard
    await versions.announce(client, "calendar")
    await client.aclose()

    async def arrived() -> bool:
        return versions.signal.heard > heard

    await until(arrived, "the restored calendar's announcement")


def codes(issues: list[dict[str, Any]], severity: str) -> list[tuple[str, str]]:
    return [(i["code"], i["field"]) for i in issues if i["severity"] == severity]


async def test_the_seeded_years_are_listed_with_their_state(admin: Desk) -> None:
    listed = await call(admin, "GET", "/api/v1/admin/calendar")
    years = {y["year"]: y for y in listed["items"]}
    assert years[2026]["state"] == "confirmed" and years[2026]["complete"] is True
    assert years[2027]["state"] == "provisional"
    assert years[2027]["source"].startswith("预测安排")
    assert (years[2027]["holidays"], years[2027]["workdays"]) == (29, 5)
    one = await call(admin, "GET", "/api/v1/admin/calendar/2027")
    assert {"date": "2027-01-31", "workday": True, "name": "春节调休"} in one["days"]
    assert one["complete"] is True and one["issues"] == []


async def test_a_year_without_a_calendar_is_named(
    server: TestServer, pool: asyncpg.Pool, clock: Clock
) -> None:
    """In December 2027 next year matters: 2028 has no day entered and the library
    stops before it."""
    clock.set(dt.datetime(2027, 12, 1, 10, 0, tzinfo=SHANGHAI))
    admin = await desk(str(server.make_url("/")), pool, "admin")
    try:
        listed = await call(admin, "GET", "/api/v1/admin/calendar")
    finally:
        await admin.client.close()
    assert listed["missing_years"] == [2028]


async def test_only_administrators_reach_the_calendar(agent: Desk) -> None:
    await call(agent, "GET", "/api/v1/admin/calendar", status=403)
    await call(
        agent,
        "POST",
        "/api/v1/admin/calendar/2027/import",
        {"format": "csv", "content": "2027-06-09,holiday,端午节"},
        status=403,
    )


async def test_a_dry_run_shows_the_check_and_stores_nothing(admin: Desk) -> None:
    content = "date,type,name\n2027-01-01,holiday,元旦\n2027-02-03,workday,春节调休\n" + (
        "2027-02-06,holiday,春节\n2027-12-31,holiday,年终\n2028-01-01,holiday,元旦\n"
    )
    checked = await call(
        admin,
        "POST",
        "/api/v1/admin/calendar/2027/import",
        {"format": "csv", "content": content, "dry_run": True},
    )
    assert len(checked["days"]) == 5
    errors = codes(checked["issues"], "error")
    assert ("makeup_on_weekday", "days.2027-02-03") in errors  # a Wednesday
    assert ("day_outside_year", "days.2028-01-01") in errors
    assert ("holiday_missing", "holidays.端午节") in errors
    assert ("holiday_missing", "holidays.元旦") not in errors
    warnings = codes(checked["issues"], "warning")
    assert ("holiday_on_weekend_only", "holidays.春节") in warnings  # Saturday 6 February
    assert ("unknown_holiday", "days.2027-12-31") in warnings
    assert ("statutory_days", "days") in warnings
    one = await call(admin, "GET", "/api/v1/admin/calendar/2027")
    assert len(one["days"]) == len(PROJECTED["days"])


async def test_a_file_that_cannot_be_read_or_stored_is_422(admin: Desk, keep_2027: None) -> None:
    path = "/api/v1/admin/calendar/2027/import"
    bad = await call(admin, "POST", path, {"format": "csv", "content": "2027-06-09;端午节"}, 422)
    assert bad["error"]["code"] == "invalid_calendar_file"
    assert "line 1" in bad["error"]["fields"]["content"]
    bad = await call(admin, "POST", path, {"format": "json", "content": '{"2026": {}}'}, 422)
    assert bad["error"]["code"] == "invalid_calendar_file"
    bad = await call(admin, "POST", path, {"format": "xls", "content": "x"}, 422)
    assert "format" in bad["error"]["fields"]
    outside = "2027-06-09,holiday,端午节\n2028-01-01,holiday,元旦\n2027-06-09,holiday,端午节"
    bad = await call(admin, "POST", path, {"format": "csv", "content": outside}, 422)
    assert bad["error"]["code"] == "invalid_calendar_days"
    assert set(bad["error"]["fields"]) == {"days.2028-01-01", "days.2027-06-09"}
    bad = await call(admin, "POST", "/api/v1/admin/calendar/1999/confirm", {}, 422)
    assert bad["error"]["code"] == "invalid_year"
    bad = await call(
        admin,
        "PUT",
        "/api/v1/admin/calendar/2027/days/2028-01-03",
        {"workday": True, "name": "x"},
        422,
    )
    assert bad["error"]["code"] == "day_outside_year"


async def test_an_incomplete_year_cannot_be_confirmed_until_it_is_complete(
    admin: Desk, pool: asyncpg.Pool, keep_2027: None
) -> None:
    without_dragon_boat = {
        **official_2027(),
        "days": [d for d in official_2027()["days"] if not d["name"].startswith("端午节")],
    }
    stored = await call(
        admin,
        "POST",
        "/api/v1/admin/calendar/2027/import",
        {"format": "json", "content": json.dumps(without_dragon_boat, ensure_ascii=False)},
    )
    assert stored["state"] == "provisional" and stored["source"] == NOTICE
    assert stored["complete"] is False
    refused = await call(admin, "POST", "/api/v1/admin/calendar/2027/confirm", {}, 409)
    assert refused["error"]["code"] == "calendar_incomplete"
    assert list(refused["error"]["fields"]) == ["holidays.端午节"]

    # Entered by hand, one day at a time.
    for day, workday, name in [
        ("2027-06-09", False, "端午节"),
        ("2027-06-10", False, "端午节"),
        ("2027-06-11", False, "端午节"),
        ("2027-06-05", True, "端午节调休"),
        ("2027-06-13", True, "端午节调休"),
        ("2027-06-14", True, "typo"),
    ]:
        await call(
            admin,
            "PUT",
            f"/api/v1/admin/calendar/2027/days/{day}",
            {"workday": workday, "name": name},
        )
    year = await call(admin, "GET", "/api/v1/admin/calendar/2027")
    assert codes(year["issues"], "error") == [("makeup_on_weekday", "days.2027-06-14")]
    year = await call(admin, "DELETE", "/api/v1/admin/calendar/2027/days/2027-06-14")
    assert year["complete"] is True and year["issues"] == []
    gone = await call(admin, "DELETE", "/api/v1/admin/calendar/2027/days/2027-06-14", status=422)
    assert gone["error"]["code"] == "calendar_day_not_found"

    confirmed = await call(admin, "POST", "/api/v1/admin/calendar/2027/confirm", {})
    assert confirmed["state"] == "confirmed" and confirmed["confirmed_by"].startswith("admin-")
    # A later change needs confirming again.
    changed = await call(
        admin,
        "PUT",
        "/api/v1/admin/calendar/2027/days/2027-06-13",
        {"workday": True, "name": "端午节调休"},
    )
    assert changed["state"] == "provisional" and changed["confirmed_by"] is None

    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT action, before, after FROM admin_changes "
            "WHERE entity = 'calendar_year' AND entity_key = '2027' ORDER BY id"
        )
    actions = [r["action"] for r in rows]
    assert actions == ["replace"] + ["set_day"] * 6 + ["remove_day", "confirm", "set_day"]
    assert rows[0]["before"]["state"] == "provisional"
    assert len(rows[0]["after"]["days"]) == len(without_dragon_boat["days"])
    assert rows[1]["before"] == {"state": "provisional", "date": "2027-06-09"}
    assert rows[1]["after"] == {
        "state": "provisional",
        "date": "2027-06-09",
        "workday": False,
        "name": "端午节",
    }
    assert rows[-2]["after"] == {"state": "confirmed", "source": NOTICE}


async def test_the_official_days_are_computed_with_at_once(
    server: TestServer,
    pool: asyncpg.Pool,
    settings: Settings,
    clock: Clock,
    keep_2027: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Imported while the application runs, the notice's days are what the next order
    is due by: the announcement, not the cache's periodic check, makes it immediate."""
    monkeypatch.setattr(server.app[CALENDAR], "check_every", 3600)
    clock.set(dt.datetime(2027, 6, 7, 10, 0, tzinfo=SHANGHAI))  # a Monday
    # Signed in on that day: sessions run on the application's clock.
    url = str(server.make_url("/"))
    admin, agent = await desk(url, pool, "admin"), await desk(url, pool, "agent")

    async def due() -> dt.datetime:
        order = await call(agent, "POST", "/api/v1/orders", ORDER, status=201)
        return dt.datetime.fromisoformat(order["resolution_due_at"]).astimezone(SHANGHAI)

    # The projection: 端午节 on Wednesday 9 June only; 5 working days are 8, 10, 11,
    # 14 and 15 June.
    assert await due() == dt.datetime(2027, 6, 15, 18, 0, tzinfo=SHANGHAI)

    client = aioredis.Redis.from_url(settings.redis_url or "")
    try:
        await until(lambda: subscribed(client), "the application listens")
        heard = versions.signal.heard
        await call(
            admin,
            "POST",
            "/api/v1/admin/calendar/2027/import",
            {"format": "json", "content": json.dumps(official_2027(), ensure_ascii=False)},
        )

        async def arrived() -> bool:
            return versions.signal.heard > heard

        await until(arrived, "the announcement")
    finally:
        await client.aclose()
        await admin.client.close()
    # The notice: 9–11 June off, Sunday 13 worked: 8, 13, 14, 15 and 16 June.
    try:
        assert await due() == dt.datetime(2027, 6, 16, 18, 0, tzinfo=SHANGHAI)
    finally:
        await agent.client.close()


async def subscribed(client: aioredis.Redis) -> bool:
    counts = await client.pubsub_numsub(versions.CHANNEL)
    return bool(counts and counts[0][1] > 0)


ORDER = {
    "hotline": "96111",
    "service_item": "W01",  # resolved in 5 working days
    "description": "水表走字太快，怀疑水表不准",
    "area": "370202",
    "address": "香港中路 100 号",
    "caller_phone": "138 1234 5678",
    "caller_name": "市民甲",
}


def test_the_projected_and_the_official_years_check_clean() -> None:
    for entry in (PROJECTED, official_2027()):
        days = [DayEntry.model_validate(d) for d in entry["days"]]
        assert check_year(2027, days) == []


def test_a_csv_line_names_its_fault() -> None:
    with pytest.raises(InvalidInput) as raised:
        read_csv("date,type,name\n2027-06-09,holiday,端午节\n2027-06-31,holiday,端午节\n")
    assert "line 3" in raised.value.field_texts("en")["content"]


def test_a_year_without_a_calendar_is_warned_of_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workcal, "_WARNED", set())
    calendar = WorkingCalendar(periods=[(dt.time(9), dt.time(18))])
    assert not calendar.has_year(2099) and calendar.has_year(2026)
    start = dt.datetime(2099, 3, 2, 9, 0, tzinfo=SHANGHAI)
    with caplog.at_level("WARNING", logger="hotline.workcal"):
        calendar.add(start, 3, "working_days")
        calendar.add(start, 4, "working_days")
    assert [r.getMessage() for r in caplog.records if "2099" in r.getMessage()] == [
        "year 2099 has no working calendar: its holidays are unknown and only weekends are "
        "days off; enter it on the calendar administration screen"
    ]


async def test_seeding_again_leaves_a_year_an_administrator_changed(
    admin: Desk, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """The demo's files seeded again (``hotline up`` on an existing database) bring a
    seeded year back to the file, but not one an administrator has changed since. A
    year no other test reads: 2035."""
    national_day = {"date": "2035-10-01", "workday": False, "name": "国庆节"}
    year = {"source": "演示", "provisional": True, "days": [national_day]}
    (tmp_path / "calendar.json").write_text(json.dumps({"2035": year}), "utf-8")
    async with pool.acquire() as conn:
        await seed_calendar(conn, tmp_path)
    await call(
        admin,
        "PUT",
        "/api/v1/admin/calendar/2035/days/2035-10-01",
        {"workday": False, "name": "国庆节（管理员改）"},
    )
    async with pool.acquire() as conn:
        await seed_calendar(conn, tmp_path)
        name = await conn.fetchval("SELECT name FROM calendar_days WHERE day = '2035-10-01'")
    assert name == "国庆节（管理员改）"
