"""A new enterprise set up from the console alone (issue 19, "Done when"): an administrator
makes the unit, a service item with its time limits, the routing rule sending the item
to the unit, the unit's user with a password, and its API key (read off the page where
it is shown once), and sees the current year's working calendar confirmed, all through
the screens. Then the setup is shown to work: the unit's user signs in to its inbox, an
order of the new item reaches it there, and the key reads that inbox through the
enterprise API. The system is browser_support's, on a database of this module's
own. Screenshots go to ``tests/artifacts/onboarding/``."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import Locator, Page, expect

from tests.browser_support import (
    ARTIFACTS,
    Stack,
    needs_chromium,
    settled,
    shoot,
    switch_language,
)
from tests.factories import PASSWORD, unique
from tests.test_admin_browser import admin_of, choose, sign_in
from tests.test_twilio_intake import mobile
from tests.waiting import until

pytestmark = needs_chromium

SHOTS = ARTIFACTS / "onboarding"
UNIT_ZH = "青岛新区燃气有限公司"
ITEM_ZH = "燃气表箱锈蚀更换"


async def open_screen(page: Page, href: str) -> None:
    await page.locator(f"[data-test=menu] a[href='{href}']").click()


def field(dialog: Locator, label: str) -> Locator:
    """The input of the dialog's form item labelled ``label``."""
    return dialog.locator(".el-form-item", has=dialog.page.get_by_text(label, exact=True)).locator(
        "input"
    )


async def test_an_admin_sets_up_a_new_enterprise_from_the_console_alone(
    consoles: Stack,
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await admin_of(consoles)
    page = await consoles.console("admin")
    unit_code = unique("xq-gas-")
    item_code = unique("G9")
    username = unique("xq-")

    # 单位管理: the unit, for gas.
    await open_screen(page, "#/admin/enterprises")
    await page.locator("[data-test=unit-new]").click()
    dialog = page.locator(".el-dialog:visible")
    await field(dialog, "编码").fill(unit_code)
    await field(dialog, "中文名称").fill(UNIT_ZH)
    await field(dialog, "英文名称").fill("Xinqu Gas Co.")
    await dialog.locator(".el-checkbox", has_text="燃气").click()
    await settled(page)
    await shoot(page, SHOTS / "unit-new-zh.png")
    await dialog.locator(".el-button--primary", has_text="保存").click()
    unit_row = page.locator("[data-test=units] tr", has=page.get_by_text(unit_code, exact=True))
    await expect(unit_row).to_contain_text(UNIT_ZH)
    await expect(unit_row).to_contain_text("燃气")

    # 服务目录: the item, with its limits.
    await open_screen(page, "#/admin/catalogue")
    await page.locator("[data-test=item-new]").click()
    dialog = page.locator(".el-dialog:visible")
    await field(dialog, "编码").fill(item_code)
    await dialog.locator("input[data-test=item-name-zh], [data-test=item-name-zh] input").fill(
        ITEM_ZH
    )
    await field(dialog, "英文名称").fill("Rusted gas meter box")
    await dialog.locator(".el-form-item", has_text="业务类型").locator(".el-select").click()
    await page.locator(".el-select-dropdown__item:visible", has_text="燃气").click()
    for clock, amount in (("sign_for", "1"), ("resolution", "3")):
        limit = dialog.locator(f"[data-test=amount-{clock}] input, input[data-test=amount-{clock}]")
        await limit.fill(amount)
        await limit.blur()
    await settled(page)
    await shoot(page, SHOTS / "item-new-zh.png")
    await dialog.locator("[data-test=item-save]").click()
    await page.locator("input[data-test=item-search]").fill(item_code)
    item_row = page.locator("[data-test=items] tr", has=page.get_by_text(item_code, exact=True))
    await expect(item_row.locator("[data-test=limit-sign_for]")).to_have_text("1 工作小时")
    await expect(item_row.locator("[data-test=limit-resolution]")).to_have_text("3 工作日")

    # 分派规则: the item goes to the unit.
    await open_screen(page, "#/rules")
    await page.locator(".rules-page .page-head .el-button--primary").click()
    dialog = page.locator(".el-dialog:visible")
    await dialog.locator("[data-test=item-select]").click()
    await page.keyboard.type(item_code)
    await page.locator(".el-select-dropdown__item:visible", has_text=ITEM_ZH).click()
    await dialog.locator(".el-form-item", has_text="承办单位").locator(".el-select").click()
    await page.locator(".el-select-dropdown__item:visible", has_text=UNIT_ZH).click()
    await page.keyboard.press("Escape")
    await settled(page)
    await shoot(page, SHOTS / "rule-new-zh.png")
    await dialog.locator(".el-button--primary", has_text="保存").click()
    await expect(page.locator(".rules-page tr", has_text=ITEM_ZH)).to_contain_text(UNIT_ZH)

    # 用户管理: the unit's user, with a password the administrator sets.
    await open_screen(page, "#/admin/users")
    await page.locator("[data-test=user-new]").click()
    dialog = page.locator(".el-dialog:visible")
    await dialog.locator("input[name=new-username]").fill(username)
    await dialog.locator("input[name=display-name]").fill("孙丽")
    await choose(page, "[data-test=user-role]", "承办单位")
    await choose(page, "[data-test=user-enterprise]", UNIT_ZH)
    await dialog.locator("[data-test=user-password-set]").click()
    await dialog.locator("input[name=new-password]").fill(PASSWORD)
    await dialog.locator("[data-test=user-save]").click()
    user_row = page.locator("[data-test=users] tr", has=page.get_by_text(username, exact=True))
    await expect(user_row).to_contain_text(UNIT_ZH)

    # 企业接口: the unit's API key, shown once.
    await open_screen(page, "#/admin/integrations")
    await choose(page, "[data-test=integration-enterprise]", UNIT_ZH)
    await page.locator("[data-test=key-name]").fill("燃气营业系统")
    await page.locator("[data-test=key-new]").click()
    key = await page.locator("[data-test=api-keys] [data-test=secret]").inner_text()
    assert key.startswith("hlk_")
    await settled(page)
    await shoot(page, SHOTS / "api-key-zh.png", full_page=True)

    # 工作日历: this year's days are confirmed, so the limits count working time.
    year = dt.datetime.now(ZoneInfo("Asia/Shanghai")).year
    await open_screen(page, "#/admin/calendar")
    await expect(page.locator(f"[data-test=cal-state-{year}]")).to_have_text("已确认")
    await settled(page)
    await shoot(page, SHOTS / "calendar-zh.png")

    # The proof: the unit's user signs in to its inbox ...
    unit = await consoles.page("new unit")
    await sign_in(unit, consoles.base, username, PASSWORD)
    await expect(unit).to_have_url(f"{consoles.base}/#/unit")
    await expect(unit.locator("[data-test=inbox]")).to_be_visible()

    # ... an order of the new item, registered by an agent, is dispatched there ...
    agent = await consoles.api(consoles.users["agent"])
    try:
        order = await agent.post(
            "/api/v1/orders",
            {
                "hotline": "96111",
                "service_item": item_code,
                "description": "楼道燃气表箱锈蚀严重，箱门已无法关闭",
                "address": "辽阳西路 188 号 3 单元",
                "caller_phone": mobile(),
                "caller_name": "周先生",
            },
            status=201,
        )
    finally:
        await agent.client.close()
    await expect(unit.locator("[data-test=inbox] tr", has_text=order["number"])).to_be_visible(
        timeout=10000
    )
    await settled(unit)
    await shoot(unit, SHOTS / "unit-inbox-zh.png", full_page=True)

    # ... and the key reads the same inbox through the enterprise API.
    seen: list[dict[str, Any]] = []

    async def listed() -> bool:
        async with consoles.session.get(
            consoles.base + "/api/v1/inbox", headers={"Authorization": f"Bearer {key}"}
        ) as response:
            assert response.status == 200, await response.text()
            seen[:] = [r for r in (await response.json())["items"] if r["order_id"] == order["id"]]
        return bool(seen)

    await until(listed, "the new unit's key lists the order in its inbox")
    async with consoles.session.get(
        consoles.base + f"/api/v1/orders/{order['id']}",
        headers={"Authorization": f"Bearer {key}"},
    ) as response:
        assert response.status == 200, await response.text()
        limits = (await response.json())["time_limits"]
    # The order runs on the limits the administrator gave the item.
    assert (limits["sign_for_amount"], limits["sign_for_unit"]) == ("1", "working_hours")
    assert (limits["resolution_amount"], limits["resolution_unit"]) == ("3", "working_days")

    await switch_language(unit)
    row = unit.locator("[data-test=inbox] tr", has_text=order["number"])
    await expect(row).to_contain_text("Rusted gas meter box")
    await expect(row).to_contain_text("Xinqu Gas Co.")
    await shoot(unit, SHOTS / "unit-inbox-en.png", full_page=True)
    await switch_language(unit)
