"""Exports of reports (docs/reports.md, "Export sources"): a periodic report, a ranking
and the hot issues, each through the job the relay queues (tests/test_exports.py's
helpers), fetched and read back with openpyxl and csv: sheets named in the language
asked, Chinese as written, numbers as numbers, a planted name that begins with '='
neutralised; only supervisors and admins, within their hotlines; bad params named."""

from __future__ import annotations

import datetime as dt
import io
import random
from typing import Any

import asyncpg
import openpyxl
import pytest
from redis import Redis

from reports.days.service import do_roll_up
from tests.factories import make_user, unique
from tests.test_callbacks import local, unit_dispatch
from tests.test_exports import Person, csv_rows, export_done, fetch, signed_in
from tests.test_report_hot import Plant, hotline
from tests.test_report_periodic import NOW, agent_on, at, order_on, quiet_week

# A name a spreadsheet program would run as a formula, planted where a report shows it.
FORMULA = '=HYPERLINK("http://evil.example","点这里")'
HOUR = dt.timedelta(hours=1)


def workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def rows_of(book: openpyxl.Workbook, name: str) -> list[list[Any]]:
    return [[c.value for c in row] for row in book[name].iter_rows()]


def csv_sheets(data: bytes) -> dict[str, list[list[str]]]:
    """A CSV's sheets: the first under ``""``, each later one after an empty line and its
    name."""
    sheets: dict[str, list[list[str]]] = {"": []}
    current = ""
    rows = csv_rows(data)
    for index, row in enumerate(rows):
        if not row:
            continue
        if index and not rows[index - 1]:
            current = row[0]
            sheets[current] = []
            continue
        sheets[current].append(row)
    return sheets


async def refused(person: Person, kind: str, params: dict[str, Any]) -> tuple[int, Any]:
    response = await person.ask(params, kind=kind)
    return response.status, (await response.json())["error"]


@pytest.fixture
async def week(pool: asyncpg.Pool) -> dict[str, Any]:
    """A quiet week of 12319: an agent named like a formula registers two orders (one
    resolved on the call), one order completed late; the week rolled."""
    monday = quiet_week()
    async with pool.acquire() as conn:
        agent = await agent_on(conn)
        await conn.execute("UPDATE users SET display_name = $2 WHERE id = $1", agent, FORMULA)
        mine = {"registered_by": agent}
        await order_on(conn, at(monday, 9), status="resolved_on_call", channel="sms", **mine)
        await order_on(conn, at(monday + dt.timedelta(days=1), 9), **mine)
        late = await order_on(
            conn,
            at(monday + dt.timedelta(days=1), 10),
            status="completed",
            resolution_due_at=at(monday + dt.timedelta(days=2), 9),
            completed_at=at(monday + dt.timedelta(days=4), 9),
        )
    await do_roll_up(pool, monday, monday + dt.timedelta(days=7), NOW)
    return {"monday": monday.isoformat(), "late": late}


async def test_a_periodic_report_exports_its_tables_in_either_language(
    server: Any, pool: asyncpg.Pool, redis_conn: Redis, week: dict[str, Any]
) -> None:
    async with pool.acquire() as conn:
        username, _ = await make_user(conn, "supervisor")
    supervisor = await signed_in(server, username)
    period = {"kind": "weekly", "day": week["monday"], "scope": "12319"}
    try:
        export = await export_done(
            supervisor, pool, redis_conn, params=period, kind="periodic_report"
        )
        assert export["state"] == "done", export
        assert export["file_name"].startswith("报表-")
        book = workbook(await fetch(supervisor, export))

        # A stored report, by its id, as CSV in English.
        response = await supervisor.client.post(
            "/api/v1/reports/periodic", json=period, headers={"X-CSRF-Token": supervisor.csrf}
        )
        assert response.status == 201
        stored = await response.json()
        english = await export_done(
            supervisor,
            pool,
            redis_conn,
            params={"report_id": stored["id"]},
            kind="periodic_report",
            file_format="csv",
            lang="en",
        )
        assert english["file_name"].startswith("report-") and english["params"] == {
            "report_id": stored["id"]
        }
        sheets = csv_sheets(await fetch(supervisor, english))
    finally:
        await supervisor.client.close()

    assert book.sheetnames[:3] == ["报表信息", "总体指标", "每日趋势"]
    assert {"按渠道", "按类型", "按事项", "按领域", "按区域", "按承办单位", "坐席"} <= set(
        book.sheetnames
    )
    assert book.sheetnames[-2:] == ["超期未办结", "超期办结"]
    summary = {r[0]: r for r in rows_of(book, "总体指标")[1:]}
    assert summary["受理工单"][1] == 3 and isinstance(summary["受理工单"][1], int)
    share = summary["直接办结率"][1]
    assert isinstance(share, float) and share == pytest.approx(1 / 3, abs=1e-4)
    channels = {r[0]: r[1] for r in rows_of(book, "按渠道")[1:]}
    assert channels == {"电话": 2, "短信": 1}
    agents = rows_of(book, "坐席")
    assert agents[0][:2] == ["坐席", "接听量"] and agents[1][0] == FORMULA
    cell = book["坐席"].cell(row=2, column=1)
    assert cell.data_type == "s" and cell.quotePrefix
    late = rows_of(book, "超期办结")
    assert late[1][0] == week["late"]["number"] and late[1][4] == "已办结"
    assert isinstance(late[1][6], dt.datetime)
    about = dict(r[:2] for r in rows_of(book, "报表信息")[1:])
    assert about["周期"].startswith("周报 " + week["monday"])

    assert list(sheets)[:3] == ["", "Summary", "Day by day"]
    assert sheets[""][0] == ["About", "Value"]
    assert dict(r[:2] for r in sheets[""][1:])["Version"] == "1"
    en_summary = {r[0]: r for r in sheets["Summary"][1:]}
    assert float(en_summary["Resolved-on-call share"][1]) == pytest.approx(1 / 3, abs=1e-4)
    assert int(en_summary["Orders registered"][1]) == 3
    assert {r[0] for r in sheets["By channel"][1:]} == {"Phone", "SMS"}
    assert sheets["Agents"][1][0] == "'" + FORMULA


async def test_a_report_is_exported_by_supervisors_within_their_hotlines_only(
    server: Any, pool: asyncpg.Pool, redis_conn: Redis, week: dict[str, Any]
) -> None:
    period = {"kind": "weekly", "day": week["monday"], "scope": "12319"}
    async with pool.acquire() as conn:
        centre, _ = await make_user(conn, "supervisor")
        scoped, _ = await make_user(conn, "supervisor", hotline_code="96111")
        agent, _ = await make_user(conn, "agent", hotline_code="12319")
    people = {
        name: await signed_in(server, user)
        for name, user in (("centre", centre), ("scoped", scoped), ("agent", agent))
    }
    try:
        response = await people["centre"].client.post(
            "/api/v1/reports/periodic",
            json=period,
            headers={"X-CSRF-Token": people["centre"].csrf},
        )
        report_id = (await response.json())["id"]
        status, error = await refused(people["agent"], "periodic_report", period)
        assert (status, error["code"]) == (403, "role_forbidden")
        # Another hotline's stored report is not found, as when opened; its period is
        # refused, and so is the centre's.
        status, error = await refused(people["scoped"], "periodic_report", {"report_id": report_id})
        assert status == 404
        status, error = await refused(people["scoped"], "periodic_report", period)
        assert (status, error["code"]) == (403, "scope_forbidden")
        status, error = await refused(people["scoped"], "periodic_report", {**period, "scope": ""})
        assert (status, error["code"]) == (403, "scope_forbidden")
        # Its own hotline's report it may export.
        mine = await export_done(
            people["scoped"],
            pool,
            redis_conn,
            params={**period, "scope": "96111"},
            kind="periodic_report",
        )
        assert mine["state"] == "done"
        for params, code, field, status_code in [
            ({"kind": "custom", "start": week["monday"]}, "bad_period", "end", 400),
            ({"kind": "yearly", "day": week["monday"]}, "invalid_query", "kind", 400),
            ({"report_id": report_id, "kind": "daily"}, "invalid_query", "kind", 400),
            ({"report_id": "x"}, "invalid_query", "report_id", 400),
            ({**period, "scope": "99999"}, "unknown_hotline", "scope", 422),
        ]:
            status, error = await refused(people["centre"], "periodic_report", params)
            assert (status, error["code"]) == (status_code, code), (params, error)
            assert any(field in name for name in error["fields"]), error
    finally:
        for person in people.values():
            await person.client.close()


async def test_a_ranking_exports_every_rate_rank_and_change(
    server: Any, pool: asyncpg.Pool, redis_conn: Redis
) -> None:
    # A week of 2019 no other test ranks: the week before, the planted unit good and
    # water bad; this week both good, billing bad.
    monday = dt.date(2019, 1, 7) + dt.timedelta(weeks=random.randrange(40))
    this = local(monday.year, monday.month, monday.day, 10, 0) + dt.timedelta(days=1)
    before = this - dt.timedelta(days=7)

    async def dispatch(unit: str, day: dt.datetime, good: bool) -> None:
        if good:
            await unit_dispatch(
                conn,
                unit,
                day,
                signed=day + HOUR,
                completed=(day + 5 * HOUR, True),
                answer=(True, 5, "good"),
            )
        else:
            await unit_dispatch(
                conn,
                unit,
                day,
                signed=day + 3 * HOUR,
                completed=(day + 48 * HOUR, False),
                answer=(False, 2, "bad"),
            )

    async with pool.acquire() as conn:
        planted = unique("formula-unit-")
        await conn.execute(
            "INSERT INTO enterprises (code, kind, name_zh, name_en) VALUES ($1, 'company', $2, $2)",
            planted,
            FORMULA,
        )
        await dispatch(planted, before, True)
        await dispatch("qd-water", before, False)
        await dispatch(planted, this, True)
        await dispatch("qd-water", this, True)
        await dispatch("qd-billing", this, False)
        water = await conn.fetchval("SELECT name_zh FROM enterprises WHERE code = 'qd-water'")
        username, _ = await make_user(conn, "supervisor")
        agent, _ = await make_user(conn, "agent", hotline_code="96111")
    supervisor = await signed_in(server, username)
    someone = await signed_in(server, agent)
    query = {"period": "week", "date": monday.isoformat(), "rank_by": "score"}
    try:
        export = await export_done(supervisor, pool, redis_conn, params=query, kind="ranking")
        assert export["file_name"].startswith("排名-")
        book = workbook(await fetch(supervisor, export))
        english = await export_done(
            supervisor,
            pool,
            redis_conn,
            params=query,
            kind="ranking",
            file_format="csv",
            lang="en",
        )
        sheets = csv_sheets(await fetch(supervisor, english))
        status, error = await refused(someone, "ranking", query)
        assert (status, error["code"]) == (403, "role_forbidden")
        status, error = await refused(supervisor, "ranking", {**query, "rank_by": "speed"})
        assert (status, error["code"]) == (400, "invalid_query") and "rank_by" in error["fields"]
    finally:
        await supervisor.client.close()
        await someone.client.close()

    sunday = (monday + dt.timedelta(days=6)).isoformat()
    (name,) = book.sheetnames
    assert name == f"排名 {monday.isoformat()} 至 {sunday}"
    header, *rows = rows_of(book, name)
    assert header[:4] == ["名次（三率得分）", "名次变化", "承办单位", "三率得分"]
    by_unit = {r[2]: dict(zip(header, r, strict=True)) for r in rows}
    assert by_unit[FORMULA]["名次（三率得分）"] == 1 and by_unit[water]["名次（三率得分）"] == 1
    assert by_unit[water]["名次变化"] == 1  # second the week before, now tied first
    assert by_unit[FORMULA]["名次变化"] == 0
    assert isinstance(by_unit[FORMULA]["三率得分"], int | float)
    assert isinstance(by_unit[FORMULA]["满意率"], float) and by_unit[FORMULA]["满意率"] == 1
    cell = book[name].cell(row=2 + [r[2] for r in rows].index(FORMULA), column=3)
    assert cell.data_type == "s" and cell.quotePrefix
    en_header, *en_rows = sheets[""]
    assert en_header[:3] == ["Rank (Score)", "Places moved up", "Unit"]
    assert "'" + FORMULA in {r[2] for r in en_rows}


async def test_hot_issues_export_each_list_and_the_heat_grid(
    server: Any, pool: asyncpg.Pool, redis_conn: Redis
) -> None:
    first = dt.date(2011, 1, 3) + dt.timedelta(weeks=random.randrange(300))
    last = first + dt.timedelta(days=6)
    phone = f"+86139{random.randrange(10**8):08d}"
    async with pool.acquire() as conn:
        code = await hotline(conn)
        street = await conn.fetchrow(
            "SELECT code, parent_code FROM areas WHERE level = 'street' LIMIT 1"
        )
        item = await conn.fetchrow("SELECT name_zh, name_en FROM service_items WHERE code = 'W01'")
        district = await conn.fetchval(
            "SELECT name_zh FROM areas WHERE code = $1", street["parent_code"]
        )
        plant = Plant(conn, code)
        await plant.orders(first, 3, address=FORMULA + "路 8 号", area_code=street["code"])
        await plant.orders(first + dt.timedelta(days=1), 3, caller_phone=phone)
        await plant.orders(first + dt.timedelta(days=2), 1, redo_count=3, description="暖气又坏了")
        supervisor, _ = await make_user(conn, "supervisor")
        scoped, _ = await make_user(conn, "supervisor", hotline_code="96111")
        agent, _ = await make_user(conn, "agent", hotline_code="96111")
    # The week before too: the baseline of what rises.
    await do_roll_up(pool, first - dt.timedelta(days=7), last + dt.timedelta(days=1), NOW)
    asked = {"first_day": first.isoformat(), "last_day": last.isoformat(), "hotline": code}
    people = [await signed_in(server, u) for u in (supervisor, scoped, agent)]
    centre, other, someone = people
    try:
        export = await export_done(centre, pool, redis_conn, params=asked, kind="hot_issues")
        assert export["file_name"].startswith("热点难点-")
        book = workbook(await fetch(centre, export))
        english = await export_done(
            centre,
            pool,
            redis_conn,
            params=asked,
            kind="hot_issues",
            file_format="csv",
            lang="en",
        )
        sheets = csv_sheets(await fetch(centre, english))
        cases: list[tuple[Person, dict[str, Any], int, str, str | None]] = [
            (someone, asked, 403, "role_forbidden", None),
            (other, asked, 403, "not_your_hotline", None),
            (
                centre,
                {**asked, "last_day": (first - dt.timedelta(days=1)).isoformat()},
                400,
                "invalid_period",
                "last_day",
            ),
            (centre, {**asked, "min_orders": 1}, 400, "invalid_query", "min_orders"),
            (centre, {"first_day": asked["first_day"]}, 400, "invalid_query", "last_day"),
        ]
        for person, params, status_code, code_, field in cases:
            status, error = await refused(person, "hot_issues", params)
            assert (status, error["code"]) == (status_code, code_), (params, error)
            if field:
                assert field in error["fields"], error
    finally:
        for person in people:
            await person.client.close()

    assert book.sheetnames == [
        "异常上升·事项",
        "异常上升·区域",
        "区域×事项热力表",
        "同一地址重复诉求",
        "重复来电",
        "多次重办工单",
        "高频词",
    ]
    rising = {r[0]: r for r in rows_of(book, "异常上升·事项")[1:]}
    assert rising[item["name_zh"]][1] == 7 and isinstance(rising[item["name_zh"]][2], int | float)
    assert rising[item["name_zh"]][7] in ("是", "否")
    heat_header, *heat = rows_of(book, "区域×事项热力表")
    assert heat_header[0] == "区域" and item["name_zh"] in heat_header
    grid = {r[0]: r for r in heat}
    assert grid[district][heat_header.index(item["name_zh"])] == 3
    (address,) = rows_of(book, "同一地址重复诉求")[1:]
    assert address[0] == FORMULA + "路 8 号" and address[2] == 3
    assert book["同一地址重复诉求"].cell(row=2, column=1).quotePrefix
    (caller,) = rows_of(book, "重复来电")[1:]
    assert caller[:3] == [phone, 3, 1]  # the centre sees the whole number
    (reopened,) = rows_of(book, "多次重办工单")[1:]
    assert reopened[6] == 3 and reopened[2] == item["name_zh"]
    assert isinstance(reopened[8], dt.datetime)
    assert "暖气" in {r[0] for r in rows_of(book, "高频词")[1:]}

    assert list(sheets) == [
        "",
        "Rising districts",
        "Districts × items",
        "Same address again",
        "Repeat callers",
        "Reopened more than once",
        "Frequent words",
    ]
    assert sheets[""][0][0] == "Service item" and item["name_en"] in {r[0] for r in sheets[""]}
    assert sheets["Same address again"][1][0] == "'" + FORMULA + "路 8 号"
    assert sheets["Repeat callers"][1][0] == "'" + phone
