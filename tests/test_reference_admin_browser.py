"""The administrators' screens for reference data in a real browser (issue 19, items 3
and 4): an admin changes an item's limit in 服务目录 (recorded, and told that registered
orders keep theirs), and retiring a street with an open order is refused with the
server's message, in Chinese and English; a street, a branch and its window are made
and edited from their forms. The system is browser_support's.
Screenshots go to ``tests/artifacts/admin/``."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import Locator, expect

from hotline.reference import queries as ref
from tests.browser_support import (
    ARTIFACTS,
    Stack,
    needs_chromium,
    settled,
    shoot,
    switch_language,
)
from tests.factories import order_in_status, unique
from tests.test_admin_browser import admin_of, choose

pytestmark = needs_chromium

SHOTS = ARTIFACTS / "admin"


async def test_an_admin_changes_a_limit_and_is_refused_retiring_a_street_in_use(
    consoles: Stack,
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


def form_field(form: Locator, label: str) -> Locator:
    """The input of the form item labelled ``label``."""
    return form.locator(".el-form-item", has=form.page.get_by_text(label, exact=True)).locator(
        "input"
    )


async def test_an_admin_creates_and_edits_a_street_a_branch_and_its_window(
    consoles: Stack,
) -> None:
    """The forms send the names the rows answer (parent_code, area_code): a street of
    370202, a branch of a company and the branch's window are made and edited in the
    console, and the rows keep what the forms said."""
    await admin_of(consoles)
    street, company, branch, window = (unique(p) for p in ("9902", "vb-c", "vb-b", "vb-w"))
    street_zh = f"词汇街道{street}"
    async with consoles.pool.acquire() as conn:
        await ref.upsert_enterprise(
            conn,
            {"code": company, "name_zh": f"词汇公司{company}", "name_en": "Vocab Co."},
            kind="company",
            parent_id=None,
        )
    page = await consoles.console("admin")

    await page.locator("[data-test=menu] a[href='#/admin/areas']").click()
    await page.locator("input[data-test=area-search]").fill("370202")
    district = page.locator("[data-test=areas] tr", has=page.get_by_text("370202", exact=True))
    await district.locator(".el-button", has_text="添加街道").click()
    dialog = page.locator(".el-dialog:visible")
    await form_field(dialog, "编码").fill(street)
    await form_field(dialog, "中文名称").fill(street_zh)
    await form_field(dialog, "英文名称").fill("Vocab Street")
    await dialog.locator(".el-button--primary", has_text="保存").click()
    await page.locator("input[data-test=area-search]").fill(street)
    row = page.locator("[data-test=areas] tr", has=page.get_by_text(street, exact=True))
    await row.locator(".el-button", has_text="改名").click()
    await form_field(dialog, "英文名称").fill("Vocab Street A")
    await dialog.locator(".el-button--primary", has_text="保存").click()
    await expect(dialog).to_have_count(0)
    area = await consoles.pool.fetchrow("SELECT * FROM areas WHERE code = $1", street)
    assert (area["parent_code"], area["level"], area["name_en"]) == (
        "370202",
        "street",
        "Vocab Street A",
    )

    await page.locator("[data-test=menu] a[href='#/admin/enterprises']").click()
    await page.locator("[data-test=unit-new]").click()
    await dialog.locator(".el-radio-button", has_text="分支机构").click()
    await form_field(dialog, "编码").fill(branch)
    await choose(page, ".el-dialog:visible .el-form-item:has-text('上级单位') .el-select", company)
    await form_field(dialog, "中文名称").fill("词汇分公司")
    await form_field(dialog, "英文名称").fill("Vocab Branch")
    await dialog.locator(".el-button--primary", has_text="保存").click()
    await page.locator("input[data-test=unit-search]").fill(branch)
    row = page.locator("[data-test=units] tr", has=page.get_by_text(branch, exact=True))
    await expect(row).to_contain_text(f"词汇公司{company}")
    await row.locator(".el-button", has_text="修改").click()
    await form_field(dialog, "英文名称").fill("Vocab Branch A")
    await dialog.locator(".el-button--primary", has_text="保存").click()
    await expect(dialog).to_have_count(0)
    unit = await consoles.pool.fetchrow(
        "SELECT e.name_en, p.code AS parent FROM enterprises e"
        " JOIN enterprises p ON p.id = e.parent_id WHERE e.code = $1",
        branch,
    )
    assert (unit["parent"], unit["name_en"]) == (company, "Vocab Branch A")

    await row.locator(".el-button", has_text="服务窗口").click()
    drawer = page.locator(".el-drawer:visible")
    await drawer.locator(".el-button", has_text="新增窗口").click()
    await form_field(drawer, "编码").fill(window)
    await form_field(drawer, "中文名称").fill("词汇窗口")
    await form_field(drawer, "英文名称").fill("Vocab Window")
    await choose(
        page, ".el-drawer:visible .el-form-item:has-text('所在区域') .el-select", street_zh
    )
    await drawer.locator(".el-form .el-button--primary", has_text="保存").click()
    listed = drawer.locator(".el-table tr", has=page.get_by_text(window, exact=True))
    await expect(listed).to_contain_text(street_zh)
    await listed.locator(".el-button", has_text="修改").click()
    await form_field(drawer, "中文名称").fill("词汇窗口甲")
    await drawer.locator(".el-form .el-button--primary", has_text="保存").click()
    await expect(listed).to_contain_text("词汇窗口甲")
    await shoot(page, SHOTS / "window-edited-zh.png")
    saved = await consoles.pool.fetchrow(
        "SELECT area_code, name_zh FROM service_windows WHERE code = $1", window
    )
    assert (saved["area_code"], saved["name_zh"]) == (street, "词汇窗口甲")
