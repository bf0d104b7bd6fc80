"""Exports in a real browser (issue 18): an agent exports the orders of the current
search from #/orders as XLSX, follows it in "My exports" and downloads the file; in
English, as CSV. The files are read back: every order of the search (more than the page
shown), Chinese as written, headers in the console's language. The system is
browser_support's (web, a worker and the relay), on a database of this module's own.
Screenshots go to ``tests/artifacts/exports/``."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import openpyxl
from playwright.async_api import Page, expect

from tests.browser_support import ARTIFACTS, Stack, needs_chromium, shoot, switch_language
from tests.test_twilio_intake import mobile

pytestmark = needs_chromium

SHOTS = ARTIFACTS / "exports"
PLACES = ["宁夏路", "延安三路", "香港中路", "闽江路", "山东路"]


async def register_orders(system: Stack, phone: str) -> list[dict[str, Any]]:
    desk = await system.api(system.users["agent"])
    try:
        return [
            await desk.post(
                "/api/v1/orders",
                {
                    "hotline": "96111",
                    "service_item": "W05",
                    "area": "370202",
                    "caller_phone": phone,
                    "caller_name": "王先生",
                    "address": f"{place}{i + 3}号",
                    "description": f"{place}{i + 3}号门口水管漏水，水流到人行道上",
                },
                status=201,
            )
            for i, place in enumerate(PLACES)
        ]
    finally:
        await desk.client.close()


async def export_and_download(page: Page, file_format: str, into: Path) -> Path:
    """Export the current search as ``file_format`` (xlsx, csv), wait in "My exports"
    until its file is written (the newest row names a file of that format), download it."""
    await page.locator("[data-test=export-toggle]").click()
    await page.locator(f"[data-test=export-{file_format}]").click()
    row = page.locator("[data-test=exports] [data-test=export-row]").first
    await expect(row).to_contain_text(f".{file_format}", timeout=30000)
    link = row.locator("[data-test=export-download]")
    # The list opens when the export starts; a click elsewhere meanwhile closes it, and
    # then the user opens it again, as here.
    if not await page.locator("[data-test=exports]").is_visible():
        await page.locator("[data-test=exports-toggle]").click()
    await expect(link).to_be_visible(timeout=30000)
    async with page.expect_download() as download_info:
        await link.click()
    download = await download_info.value
    path = into / download.suggested_filename
    await download.save_as(path)
    return path


async def test_an_agent_exports_the_search_and_downloads_it_in_both_languages(
    consoles: Stack,
    tmp_path: Path,
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone = mobile()
    orders = await register_orders(consoles, phone)
    page = await consoles.console("agent")
    # Two a page: the export has them all.
    await page.goto(f"{consoles.base}/#/orders?q={phone.removeprefix('+86')}&limit=2")
    await expect(page.locator("[data-test=results] [data-test=result-number]")).to_have_count(2)

    path = await export_and_download(page, "xlsx", tmp_path)
    assert path.name.startswith("工单-") and path.suffix == ".xlsx"
    await expect(page.locator("[data-test=exports]")).to_contain_text("共 5 条")
    await shoot(page, SHOTS / "agent-exports-zh.png")
    sheet = openpyxl.load_workbook(path).worksheets[0]
    header, *body = [[c.value for c in row] for row in sheet.iter_rows()]
    assert header[0] == "工单编号" and "诉求内容" in header
    assert [r[0] for r in body] == [o["number"] for o in reversed(orders)]
    assert body[-1][header.index("诉求内容")] == orders[0]["description"]
    assert body[0][header.index("来电号码")] == phone

    await page.keyboard.press("Escape")
    await switch_language(page)
    await expect(page.locator("[data-test=export-toggle]")).to_have_text("Export")
    path = await export_and_download(page, "csv", tmp_path)
    assert path.name.startswith("orders-") and path.suffix == ".csv"
    await expect(page.locator("[data-test=exports]")).to_contain_text("5 rows")
    await shoot(page, SHOTS / "agent-exports-en.png")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert header[0] == "Order number"
    assert {r[0] for r in rows} == {o["number"] for o in orders}
    assert rows[0][header.index("Address")] == f"{PLACES[-1]}7号"
    # The whole number, kept as text for Excel ('+ would start a formula).
    assert rows[0][header.index("Caller's phone")] == "'" + phone
