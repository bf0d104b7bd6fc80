"""The administrators' screens for reference data in a real browser (issue 19, items 3
and 4): an admin changes an item's limit in 服务目录 (recorded, and told that registered
orders keep theirs), and retiring a street with an open order is refused with the
server's message, in Chinese and English. The system is test_console_browser's.
Screenshots go to ``tests/artifacts/admin/``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.factories import order_in_status, unique
from tests.test_admin_browser import admin_of
from tests.test_console_browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    CHROMIUM,
    Stack,
    consoles,
    settled,
    shoot,
    stack,
    switch_language,
)

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (.ci/run installs it)"
)

SHOTS = ARTIFACTS / "admin"


async def test_an_admin_changes_a_limit_and_is_refused_retiring_a_street_in_use(
    consoles: Stack,  # noqa: F811
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await admin_of(consoles)
    street = unique("9901")
    async with consoles.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO areas (code, parent_code, level, name_zh, name_en)"
            " VALUES ($1, '370202', 'street', '测试街道', 'Test Street')",
            street,
        )
        order = await order_in_status(conn, "registered", dt.datetime.now(dt.UTC))
        await conn.execute(
            "UPDATE work_orders SET area_code = $2 WHERE id = $1", order["id"], street
        )

    page = await consoles.console("admin")
    await page.locator("[data-test=menu] a[href='#/admin/catalogue']").click()
    await page.locator("input[data-test=item-search]").fill("W01")
    row = page.locator("[data-test=items] tr", has=page.get_by_text("W01", exact=True))
    await row.locator("[data-test=item-edit]").click()
    dialog = page.locator(".el-dialog:visible")
    await expect(dialog).to_contain_text("已登记的工单保持登记时的时限")
    amount = dialog.locator(
        "[data-test=amount-resolution] input, input[data-test=amount-resolution]"
    )
    await amount.fill("9")
    await amount.blur()
    await settled(page)
    await shoot(page, SHOTS / "item-edit-zh.png")
    await dialog.locator("[data-test=item-save]").click()
    await expect(row.locator("[data-test=limit-resolution]")).to_have_text("9 工作日")
    # The save's message goes after its time, longer on a busy machine.
    await expect(page.locator(".el-message")).to_have_count(0, timeout=30000)
    await shoot(page, SHOTS / "catalogue-zh.png")
    recorded = await consoles.pool.fetchrow(
        "SELECT before, after FROM admin_changes WHERE entity = 'service_item'"
        " AND entity_key = 'W01' AND action = 'edit' ORDER BY id DESC LIMIT 1"
    )
    assert recorded is not None and recorded["after"]["resolution_amount"] == "9"

    await page.locator("[data-test=menu] a[href='#/admin/areas']").click()
    await page.locator("input[data-test=area-search]").fill(street)
    await page.locator(f"[data-test=area-toggle-{street}]").click()
    refusal = page.locator(".refusal-box")
    await expect(refusal).to_contain_text("该区域仍有 1 张未办结工单")
    await settled(page)
    await shoot(page, SHOTS / "area-refused-zh.png")
    await refusal.locator(".el-button--primary").click()
    assert await consoles.pool.fetchval("SELECT active FROM areas WHERE code = $1", street)

    await switch_language(page)
    await page.locator(f"[data-test=area-toggle-{street}]").click()
    await expect(refusal).to_contain_text("this area still has 1 open orders")
    await settled(page)
    await shoot(page, SHOTS / "area-refused-en.png")
    await refusal.locator(".el-button--primary").click()
    await page.locator("[data-test=menu] a[href='#/admin/catalogue']").click()
    await page.locator("input[data-test=item-search]").fill("W01")
    await expect(row.locator("[data-test=limit-resolution]")).to_have_text("9 working days")
    await shoot(page, SHOTS / "catalogue-en.png")
    await page.locator("[data-test=menu] a[href='#/admin/enterprises']").click()
    await expect(page.locator("[data-test=units]")).to_contain_text("Qingdao")
    await shoot(page, SHOTS / "units-en.png")
    await switch_language(page)
    await expect(page.locator("[data-test=units]")).to_contain_text("青岛")
    await shoot(page, SHOTS / "units-zh.png")
