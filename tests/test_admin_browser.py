"""The left-hand menu and the administrators' screens in a real browser (issue 19,
item 3): an admin signs in, makes an enterprise user (the generated password shown
once), sets its password by hand, and the new user signs in to the enterprise's menu;
each role's menu; an API key made and revoked; in Chinese and English and at 390 px.
The system is browser_support's, on a database of this module's own. Screenshots
go to ``tests/artifacts/admin/``."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser_support import (
    ARTIFACTS,
    PHONE,
    Stack,
    needs_chromium,
    no_sideways_scroll,
    settled,
    shoot,
    switch_language,
)
from tests.factories import PASSWORD, make_user, unique

pytestmark = needs_chromium

SHOTS = ARTIFACTS / "admin"

# Each role's menu: its groups and the links under them, in order.
MENUS = {
    "agent": ["#/agent", "#/outages", "#/orders", "#/knowledge"],
    "supervisor": [
        "#/agent",
        "#/board",
        "#/outages",
        "#/rules",
        "#/orders",
        "#/reports",
        "#/rankings",
        "#/notices",
        "#/hot",
        "#/knowledge",
        "#/suggest",
    ],
    "water": ["#/unit", "#/orders", "#/knowledge"],
    "admin": [
        "#/board",
        "#/outages",
        "#/rules",
        "#/orders",
        "#/reports",
        "#/rankings",
        "#/notices",
        "#/hot",
        "#/knowledge",
        "#/admin/users",
        "#/admin/integrations",
        "#/admin/exchange",
        "#/admin/callers",
        "#/admin/enterprises",
        "#/admin/areas",
        "#/admin/catalogue",
        "#/admin/classifications",
        "#/admin/calendar",
        "#/notifications",
        "#/suggest",
        "#/admin/changes",
    ],
}


@pytest.fixture(autouse=True)
def shots() -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)


async def admin_of(system: Stack) -> str:
    if "admin" not in system.users:
        async with system.pool.acquire() as conn:
            username, _ = await make_user(conn, "admin")
            await conn.execute(
                "UPDATE users SET display_name = '赵敏' WHERE username = $1", username
            )
        system.users["admin"] = username
    return system.users["admin"]


async def menu_links(page: Page) -> list[str]:
    return [
        str(await a.get_attribute("href")) for a in await page.locator("[data-test=menu] a").all()
    ]


async def choose(page: Page, select: str, option: str) -> None:
    await page.locator(select).click()
    await page.locator(".el-select-dropdown__item:visible", has_text=option).click()


async def sign_in(page: Page, base: str, username: str, password: str) -> None:
    await page.goto(base + "/")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(password)
    await page.locator("[data-test=login-submit]").click()
    await expect(page.locator("[data-test=live-state].connected")).to_be_visible(timeout=10000)


async def test_each_role_sees_its_own_menu(
    consoles: Stack,
) -> None:
    await admin_of(consoles)
    for name, links in MENUS.items():
        page = await consoles.console(name)
        await expect(page.locator("[data-test=menu]")).to_be_visible()
        assert await menu_links(page) == links, name
        await page.context.close()


async def test_an_admin_makes_an_enterprise_user_who_signs_in_to_its_menu(
    consoles: Stack,
) -> None:
    await admin_of(consoles)
    page = await consoles.console("admin")
    await page.locator("[data-test=menu] a[href='#/admin/users']").click()
    await expect(page.locator("[data-test=users]")).to_be_visible()

    username = unique("liu-")
    await page.locator("[data-test=user-new]").click()
    dialog = page.locator(".el-dialog:visible")
    await dialog.locator("input[name=new-username]").fill(username)
    await dialog.locator("input[name=display-name]").fill("刘晓东")
    await choose(page, "[data-test=user-role]", "承办单位")
    await choose(page, "[data-test=user-enterprise]", "青岛水务集团")
    await settled(page)
    await shoot(page, SHOTS / "user-new-zh.png")
    await dialog.locator("[data-test=user-save]").click()

    # The generated password, shown once.
    created = page.locator(".el-dialog:visible", has=page.locator("[data-test=secret]"))
    secret = await created.locator("[data-test=secret]").inner_text()
    assert len(secret) >= 12
    await settled(page)
    await shoot(page, SHOTS / "user-created-zh.png")
    await created.locator("button", has_text="我已记下").click()

    # The administrator sets a password of their own choosing instead.
    row = page.locator("[data-test=users] tr", has=page.get_by_text(username, exact=True))
    await expect(row).to_contain_text("刘晓东")
    await row.locator("[data-test=user-password]").click()
    reset = page.locator(".el-dialog:visible")
    await reset.locator("[data-test=password-set]").click()
    await reset.locator("input[name=reset-password]").fill(PASSWORD)
    await reset.locator("[data-test=password-save]").click()
    await expect(page.locator(".el-message--success")).to_be_visible()

    # The new user signs in with it and gets the enterprise's menu.
    unit = await consoles.page("new unit user")
    await sign_in(unit, consoles.base, username, PASSWORD)
    assert await menu_links(unit) == MENUS["water"]
    await expect(unit).to_have_url(f"{consoles.base}/#/unit")
    await shoot(unit, SHOTS / "unit-menu-zh.png")

    # Disabled by the administrator: the open page is signed out.
    await row.locator("[data-test=user-disable]").click()
    await page.locator(".el-message-box .el-button--primary").click()
    await expect(row).to_contain_text("已停用")
    await unit.reload()
    await expect(unit.locator("[data-test=login-submit]")).to_be_visible()

    history = await consoles.pool.fetch(
        "SELECT action FROM admin_changes WHERE entity = 'user' AND entity_key = "
        "(SELECT id::text FROM users WHERE username = $1) ORDER BY id",
        username,
    )
    assert [r["action"] for r in history] == ["create", "password", "disable"]

    # The change history, in English.
    await switch_language(page)
    await page.locator("[data-test=menu] a[href='#/admin/users']").click()
    await expect(page.locator("[data-test=users]")).to_contain_text("Disabled")
    await shoot(page, SHOTS / "users-en.png")
    await page.locator("[data-test=menu] a[href='#/admin/changes']").click()
    await expect(page.locator("[data-test=change-action]").first).to_have_text("Disable")
    await shoot(page, SHOTS / "changes-en.png")
    await switch_language(page)


async def test_an_api_key_is_made_shown_once_and_revoked(
    consoles: Stack,
) -> None:
    await admin_of(consoles)
    page = await consoles.console("admin")
    await page.locator("[data-test=menu] a[href='#/admin/integrations']").click()
    await choose(page, "[data-test=integration-enterprise]", "青岛水务集团")
    await page.locator("[data-test=key-name]").fill("营业厅系统")
    await page.locator("[data-test=key-new]").click()
    key = await page.locator("[data-test=api-keys] [data-test=secret]").inner_text()
    assert key.startswith("hlk_")
    async with consoles.session.get(
        consoles.base + "/api/v1/orders", headers={"Authorization": f"Bearer {key}"}
    ) as response:
        assert response.status == 200
    await shoot(page, SHOTS / "api-key-zh.png", full_page=True)

    await page.locator("[data-test=key-revoke]:visible").first.click()
    await page.locator(".el-message-box .el-button--primary").click()
    await expect(page.locator("[data-test=api-keys]")).to_contain_text("已于")
    async with consoles.session.get(
        consoles.base + "/api/v1/orders", headers={"Authorization": f"Bearer {key}"}
    ) as response:
        assert response.status == 401
    await switch_language(page)
    await expect(page.locator("[data-test=api-keys]")).to_contain_text("Revoked")
    await shoot(page, SHOTS / "api-key-en.png", full_page=True)
    await switch_language(page)


async def test_the_menu_folds_and_is_a_drawer_on_a_phone(
    consoles: Stack,
) -> None:
    await admin_of(consoles)
    page = await consoles.console("admin")
    # Folded to its icons on a wide screen, and remembered.
    await page.locator("[data-test=menu-toggle]").click()
    await expect(page.locator(".side")).to_have_css("width", "56px")
    await shoot(page, SHOTS / "menu-folded-zh.png")
    await page.reload()
    await expect(page.locator(".side")).to_have_css("width", "56px")
    await page.locator("[data-test=menu-toggle]").click()

    phone = await consoles.console("admin", **PHONE)
    menu = phone.locator("[data-test=menu]")
    await expect(menu).not_to_be_in_viewport()
    await no_sideways_scroll(phone)
    await phone.locator("[data-test=menu-toggle]").tap()
    await expect(menu).to_be_in_viewport()
    await settled(phone)
    await shoot(phone, SHOTS / "phone-menu-zh.png")
    await phone.locator("[data-test=menu] a[href='#/admin/users']").tap()
    await expect(menu).not_to_be_in_viewport()
    await expect(phone.locator("[data-test=users]")).to_be_visible()
    await no_sideways_scroll(phone)
    await shoot(phone, SHOTS / "phone-users-zh.png")
    await phone.locator(".topbar [data-test=lang]").tap()
    await phone.locator("[data-test=menu-toggle]").tap()
    await expect(menu).to_contain_text("Administration")
    await settled(phone)
    await shoot(phone, SHOTS / "phone-menu-en.png")
    await phone.locator(".topbar [data-test=lang]").tap()


async def test_caller_profiles_are_found_by_flag_and_edited(
    consoles: Stack,
) -> None:
    admin = await consoles.api(await admin_of(consoles))
    try:
        async with admin.client.patch(
            "/api/v1/callers/13900008888",
            json={"key_account": True, "name": "王建国", "notes": "供热投诉多次，请优先处理"},
            headers={"X-CSRF-Token": admin.csrf},
        ) as response:
            assert response.status == 200, await response.text()
    finally:
        await admin.client.close()
    page = await consoles.console("admin")
    await page.locator("[data-test=menu] a[href='#/admin/callers']").click()
    await choose(page, "[data-test=caller-flag]", "重点客户")
    row = page.locator("[data-test=callers] tr", has_text="+8613900008888")
    await expect(row).to_contain_text("王建国")
    await settled(page)
    await shoot(page, SHOTS / "callers-zh.png")
    await row.locator("button", has_text="编辑").click()
    await expect(page.locator(".el-dialog:visible")).to_contain_text("供热投诉多次")
