"""诉求分类 in a real browser: an admin sees the demo's GB/T 39666 codes as a tree, adds
a class, is refused retiring a class an item uses (the item named), imports a CSV file
(a bad one refused with its lines, then a good one), and picks an item's class in
服务目录's dialog, in Chinese and English. The system is browser_support's.
Screenshots go to ``tests/artifacts/admin/``."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from tests.browser_support import (
    ARTIFACTS,
    Stack,
    needs_chromium,
    settled,
    shoot,
    switch_language,
)
from tests.factories import free_major_class
from tests.test_admin_browser import admin_of
from wiring.seed import seed_classifications

pytestmark = needs_chromium

SHOTS = ARTIFACTS / "admin"


async def test_an_admin_keeps_the_classification_tree_and_maps_an_item(
    consoles: Stack,
    tmp_path: Path,
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await admin_of(consoles)
    async with consoles.pool.acquire() as conn:
        await seed_classifications(conn)
    major = await free_major_class(consoles.pool)
    p = major[:2]

    page = await consoles.console("admin")
    await page.locator("[data-test=menu] a[href='#/admin/classifications']").click()
    tree = page.locator("[data-test=cls-tree]")
    await expect(tree).to_contain_text("公用事业")
    await expect(tree).to_contain_text("水表计量")  # minor classes shown, the tree open
    await shoot(page, SHOTS / "classifications-zh.png", full_page=True)

    # A new major class.
    await page.locator("[data-test=cls-new]").click()
    dialog = page.locator(".el-dialog:visible")
    await dialog.locator("[data-test=cls-code] input, input[data-test=cls-code]").fill(major)
    await dialog.locator("[data-test=cls-name-zh] input, input[data-test=cls-name-zh]").fill(
        "测试大类"
    )
    await dialog.locator("[data-test=cls-save]").click()
    await expect(page.locator(f"[data-test=cls-{major}]")).to_be_visible()

    # W01 is mapped to 020102: retiring it is refused, naming the item.
    await page.locator("[data-test=cls-toggle-020102]").click()
    refusal = page.locator(".refusal-box")
    await expect(refusal).to_contain_text("W01")
    await settled(page)
    await shoot(page, SHOTS / "classification-refused-zh.png")
    await refusal.locator(".el-button--primary").click()

    # A file with bad lines is refused with them; a good one is checked, then imported.
    await page.locator("[data-test=cls-import]").click()
    importer = page.locator(".el-dialog:visible")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"code,name_zh,name_en\n{p}0100,中类,Middle\n{p}01,短,Short\n", "utf-8")
    await importer.locator("input[data-test=cls-file]").set_input_files(bad)
    errors = importer.locator("[data-test=cls-errors]")
    await expect(errors).to_contain_text("编码为六位数字")
    await expect(importer.locator("[data-test=cls-import-save]")).to_be_disabled()
    await settled(page)
    await shoot(page, SHOTS / "classification-import-refused-zh.png")
    good = tmp_path / "good.csv"
    good.write_text(
        f"\ufeffcode,name_zh,name_en\n{p}0100,导入中类,Imported middle\n"
        f"{p}0101,导入小类,Imported minor\n",
        "utf-8",
    )
    await importer.locator("input[data-test=cls-file]").set_input_files(good)
    await expect(importer.locator("[data-test=cls-checked]")).to_contain_text("新增 2 个")
    await importer.locator("[data-test=cls-import-save]").click()
    await expect(tree).to_contain_text("导入小类")
    assert (
        await consoles.pool.fetchval(
            "SELECT count(*) FROM admin_changes WHERE entity = 'classification'"
            " AND action = 'import'"
            " AND entity_key LIKE $1",
            p + "%",
        )
        == 2
    )

    # 服务目录: W01's class is picked in its dialog.
    await page.locator("[data-test=menu] a[href='#/admin/catalogue']").click()
    await page.locator("input[data-test=item-search]").fill("W01")
    row = page.locator("[data-test=items] tr", has=page.get_by_text("W01", exact=True))
    await expect(row.locator("[data-test=item-class-W01]")).to_have_text("020102")
    await row.locator("[data-test=item-edit]").click()
    dialog = page.locator(".el-dialog:visible")
    await expect(dialog.locator("[data-test=item-classification]")).to_contain_text(
        "020102 公用事业 › 供水 › 水表计量"
    )
    await dialog.locator("[data-test=item-classification]").click()
    await page.locator(".el-select-dropdown__item:visible", has_text=f"{p}0101").click()
    await settled(page)
    await shoot(page, SHOTS / "item-classification-zh.png")
    await dialog.locator("[data-test=item-save]").click()
    await expect(row.locator("[data-test=item-class-W01]")).to_have_text(f"{p}0101")
    assert (
        await consoles.pool.fetchval(
            "SELECT classification_code FROM service_items WHERE code = 'W01'"
        )
        == f"{p}0101"
    )

    await switch_language(page)
    await page.locator("[data-test=menu] a[href='#/admin/classifications']").click()
    await expect(tree).to_contain_text("Public utilities")
    await expect(tree).to_contain_text("Imported minor")
    await shoot(page, SHOTS / "classifications-en.png", full_page=True)
    await page.locator("[data-test=cls-toggle-020101]").click()
    await expect(refusal).to_contain_text("W02, W03, W04; map them to another class first")
    await refusal.locator(".el-button--primary").click()
    await page.locator("[data-test=cls-import]").click()
    await settled(page)
    await shoot(page, SHOTS / "classification-import-en.png")
