"""The status notifications in the order's history, in a real browser: the SMS told to
the caller when the order was dispatched, with its text and the masked number, in
Chinese and English. The system is browser_support's, on a database of this
module's own. Screenshots: ``tests/artifacts/notify-order-{zh,en}.png``."""

from __future__ import annotations

import re

from playwright.async_api import expect

from hotline.phones import mask_phone
from tests.browser_support import ARTIFACTS, Stack, dispatched_order, needs_chromium
from tests.factories import make_user
from tests.test_twilio_intake import mobile
from tests.waiting import until

pytestmark = needs_chromium


async def test_the_order_page_shows_the_sms_the_caller_was_sent(
    consoles: Stack,
) -> None:
    system = consoles
    async with system.pool.acquire() as conn:
        admin, _ = await make_user(conn, "admin")
    desk = await system.api(admin)
    try:
        response = await desk.client.put(
            "/api/v1/notification-settings/96111/default",
            json={"enabled": True, "quiet_start": "00:00", "quiet_end": "00:00"},
            headers={"X-CSRF-Token": desk.csrf},
        )
        assert response.status == 200, await response.text()
    finally:
        await desk.client.close()
    phone = mobile()
    order, _ = await dispatched_order(system, phone)

    async def sent() -> bool:
        return bool(
            await system.pool.fetchval(
                "SELECT count(*) FROM order_events WHERE order_id = $1 AND type = 'notify.sent'",
                order["id"],
            )
        )

    await until(sent, "the dispatch notice is sent")

    page = await system.console("agent")
    await page.goto(f"{system.base}/#/orders/{order['id']}")
    queued = page.locator(".el-timeline-item", has=page.locator("[data-type='notify.queued']"))
    await expect(queued).to_contain_text("短信通知")
    await expect(queued).to_contain_text("派单通知")
    await expect(queued).to_contain_text(order["number"])
    await expect(queued).to_contain_text(mask_phone(phone))
    delivered = page.locator(".el-timeline-item", has=page.locator("[data-type='notify.sent']"))
    await expect(delivered).to_contain_text("短信通知已发出")
    await queued.scroll_into_view_if_needed()
    await page.screenshot(path=ARTIFACTS / "notify-order-zh.png")
    await page.locator(".topbar [data-test=lang]").click()
    await expect(queued).to_contain_text("SMS notice")
    await expect(queued).to_contain_text("Dispatch notice")
    await expect(delivered).to_contain_text("SMS notice sent")
    await page.screenshot(path=ARTIFACTS / "notify-order-en.png")


async def test_an_administrator_turns_a_hotlines_notices_on_and_sees_who_did(
    consoles: Stack,
) -> None:
    system = consoles
    async with system.pool.acquire() as conn:
        system.users["admin"], _ = await make_user(conn, "admin")
    page = await system.console("admin")
    await page.locator(".nav a", has_text="短信通知").click()
    state = page.locator("[data-test=notify-state-96556-default]")
    await expect(state).to_have_text("未启用")
    await page.locator("[data-test=notify-edit-96556-default]").click()
    form = page.locator("[data-test=notify-form]")
    await expect(form.locator("textarea[data-test=notify-text-dispatched]")).to_have_value(
        re.compile(r"\{number\}")
    )
    await form.locator(".el-switch").click()
    await page.wait_for_timeout(400)  # the dialog's opening transition
    await page.screenshot(path=ARTIFACTS / "notify-settings-form-zh.png")
    # A text without the order number is refused with the server's reason.
    text = form.locator("textarea[data-test=notify-text-completed]")
    await text.fill("您的工单已办结。")
    await page.locator("[data-test=notify-save]").click()
    await expect(page.locator(".el-message--error")).to_contain_text("工单编号")
    await text.fill("【{hotline}】工单{number}已办结。")
    await page.locator("[data-test=notify-save]").click()
    await expect(state).to_have_text("已启用")
    stored = await system.pool.fetchrow(
        "SELECT config, updated_by FROM notification_settings"
        " WHERE hotline_code = '96556' AND channel = 'default'"
    )
    assert stored["config"]["enabled"] is True
    assert stored["config"]["templates"]["completed"] == "【{hotline}】工单{number}已办结。"
    assert stored["updated_by"].endswith("(admin)")
    await expect(page.locator(".el-message")).to_have_count(0, timeout=10000)
    await page.screenshot(path=ARTIFACTS / "notify-settings-zh.png")
    await page.locator(".topbar [data-test=lang]").click()
    await expect(state).to_have_text("On")
    await page.screenshot(path=ARTIFACTS / "notify-settings-en.png")
