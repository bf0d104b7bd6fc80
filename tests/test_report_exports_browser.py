"""A report exported in a real browser (issue 18): a supervisor opens the stored report on
#/reports, exports it as XLSX with the same "Export" menu and "My exports" list as the
order search's, downloads it and reads its sheets back; in English, as CSV. The system
is browser_support's (web, a worker and the relay), on a database of this module's
own. Screenshots go to ``tests/artifacts/report-exports/``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
from playwright.async_api import expect

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
from tests.test_exports_browser import export_and_download
from tests.test_reports_browser import at

pytestmark = needs_chromium

SHOTS = ARTIFACTS / "report-exports"
WEEK = dt.date(2026, 11, 2)  # a Monday


async def test_a_supervisor_exports_the_report_shown(
    consoles: Stack,
    tmp_path: Path,
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with consoles.pool.acquire() as conn:
        for i in range(5):
            when = at(WEEK + dt.timedelta(days=i % 3), 9 + i)
            await insert_order(
                conn,
                {
                    "number": f"96111-{when:%Y%m%d}-9{i:03d}",
                    "hotline_code": "96111",
                    "channel": "voice" if i % 2 else "wechat",
                    "kind": "repair",
                    "service_item_code": "W01",
                    "description": "导出测试",
                    "status": "closed",
                    "created_at": when,
                    "updated_at": when,
                },
            )
    await do_roll_up(consoles.pool, WEEK, WEEK + dt.timedelta(days=7), dt.datetime.now(dt.UTC))
    supervisor = await consoles.api(consoles.users["supervisor"])
    await supervisor.post(
        "/api/v1/reports/periodic",
        {"kind": "weekly", "day": WEEK.isoformat(), "scope": "96111"},
        201,
    )
    await supervisor.client.close()

    page = await consoles.console("supervisor")
    await page.locator(".nav a[href='#/reports']").click()
    report = page.locator("[data-test=periodic-report]")
    await expect(report.locator("h2")).to_contain_text("周报 2026-11-02 – 2026-11-08")
    path = await export_and_download(page, "xlsx", tmp_path)
    assert path.name.startswith("报表-") and path.suffix == ".xlsx"
    await expect(page.locator("[data-test=exports]")).to_contain_text("当前显示的报表")
    await settled(page)
    await shoot(page, SHOTS / "report-export-zh.png")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:2] == ["报表信息", "总体指标"]
    summary = {r[0].value: r[1].value for r in book["总体指标"].iter_rows(min_row=2)}
    assert summary["受理工单"] == 5
    channels = {r[0].value: r[1].value for r in book["按渠道"].iter_rows(min_row=2)}
    assert channels == {"电话": 2, "微信": 3}

    await page.keyboard.press("Escape")
    await switch_language(page)
    await expect(page.locator("[data-test=export-toggle]")).to_have_text("Export")
    path = await export_and_download(page, "csv", tmp_path)
    assert path.name.startswith("report-") and path.suffix == ".csv"
    await settled(page)
    await shoot(page, SHOTS / "report-export-en.png")
    text = path.read_bytes().decode("utf-8-sig")
    assert text.startswith("About,Value\r\n") and "\r\nSummary\r\n" in text
    assert "\r\nOrders registered,5," in text
