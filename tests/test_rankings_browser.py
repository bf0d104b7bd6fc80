"""Rankings and notices (通报) in the console, in a real browser: the supervisor reads a
week's ranking with its rank changes, drafts a notice from it, edits and publishes it;
the unit named hears of it live, reads it and marks it read; the supervisor sees who
read it. Printed, the notice is the document alone.

The system is browser_support's (a database of this module's own). Screenshots in
Chinese and English go to ``tests/artifacts/``.
"""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser_support import (
    ARTIFACTS,
    Stack,
    needs_chromium,
    settled,
    shoot,
    switch_language,
)
from tests.test_rankings import make_two_weeks

pytestmark = needs_chromium

WEEK = "period=week&date=2023-05-10"
TITLE = "关于五月第二周三率排名的通报"


async def shoot_whole(page: Page, name: str) -> None:
    await page.evaluate("window.scrollTo(0, 0)")
    await settled(page)
    await shoot(page, ARTIFACTS / name, full_page=True)


async def test_a_notice_goes_from_the_ranking_to_the_unit_that_reads_it(
    consoles: Stack,
) -> None:
    made = await make_two_weeks(consoles.pool)
    water = made["qd-water"]
    unit = await consoles.console("water")
    await unit.goto(f"{consoles.base}/#/unit")
    await expect(unit.locator("[data-test=tab-notices]")).to_be_visible()
    await expect(unit.locator("[data-test=notice-unread-count]")).to_have_count(0)

    boss = await consoles.console("supervisor")
    await boss.goto(f"{consoles.base}/#/rankings?{WEEK}")
    table = boss.locator("[data-test=rank-table]")
    await expect(boss.locator("[data-test=rank-period-text]")).to_contain_text("2023-05-08")
    rows = table.locator(".el-table__body tr")
    # Billing and heat share the first place; water fell from first to third; energy
    # has no score and comes last, unranked.
    await expect(rows).to_have_count(4)
    await expect(rows.nth(0).locator("[data-test=rank-n]")).to_have_text("1")
    await expect(rows.nth(1).locator("[data-test=rank-n]")).to_have_text("1")
    await expect(rows.nth(2)).to_contain_text("青岛水务集团")
    await expect(rows.nth(2).locator("[data-test=rank-change]")).to_have_text("▼2")
    await expect(rows.nth(3).locator("[data-test=rank-n]")).to_have_text("未排名")
    await expect(boss.locator(".rank-page canvas")).to_have_count(1)
    await shoot_whole(boss, "rankings-zh.png")
    # Sorted by the reopen rate instead (lower is better): water is last of the ranked.
    await table.locator("th", has_text="重办率").click()
    await expect(rows.nth(2)).to_contain_text("青岛水务集团")
    await expect(rows.nth(2).locator("[data-test=rank-n]")).to_have_text("3")
    await switch_language(boss)
    await expect(table.locator("th", has_text="Reopened")).to_be_visible()
    await shoot_whole(boss, "rankings-en.png")
    await switch_language(boss)
    await table.locator("th", has_text="三率得分").click()

    # The worst unit by score, drafted.
    await boss.locator("[data-test=draft-notice]").click()
    await boss.locator("[data-test=draft-worst] input").fill("1")
    await boss.locator("[data-test=draft-make]").click()
    await expect(boss).to_have_url(re.compile(r"#/notices/\d+$"))
    title = boss.locator("input[data-test=notice-title-input]")
    await expect(title).to_have_value(re.compile("2023-05-08至2023-05-14"))
    units = boss.locator("[data-test=notice-unit]")
    await expect(units).to_have_count(1)
    await expect(units.first).to_have_attribute("data-unit", str(water))
    orders = units.first.locator("[data-test=notice-order]")
    await expect(orders).to_have_count(2)
    await shoot_whole(boss, "notice-draft-zh.png")

    # Edited: a title of one's own, a line more, the late-completed order dropped.
    await title.fill(TITLE)
    body = boss.locator("textarea[data-test=notice-body-input]")
    await body.fill(await body.input_value() + "\n特此通报。")
    late = units.first.locator(".el-table__row", has_text="逾期办结")
    await late.locator("[data-test=notice-remove-order]").click()
    await expect(orders).to_have_count(1)
    await boss.locator("[data-test=notice-save]").click()
    await expect(boss.locator(".el-message--success")).to_be_visible()
    await boss.locator("[data-test=notice-publish]").click()
    await boss.locator(".el-message-box .el-button--primary").click()
    await expect(boss.locator("[data-test=notice-state]")).to_have_text("已发布")
    await expect(boss.locator("[data-test=notice-title]")).to_have_text(TITLE)
    await expect(boss.locator("[data-test=notice-unit-read]")).to_have_text("未读")

    # The unit hears of it live: the badge, then the list, the notice, marked read.
    await expect(unit.locator("[data-test=notice-unread-count]")).to_have_text("1")
    await unit.locator("[data-test=tab-notices]").click()
    link = unit.locator("[data-test=notice-link]", has_text=TITLE)
    await expect(unit.locator("[data-test=notice-unread]")).to_have_count(1)
    await shoot_whole(unit, "notice-list-unit-zh.png")
    await link.click()
    await expect(unit.locator("[data-test=notice-title]")).to_have_text(TITLE)
    await expect(unit.locator("[data-test=notice-body]")).to_contain_text("特此通报。")
    await expect(unit.locator("[data-test=notice-order]")).to_have_count(1)
    await expect(unit.locator("[data-test=notice-changes]")).to_have_count(0)
    await shoot_whole(unit, "notice-unit-zh.png")
    await unit.emulate_media(media="print")
    await expect(unit.locator(".topbar")).to_be_hidden()
    await expect(unit.locator("[data-test=notice-mark-read]")).to_be_hidden()
    await shoot_whole(unit, "notice-print-zh.png")
    await unit.emulate_media(media="screen")
    await unit.locator("[data-test=notice-mark-read]").click()
    await expect(unit.locator("[data-test=notice-read]")).to_be_visible()
    await switch_language(unit)
    await expect(unit.locator("[data-test=notice-read]")).to_contain_text("Read")
    await shoot_whole(unit, "notice-unit-en.png")
    await switch_language(unit)
    await unit.goto(f"{consoles.base}/#/unit")
    await expect(unit.locator("[data-test=tab-notices]")).to_be_visible()
    await expect(unit.locator("[data-test=notice-unread-count]")).to_have_count(0)

    # The supervisor sees who read it, and every change.
    await boss.reload()
    await expect(boss.locator("[data-test=notice-unit-read]")).to_contain_text("刘洋")
    changes = boss.locator("[data-test=notice-changes] li")
    await expect(changes).to_have_count(4)
    await shoot_whole(boss, "notice-published-zh.png")
    await switch_language(boss)
    await expect(boss.locator("[data-test=notice-unit-read]")).to_contain_text("Read")
    await shoot_whole(boss, "notice-published-en.png")
    await switch_language(boss)
