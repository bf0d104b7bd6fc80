"""The working calendar's administration in a real browser: an administrator imports a
file, sees the check's errors before saving, imports the notice, and confirms the year
once it is complete, in Chinese and English. The system is browser_support's, on a
database of this module's own. Screenshots: ``tests/artifacts/calendar-*-{zh,en}.png``."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.async_api import expect

from tests.browser_support import ARTIFACTS, Stack, needs_chromium
from tests.factories import make_user
from tests.test_calendar_admin import NOTICE, official_2027

pytestmark = needs_chromium


async def test_an_administrator_imports_checks_and_confirms_a_year(
    consoles: Stack,
    tmp_path: Path,
) -> None:
    system = consoles
    without_dragon_boat = tmp_path / "2027-draft.csv"
    without_dragon_boat.write_text(
        "date,type,name\n"
        + "".join(
            f"{d['date']},{'workday' if d['workday'] else 'holiday'},{d['name']}\n"
            for d in official_2027()["days"]
            if not d["name"].startswith("端午节")
        ),
        encoding="utf-8",
    )
    notice = tmp_path / "2027.json"
    notice.write_text(json.dumps(official_2027(), ensure_ascii=False), encoding="utf-8")
    async with system.pool.acquire() as conn:
        system.users["admin"], _ = await make_user(conn, "admin")
    page = await system.console("admin")
    await page.locator("[data-test=menu] a", has_text="工作日历").click()
    await expect(page.locator("[data-test=cal-state-2027]")).to_have_text("待确认")
    await expect(page.locator("[data-test=cal-state-2026]")).to_have_text("已确认")
    await expect(page.locator("[data-test=cal-year-state]")).to_have_text("待确认")
    # The projection's 端午节 is one day; the confirm button waits for the notice.
    await expect(page.locator("[data-test=cal-day-2027-06-09]")).to_have_class(
        "cal-day cal-holiday"
    )
    await expect(page.locator("[data-test=cal-day-2027-06-10]")).to_have_class("cal-day")
    confirm = page.locator("[data-test=cal-confirm]")
    await expect(confirm).to_be_enabled()

    await page.locator("[data-test=cal-import]").click()
    await page.locator("[data-test=cal-file]").set_input_files(str(without_dragon_boat))
    await expect(page.locator("[data-test=cal-check-error]")).to_contain_text("端午节 没有放假安排")
    await page.wait_for_timeout(400)  # the dialog's opening transition
    await page.screenshot(path=ARTIFACTS / "calendar-check-zh.png")
    await page.locator("[data-test=cal-file]").set_input_files(str(notice))
    await expect(page.locator("[data-test=cal-check-ok]")).to_be_visible()
    await expect(page.locator("[data-test=cal-check-error]")).to_have_count(0)
    await expect(page.locator("[data-test=cal-import-source]")).to_have_value(NOTICE)
    await page.locator("[data-test=cal-import-save]").click()

    await expect(page.locator("[data-test=cal-day-2027-06-10]")).to_have_class(
        "cal-day cal-holiday"
    )
    await expect(page.locator("[data-test=cal-day-2027-06-13]")).to_have_class("cal-day cal-makeup")
    await confirm.click()
    await expect(page.locator("[data-test=cal-confirm-source]")).to_have_value(NOTICE)
    await page.locator("[data-test=cal-confirm-save]").click()
    await expect(page.locator("[data-test=cal-year-state]")).to_have_text("已确认")
    await expect(page.locator("[data-test=cal-state-2027]")).to_have_text("已确认")
    await expect(confirm).to_be_disabled()
    stored = await system.pool.fetchrow(
        "SELECT y.state, y.source, u.username FROM calendar_years y"
        " JOIN users u ON u.id = y.confirmed_by WHERE y.year = 2027"
    )
    assert (stored["state"], stored["source"]) == ("confirmed", NOTICE)
    assert stored["username"] == system.users["admin"]
    await expect(page.locator(".el-message")).to_have_count(0, timeout=10000)
    await page.screenshot(path=ARTIFACTS / "calendar-year-zh.png", full_page=True)

    await page.locator(".topbar [data-test=lang]").click()
    await expect(page.locator("[data-test=cal-year-state]")).to_have_text("Confirmed")
    await page.screenshot(path=ARTIFACTS / "calendar-year-en.png", full_page=True)
    await page.locator("[data-test=cal-import]").click()
    await page.locator("[data-test=cal-file]").set_input_files(str(without_dragon_boat))
    await expect(page.locator("[data-test=cal-check-error]")).to_contain_text(
        "端午节 has no day off"
    )
    await page.wait_for_timeout(400)
    await page.screenshot(path=ARTIFACTS / "calendar-check-en.png")
