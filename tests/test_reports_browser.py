"""Periodic reports in a real browser (issue 18): a supervisor opens the month's stored
report, reads its comparisons, charts, per-agent figures and late orders in Chinese and
in English, computes a custom one, and prints it (print media: the report alone, its
charts within an A4 page's width). The system is browser_support's, on a database
of this module's own. Screenshots go to ``tests/artifacts/reports/``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from playwright.async_api import expect

from hotline.board.queries import set_agent_status
from reports.days.service import do_roll_up
from testkit.orders import insert_order
from tests.browser_support import (
    ARTIFACTS,
    Stack,
    needs_chromium,
    settled,
    shoot,
    switch_language,
)

pytestmark = needs_chromium

SHOTS = ARTIFACTS / "reports"
CHINA = ZoneInfo("Asia/Shanghai")
OCTOBER = dt.date(2026, 10, 1)
_serial = itertools.count(1)
# Now and then an order dispatched is returned, sent to coordination or redone.
MOVES = {1: ["returned", "dispatched"], 5: ["escalated"], 8: ["reopened", "dispatched"]}


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), CHINA)


async def order(conn: asyncpg.Connection, when: dt.datetime, **values: Any) -> asyncpg.Record:
    n = next(_serial)
    return await insert_order(
        conn,
        {
            "number": f"96111-{when:%Y%m%d}-{n:04d}",
            "hotline_code": "96111",
            "channel": "voice",
            "kind": "repair",
            "service_item_code": "W01",
            "description": "报表测试",
            "status": "closed",
            "created_at": when,
            "updated_at": when,
            **values,
        },
    )


async def month_of_facts(conn: asyncpg.Connection, agents: list[int]) -> None:
    """October 2026 of 96111, September a little quieter, October 2025 quieter still."""
    units = [r["id"] for r in await conn.fetch("SELECT id FROM enterprises ORDER BY id LIMIT 3")]
    areas = [
        r["code"] for r in await conn.fetch("SELECT code FROM areas WHERE level = 'street' LIMIT 4")
    ]
    items = [
        r["code"] for r in await conn.fetch("SELECT code FROM service_items ORDER BY code LIMIT 6")
    ]
    channels = ["voice", "voice", "voice", "sms", "web", "wechat"]
    kinds = ["repair", "complaint", "consultation", "repair", "request"]
    for month, per_day in ((OCTOBER, 6), (dt.date(2026, 9, 1), 4), (dt.date(2025, 10, 1), 3)):
        for d in range(28):
            day = month + dt.timedelta(days=d)
            for i in range(per_day + (d % 5)):
                agent = agents[i % len(agents)]
                when = at(day, 8 + i % 10, (7 * i) % 60)
                placed = await order(
                    conn,
                    when,
                    channel=channels[(d + i) % len(channels)],
                    kind=kinds[(d * 3 + i) % len(kinds)],
                    service_item_code=items[(d + 2 * i) % len(items)],
                    area_code=areas[i % len(areas)],
                    lead_enterprise_id=units[i % len(units)],
                    registered_by=agent,
                    status="resolved_on_call" if i % 4 == 0 else "closed",
                )
                if i % 4:
                    moves = ["dispatched", *MOVES.get((d + i) % 11, [])]
                    for k, to in enumerate(moves):
                        await conn.execute(
                            "INSERT INTO order_events (order_id, type, from_status, to_status,"
                            " created_at) VALUES ($1, 'order.test', 'registered', $2, $3)",
                            placed["id"],
                            to,
                            when + dt.timedelta(minutes=10 + k),
                        )
                await conn.execute(
                    """
                    INSERT INTO calls (call_sid, hotline_code, from_phone, to_number,
                                       agent_user_id, queued_at, answered_at, ended_at,
                                       left_queue_at, created_at)
                    VALUES ($1, '96111', '+8613800000000', '96111', $2, $3, $4, $5,
                            coalesce($4, $3::timestamptz + interval '40 seconds'), $3)
                    """,
                    f"CA-report-{next(_serial)}",
                    None if i % 7 == 6 else agent,
                    when,
                    None if i % 7 == 6 else when + dt.timedelta(seconds=5 + 4 * i),
                    None if i % 7 == 6 else when + dt.timedelta(seconds=200 + 30 * i),
                )
            for agent in agents:
                async with conn.transaction():
                    await set_agent_status(conn, agent, "after_call", at(day, 12))
                async with conn.transaction():
                    await set_agent_status(conn, agent, "available", at(day, 12, 3 + agent % 4))
    # Overdue and late orders of October, for the 通报 lists.
    await order(
        conn,
        at(OCTOBER, 9),
        status="in_progress",
        lead_enterprise_id=units[0],
        resolution_due_at=at(OCTOBER + dt.timedelta(days=3), 18),
    )
    await order(
        conn,
        at(OCTOBER + dt.timedelta(days=4), 9),
        status="completed",
        lead_enterprise_id=units[1],
        resolution_due_at=at(OCTOBER + dt.timedelta(days=6), 18),
        completed_at=at(OCTOBER + dt.timedelta(days=9), 11),
    )


async def test_a_supervisor_reads_and_prints_the_months_report(
    consoles: Stack,
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with consoles.pool.acquire() as conn:
        agents = [
            await conn.fetchval("SELECT id FROM users WHERE username = $1", consoles.users[name])
            for name in ("agent", "colleague")
        ]
        await month_of_facts(conn, agents)
    now = dt.datetime.now(dt.UTC)
    for first, last in (
        (dt.date(2026, 9, 1), dt.date(2026, 11, 1)),
        (dt.date(2025, 10, 1), dt.date(2025, 11, 1)),
    ):
        await do_roll_up(consoles.pool, first, last, now)
    supervisor = await consoles.api(consoles.users["supervisor"])
    stored = await supervisor.post(
        "/api/v1/reports/periodic", {"kind": "monthly", "day": "2026-10-15", "scope": "96111"}, 201
    )
    await supervisor.client.close()
    registered = next(r for r in stored["document"]["summary"] if r["measure"] == "registered")

    page = await consoles.console("supervisor")
    await page.locator(".nav a[href='#/reports']").click()
    report = page.locator("[data-test=periodic-report]")
    await expect(report).to_be_visible()
    await expect(report.locator("h2")).to_contain_text("月报 2026-10-01 – 2026-10-31")
    row = report.locator("[data-measure=registered]")
    await expect(row.locator("td").nth(0)).to_have_text(str(registered["value"]))
    await expect(row.locator("td").nth(1)).to_have_text(str(registered["previous"]))
    await expect(row.locator("td").nth(2)).to_contain_text(f"▲ {registered['change_previous']}")
    await expect(report.locator("[data-test=periodic-as-of]")).to_contain_text("数据截至")
    await expect(report.locator("[data-agent]")).to_have_count(2)
    await expect(report.locator("[data-test=periodic-agents]")).to_contain_text("王芳")
    await expect(report.locator("[data-list=overdue] tbody tr")).to_have_count(1)
    await expect(report.locator("[data-list=completed_late] tbody tr")).to_have_count(1)
    await expect(report.locator("canvas")).to_have_count(3)
    await settled(page)
    await shoot(page, SHOTS / "report-zh.png", full_page=True)

    await switch_language(page)
    await expect(report.locator("h2")).to_contain_text("Monthly 2026-10-01 – 2026-10-31")
    await expect(report.locator("[data-measure=score] th")).to_have_text("三率 score")
    await expect(report.locator("[data-breakdown=channel] tbody th").first).to_have_text("Phone")
    await settled(page)
    await shoot(page, SHOTS / "report-en.png", full_page=True)

    # A custom period, computed and not stored.
    await page.locator("[data-test=periodic-kind] label").filter(has_text="Custom").click()
    await page.locator(".periodic-tools .el-range-input").first.fill("2026-10-05")
    await page.locator(".periodic-tools .el-range-input").nth(1).fill("2026-10-11")
    await page.keyboard.press("Enter")
    await page.locator("[data-test=periodic-scope]").click()
    await page.locator(".el-select-dropdown__item").filter(has_text="Whole centre").click()
    await page.locator("[data-test=periodic-compute]").click()
    await expect(report.locator("h2")).to_contain_text(
        "Whole centre · Custom 2026-10-05 – 2026-10-11"
    )
    await expect(report).to_contain_text("not stored")

    # Printed: A4's width, the report alone, every chart within the page.
    await page.set_viewport_size({"width": 794, "height": 1123})
    await page.emulate_media(media="print")
    await expect(page.locator(".topbar")).to_be_hidden()
    await expect(page.locator("[data-test=periodic-stored]")).to_be_hidden()
    boxes = await page.evaluate(
        "[...document.querySelectorAll('.periodic-report canvas')]"
        ".map((c) => c.getBoundingClientRect()).map((b) => [b.right, b.height])"
    )
    assert len(boxes) == 3 and all(right <= 794 and height > 100 for right, height in boxes), boxes
    await shoot(page, SHOTS / "report-print-en.png", full_page=True)
    await page.emulate_media(media="screen")
    await switch_language(page)
    await page.emulate_media(media="print")
    await expect(report.locator("h2")).to_contain_text("全中心")
    await settled(page)
    await shoot(page, SHOTS / "report-print-zh.png", full_page=True)
    pdf = await page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
