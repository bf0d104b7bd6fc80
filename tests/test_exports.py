"""Exports (docs/reports.md, "Exports"): the orders a search finds, written by the job
that the relay queues, fetched by the person who asked or a supervisor, removed after a
day. Files are read back (openpyxl, csv): Chinese text as written, formula-like text
neutralised, callers' numbers as the role may see them."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import openpyxl
import pytest
from redis import Redis
from rq import Queue

from hotline.leased import sending_lock
from hotline.phones import mask_phone
from hotline.relay import Relay
from hotline.settings import Settings
from reports.exports.jobs import expiry_chore, export_source
from reports.exports.service import MAX_ATTEMPTS, export_root
from reports.exports.writers import excel_days
from tests.factories import dispatch_to, log_in, make_user, register_order
from tests.test_twilio_intake import mobile

# A citizen's words that a spreadsheet program would run as a formula.
FORMULA = '=HYPERLINK("http://evil.example","点这里")水管爆裂'
MINUS = "-2+3 小区停水"


async def run_exports(pool: asyncpg.Pool, redis_conn: Redis) -> list[str]:
    """The relay queues the due exports; each queued job runs here (in a thread: a job
    has its own event loop). Returns what the jobs said."""
    queue = Queue(f"exports-test-{uuid.uuid4().hex[:8]}", connection=redis_conn)
    await Relay(pool, queue, sources=(export_source,), chores=()).run_once()
    results = []
    for job in queue.get_jobs():
        assert job.func_name == "reports.exports.jobs.run_export_job"
        results.append(await asyncio.to_thread(job.perform))
    return results


class Person:
    def __init__(self, client: aiohttp.ClientSession, csrf: str) -> None:
        self.client = client
        self.csrf = csrf

    async def ask(
        self, params: dict[str, Any], file_format: str = "xlsx", lang: str = "zh-CN", **more: Any
    ) -> aiohttp.ClientResponse:
        return await self.client.post(
            "/api/v1/exports",
            json={"kind": "orders", "format": file_format, "params": params, **more},
            headers={"X-CSRF-Token": self.csrf, "Accept-Language": lang},
        )


@pytest.fixture
async def people(pool: asyncpg.Pool, server: Any) -> dict[str, tuple[str, Any]]:
    async with pool.acquire() as conn:
        return {
            "agent": await make_user(conn, "agent", hotline_code="96111"),
            "other_agent": await make_user(conn, "agent", hotline_code="96111"),
            "supervisor": await make_user(conn, "supervisor"),
            "water": await make_user(conn, "enterprise_user", enterprise_code="qd-water"),
        }


async def signed_in(server: Any, username: str) -> Person:
    client = aiohttp.ClientSession(
        base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    )
    return Person(client, await log_in(client, username))


@pytest.fixture
async def orders(
    pool: asyncpg.Pool, settings: Settings, people: dict[str, tuple[str, Any]], now: dt.datetime
) -> tuple[str, list[asyncpg.Record]]:
    """Three orders of one caller: two on 96111 (one dispatched to the water company),
    one on 12319 (no 96111 agent sees it)."""
    phone = mobile()
    supervisor = people["supervisor"][1]
    async with pool.acquire() as conn:
        dispatched = await register_order(
            conn, supervisor, settings, now, caller_phone=phone, description=FORMULA
        )
        await dispatch_to(conn, dispatched["id"], "qd-water", now)
        kept = await register_order(
            conn,
            supervisor,
            settings,
            now + dt.timedelta(minutes=1),
            caller_phone=phone,
            description=MINUS,
            address="@香港中路 100 号",
        )
        elsewhere = await register_order(
            conn,
            supervisor,
            settings,
            now + dt.timedelta(minutes=2),
            hotline="12319",
            service_item="G-CONSULT",
            caller_phone=phone,
            description="燃气费怎么交",
        )
    return phone, [dispatched, kept, elsewhere]


async def export_done(person: Person, pool: asyncpg.Pool, redis_conn: Redis, **ask: Any) -> Any:
    response = await person.ask(**ask)
    assert response.status == 202, await response.text()
    asked = await response.json()
    assert asked["state"] == "pending" and asked["url"] is None
    await run_exports(pool, redis_conn)
    response = await person.client.get(f"/api/v1/exports/{asked['id']}")
    assert response.status == 200
    return await response.json()


async def fetch(person: Person, export: dict[str, Any]) -> bytes:
    response = await person.client.get(export["url"])
    assert response.status == 200, await response.text()
    return await response.read()


def xlsx_rows(data: bytes) -> tuple[openpyxl.worksheet.worksheet.Worksheet, list[list[Any]]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    return sheet, [[c.value for c in row] for row in sheet.iter_rows()]


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte order mark, for Excel"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


async def test_an_agent_exports_its_hotlines_orders_as_xlsx_read_back_in_chinese(
    server: Any,
    pool: asyncpg.Pool,
    redis_conn: Redis,
    people: dict[str, tuple[str, Any]],
    orders: tuple[str, list[asyncpg.Record]],
) -> None:
    phone, (dispatched, kept, _elsewhere) = orders
    agent = await signed_in(server, people["agent"][0])
    try:
        export = await export_done(agent, pool, redis_conn, params={"q": phone})
        assert export["state"] == "done", export
        assert export["rows_total"] == export["rows_done"] == 2
        assert export["file_name"].startswith("工单-") and export["file_name"].endswith(".xlsx")
        response = await agent.client.get(export["url"])
        assert response.headers["Content-Type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        assert "attachment" in response.headers["Content-Disposition"]
        sheet, rows = xlsx_rows(await response.read())
    finally:
        await agent.client.close()
    header, *body = rows
    assert header[:3] == ["工单编号", "热线", "受理时间"] and "诉求内容" in header
    # Newest first, as the search lists them; the 12319 order is not the agent's.
    assert [r[0] for r in body] == [kept["number"], dispatched["number"]]
    description, address, caller_phone = (
        header.index("诉求内容"),
        header.index("地址"),
        header.index("来电号码"),
    )
    assert [r[description] for r in body] == [MINUS, FORMULA]
    assert body[0][address] == "@香港中路 100 号"
    assert body[0][header.index("状态")] in ("已受理", "派单中", "已派单", "协调督办")
    # The centre sees the whole number.
    assert body[0][caller_phone] == phone
    # Formula-like text: string cells with Excel's quote prefix, never formulas.
    for row_index in (2, 3):
        cell = sheet.cell(row=row_index, column=description + 1)
        assert cell.data_type == "s" and cell.quotePrefix
    assert not sheet.cell(row=2, column=header.index("区域") + 1).quotePrefix
    registered = body[1][header.index("受理时间")]
    assert isinstance(registered, dt.datetime)  # a date Excel can sort and filter


async def test_a_unit_exports_only_its_orders_with_numbers_masked_as_csv_in_english(
    server: Any,
    pool: asyncpg.Pool,
    redis_conn: Redis,
    people: dict[str, tuple[str, Any]],
    orders: tuple[str, list[asyncpg.Record]],
) -> None:
    phone, (dispatched, _kept, _elsewhere) = orders
    water = await signed_in(server, people["water"][0])
    try:
        export = await export_done(
            water, pool, redis_conn, params={"q": phone}, file_format="csv", lang="en"
        )
        assert export["file_name"].startswith("orders-") and export["file_name"].endswith(".csv")
        rows = csv_rows(await fetch(water, export))
    finally:
        await water.client.close()
    header, *body = rows
    assert header[:3] == ["Order number", "Hotline", "Registered"]
    assert [r[0] for r in body] == [dispatched["number"]]
    # Masked as the search's list masks it for a unit, then neutralised ('+').
    assert body[0][header.index("Caller's phone")] == "'" + mask_phone(phone)
    assert body[0][header.index("Description")] == "'" + FORMULA


async def test_a_supervisor_exports_every_hotline_and_a_csv_is_safe_in_excel(
    server: Any,
    pool: asyncpg.Pool,
    redis_conn: Redis,
    people: dict[str, tuple[str, Any]],
    orders: tuple[str, list[asyncpg.Record]],
) -> None:
    phone, (dispatched, kept, elsewhere) = orders
    supervisor = await signed_in(server, people["supervisor"][0])
    try:
        export = await export_done(
            supervisor,
            pool,
            redis_conn,
            params={"q": phone, "sort": "number", "desc": False},
            file_format="csv",
        )
        rows = csv_rows(await fetch(supervisor, export))
    finally:
        await supervisor.client.close()
    header, *body = rows
    assert header[0] == "工单编号"
    assert sorted(r[0] for r in body) == [r[0] for r in body]
    assert {r[0] for r in body} == {o["number"] for o in (dispatched, kept, elsewhere)}
    by_number = {r[0]: r for r in body}
    assert by_number[kept["number"]][header.index("诉求内容")] == "'" + MINUS
    assert by_number[kept["number"]][header.index("地址")] == "'@香港中路 100 号"
    assert by_number[elsewhere["number"]][header.index("诉求内容")] == "燃气费怎么交"
    assert by_number[elsewhere["number"]][header.index("来电号码")] == "'" + phone
    # No cell of the file begins with what a spreadsheet program runs.
    assert not [c for r in rows for c in r if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


async def test_only_the_requester_or_a_supervisor_fetches_an_export(
    server: Any,
    pool: asyncpg.Pool,
    redis_conn: Redis,
    people: dict[str, tuple[str, Any]],
    orders: tuple[str, list[asyncpg.Record]],
) -> None:
    phone = orders[0]
    agent = await signed_in(server, people["agent"][0])
    other = await signed_in(server, people["other_agent"][0])
    supervisor = await signed_in(server, people["supervisor"][0])
    try:
        response = await agent.ask({"q": phone})
        asked = await response.json()
        path = f"/api/v1/exports/{asked['id']}"
        # Not written yet: no file.
        response = await agent.client.get(path + "/file")
        assert response.status == 409
        assert (await response.json())["error"]["code"] == "export_not_ready"
        await run_exports(pool, redis_conn)
        for person, status in ((other, 404), (agent, 200), (supervisor, 200)):
            assert (await person.client.get(path)).status == status
            assert (await person.client.get(path + "/file")).status == status
        mine = await (await agent.client.get("/api/v1/exports")).json()
        assert asked["id"] in [e["id"] for e in mine["items"]]
        theirs = await (await other.client.get("/api/v1/exports")).json()
        assert asked["id"] not in [e["id"] for e in theirs["items"]]
    finally:
        for person in (agent, other, supervisor):
            await person.client.close()


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"params": {"sort": "bogus"}}, "invalid_query", "sort"),
        ({"params": {"no_such_filter": "1"}}, "invalid_query", "no_such_filter"),
        ({"params": {"registered_from": "yesterday"}}, "invalid_query", "registered_from"),
        ({"kind": "nothing"}, "invalid_query", "kind"),
        ({"format": "pdf"}, "invalid_query", "format"),
        ({"colour": "red"}, "invalid_query", "colour"),
    ],
)
async def test_a_bad_request_is_a_400_naming_the_field(
    server: Any,
    people: dict[str, tuple[str, Any]],
    body: dict[str, Any],
    code: str,
    field: str,
) -> None:
    agent = await signed_in(server, people["agent"][0])
    try:
        response = await agent.client.post(
            "/api/v1/exports",
            json={"kind": "orders", "format": "xlsx", **body},
            headers={"X-CSRF-Token": agent.csrf},
        )
        assert response.status == 400, await response.text()
        error = (await response.json())["error"]
        assert error["code"] == code
        assert any(field in name for name in error["fields"]), error
    finally:
        await agent.client.close()


async def test_a_file_is_removed_after_its_day(
    server: Any,
    pool: asyncpg.Pool,
    redis_conn: Redis,
    settings: Settings,
    people: dict[str, tuple[str, Any]],
    orders: tuple[str, list[asyncpg.Record]],
) -> None:
    agent = await signed_in(server, people["agent"][0])
    try:
        export = await export_done(agent, pool, redis_conn, params={"q": orders[0]})
        key = await pool.fetchval("SELECT file_key FROM report_exports WHERE id = $1", export["id"])
        path = export_root(settings) / key[:2] / key[2:4] / key
        assert path.exists()
        chore = expiry_chore(settings)
        async with pool.acquire() as conn:
            # Within its day the chore leaves it.
            before = await chore.run(conn, chore.batch)
            assert path.exists()
            await conn.execute(
                "UPDATE report_exports SET expires_at = now() - interval '1 second' WHERE id = $1",
                export["id"],
            )
            removed = await chore.run(conn, chore.batch)
        assert removed >= 1 and before >= 0
        assert not path.exists()
        gone = await (await agent.client.get(f"/api/v1/exports/{export['id']}")).json()
        assert gone["state"] == "expired" and gone["url"] is None
        response = await agent.client.get(f"/api/v1/exports/{export['id']}/file")
        assert response.status == 409
        assert (await response.json())["error"]["code"] == "export_expired"
    finally:
        await agent.client.close()


async def test_a_second_job_leaves_a_running_export_be_and_a_dying_one_is_given_up(
    pool: asyncpg.Pool,
    redis_conn: Redis,
    server: Any,
    people: dict[str, tuple[str, Any]],
    orders: tuple[str, list[asyncpg.Record]],
) -> None:
    agent = await signed_in(server, people["agent"][0])
    try:
        asked = await (await agent.ask({"q": orders[0]})).json()
    finally:
        await agent.client.close()
    queue = Queue(f"exports-test-{uuid.uuid4().hex[:8]}", connection=redis_conn)
    await Relay(pool, queue, sources=(export_source,), chores=()).run_once()
    (job,) = queue.get_jobs()
    async with pool.acquire() as conn, sending_lock(conn, "report_exports", asked["id"]) as held:
        # Another worker writes it right now: this job leaves it.
        assert held
        assert await asyncio.to_thread(job.perform) == "another job is writing it"
    state = await pool.fetchval("SELECT state FROM report_exports WHERE id = $1", asked["id"])
    assert state == "enqueued"
    # Claimed again and again (its jobs died): given up, not retried for ever.
    await pool.execute(
        "UPDATE report_exports SET attempts = $2 WHERE id = $1", asked["id"], MAX_ATTEMPTS + 1
    )
    assert await asyncio.to_thread(job.perform) == "failed"
    row = await pool.fetchrow("SELECT state, error FROM report_exports WHERE id = $1", asked["id"])
    assert row["state"] == "failed" and row["error"]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "America/St_Johns"])
def test_times_become_the_serial_days_of_the_zones_clock_across_its_changes(zone: str) -> None:
    """The quarter-hour offset cache (``excel_days``) against the plain conversion, every
    seven minutes and some seconds of a year, both daylight-saving changes included
    (St. John's shifts by half hours)."""
    tz = ZoneInfo(zone)
    days = excel_days(tz)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for step in range(0, 365 * 24 * 60, 7):
        value = start + dt.timedelta(minutes=step, seconds=step % 60, microseconds=step)
        local = value.astimezone(tz).replace(tzinfo=None)
        expected = (local - dt.datetime(1899, 12, 30)) / dt.timedelta(days=1)
        assert abs(days(value) - expected) < 1e-8, value
