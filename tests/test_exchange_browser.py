"""The exchange with the 12345 platform in a real browser (docs/exchange.md): an admin
adds a platform under 系统管理 and sees its key and secret once; an order the platform
pushes shows its exchange on the order page, a message the platform could not take
turns up there live with 重发, and on the board; an agent transfers a draft through the
dialog and sees it 已转办. The system is browser_support's (web, worker and relay
running), on a database of this module's own; nothing waits for a retry's backoff.
Screenshots of both languages go to ``tests/artifacts/exchange/``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.async_api import Page, expect

from testkit.platform12345 import FakePlatform
from testkit.twilio import sid
from tests.browser_support import (
    ARTIFACTS,
    Stack,
    needs_chromium,
    settled,
    shoot,
    switch_language,
)
from tests.factories import unique
from tests.test_admin_browser import admin_of, choose
from tests.test_twilio_intake import mobile, sms_params
from tests.waiting import until

pytestmark = needs_chromium

SHOTS = ARTIFACTS / "exchange"
# A public address the API accepts; nothing answers there, so a message to it is retried
# later (never within a test), which is all a transfer here needs.
BASE_URL = "https://12345.qingdao.example/api"


@pytest.fixture(autouse=True)
def shots() -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)


async def add_platform(system: Stack, *, base_url: str) -> dict[str, Any]:
    """A platform on 96111 made through the API by an admin (with its key and secret)."""
    admin = await system.api(await admin_of(system))
    try:
        return dict(
            await admin.post(
                "/api/v1/exchange/platforms",
                {
                    "code": unique("qd12345-"),
                    "name_zh": "青岛市12345热线",
                    "name_en": "Qingdao 12345",
                    "hotline_code": "96111",
                    "base_url": base_url,
                },
                status=201,
            )
        )
    finally:
        await admin.client.close()


async def push(system: Stack, code: str, key: str, secret: str, **more: Any) -> tuple[str, int]:
    """The platform pushes an order; its number and our order's id."""
    number = unique("QD12345-")
    status, answer = await FakePlatform(secret=secret).push(
        f"{system.base}/exchange/v1/{code}/orders",
        {
            "number": number,
            "description": "香港中路100号水表走字太快，怀疑水表不准，请尽快派人校验",
            "caller_name": "市民甲",
            "caller_phone": "13812345678",
            "service_item": "W01",
            "kind": "request",
            "address": "香港中路 100 号",
            **more,
        },
        key=key,
    )
    assert status == 201, answer
    order_id = await system.pool.fetchval(
        "SELECT id FROM work_orders WHERE number = $1", answer["our_number"]
    )
    return number, order_id


async def both_languages(page: Page, name: str) -> None:
    await settled(page)
    await shoot(page, SHOTS / f"{name}-zh.png", full_page=True)
    await switch_language(page)
    await settled(page)
    await shoot(page, SHOTS / f"{name}-en.png", full_page=True)


async def test_an_admin_adds_a_platform_and_sees_its_key_once(
    consoles: Stack,
) -> None:
    await admin_of(consoles)
    page = await consoles.console("admin")
    await page.locator("[data-test=menu] a[href='#/admin/exchange']").click()
    await expect(page.locator("[data-test=platforms]")).to_be_visible()

    code = unique("qd-").lower()
    await page.locator("[data-test=platform-new]").click()
    dialog = page.locator("[data-test=platform-dialog]")
    await dialog.locator("input[name=platform-code]").fill(code)
    await dialog.locator("input[name=platform-name-zh]").fill("青岛市12345政务服务便民热线")
    await dialog.locator("input[name=platform-name-en]").fill("Qingdao 12345 hotline")
    await choose(page, "[data-test=platform-hotline]", "96111")
    await dialog.locator("input[name=platform-base-url]").fill(BASE_URL)
    # A contract that names a field the exchange does not have: the API's 422, shown.
    await dialog.locator("textarea[name=platform-contract]").fill('{"fields": {"nonsense": "x"}}')
    await dialog.locator("[data-test=platform-save]").click()
    await expect(dialog.locator(".exchange-contract .el-form-item__error")).to_be_visible()
    await dialog.locator("textarea[name=platform-contract]").fill('{"events": {"accepted": "QS"}}')
    await dialog.locator("[data-test=platform-save]").click()

    shown = page.locator("[data-test=platform-credentials]")
    secrets = shown.locator("[data-test=secret]")
    await expect(secrets).to_have_count(2)
    key, secret = await secrets.nth(0).inner_text(), await secrets.nth(1).inner_text()
    assert key.startswith("hlx_") and secret
    await settled(page)
    await shoot(page, SHOTS / "credentials-zh.png")
    await shown.locator("[data-test=credentials-noted]").click()
    await expect(page.locator("[data-test=secret]")).to_have_count(0)
    row = page.locator("[data-test=platforms] .el-table__row", has_text=code)
    await expect(row).to_be_visible()
    # Shown once: the page holds neither any more, nor does the list's answer.
    assert key not in await page.content()
    assert secret not in await page.content()

    # The key works: the platform pushes an order with it, and the request is listed.
    await push(consoles, code, key, secret)
    await row.locator("[data-test=platform-requests]").click()
    await expect(page.locator("[data-test=platform-request-list] .el-table__row")).to_have_count(1)
    await page.keyboard.press("Escape")
    await both_languages(page, "platforms")

    # Renewed (in English): new credentials, shown once too.
    await row.locator("[data-test=platform-renew]").click()
    await page.locator(".el-message-box__btns .el-button--primary").click()
    await expect(shown.locator("[data-test=secret]")).to_have_count(2)
    assert await shown.locator("[data-test=secret]").nth(0).inner_text() != key
    await settled(page)
    await shoot(page, SHOTS / "credentials-en.png")
    await shown.locator("[data-test=credentials-noted]").click()

    # Switched off from the edit dialog.
    await row.locator("[data-test=platform-edit]").click()
    await page.locator("[data-test=platform-active]").click()
    await page.locator("[data-test=platform-save]").click()
    await expect(row.locator(".el-tag")).to_have_text("Switched off")


async def test_an_orders_exchange_shows_on_its_page_and_a_failed_message_goes_again(
    consoles: Stack,
) -> None:
    # A platform whose address is not set yet: every message to it fails for good at once.
    made = await add_platform(consoles, base_url="")
    now = dt.datetime.now(dt.UTC)
    number, order_id = await push(
        consoles,
        made["code"],
        made["key"],
        made["secret"],
        sign_for_due_at=(now - dt.timedelta(hours=1)).isoformat(),
        resolution_due_at=(now + dt.timedelta(days=2)).isoformat(),
    )
    page = await consoles.console("supervisor")
    await page.goto(f"{consoles.base}/#/orders/{order_id}")
    section = page.locator("[data-test=exchange]")
    await expect(section.locator("[data-test=exchange-number]")).to_have_text(number)
    await expect(section.locator("[data-test=exchange-direction]")).to_have_text("由平台派来")
    # The platform's sign-for due has passed unsigned; its resolution due has not.
    late = section.locator("[data-test=exchange-signFor] + [data-test=exchange-late]")
    await expect(late).to_be_visible()
    await expect(section.locator("[data-test=exchange-late]")).to_have_count(1)

    # A progress note the platform must see: the relay makes it a message, the worker
    # cannot send it, and the page follows live.
    await consoles.pool.execute(
        "INSERT INTO order_events (order_id, type, actor, data) "
        "VALUES ($1, 'dispatch.note', 'test', $2)",
        order_id,
        {"text": "已安排师傅上门校验", "public": True},
    )
    state = section.locator("[data-test=message-state]")
    await expect(state).to_have_attribute("data-state", "failed", timeout=15000)
    await expect(section.locator("[data-test=message-event]")).to_have_text("办理进展")
    failed = page.locator("[data-test=timeline] [data-type='exchange.failed']")
    await expect(failed).to_contain_text("发往平台失败")
    await section.locator(".el-table__expand-icon").first.click()
    await expect(section.locator("[data-test=attempt-result]").first).to_contain_text("address")
    await both_languages(page, "order")

    await section.locator("[data-test=message-retry]").click()
    retried = page.locator("[data-test=timeline] [data-type='exchange.retried']")
    await expect(retried).to_contain_text("Sent to the platform again")
    # It fails again (the address is still missing), and the board says so.
    await until(lambda: _failed_again(consoles, order_id), "the message failed again", 300)
    ours = await consoles.pool.fetchval("SELECT number FROM work_orders WHERE id = $1", order_id)
    board = await consoles.console("supervisor")
    row = board.locator("[data-test=exchange-board] .el-table__row", has_text=made["code"])
    await row.locator("[data-test=exchange-board-failed]").click()
    listed = board.locator("[data-test=exchange-failed] .el-table__row", has_text=ours)
    await expect(listed).to_be_visible()
    await board.keyboard.press("Escape")
    await both_languages(board, "board")


async def _failed_again(system: Stack, order_id: int) -> bool:
    return bool(
        await system.pool.fetchval(
            "SELECT count(*) FROM order_events WHERE order_id = $1 AND type = 'exchange.failed'",
            order_id,
        )
        == 2
    )


DRAFT = "SELECT id FROM work_orders WHERE description = $1 AND status = 'draft'"


async def test_an_agent_transfers_a_draft_and_sees_it_transferred(
    consoles: Stack,
) -> None:
    made = await add_platform(consoles, base_url=BASE_URL)
    body = "请问个体工商户营业执照怎么办理，需要什么材料"
    await consoles.twilio("/twilio/sms", sms_params(sid("SM"), mobile(), "96111", body))

    async def drafted() -> bool:
        return bool(await consoles.pool.fetchval(DRAFT, body))

    await until(drafted, "the SMS made a draft")
    order_id = await consoles.pool.fetchval(DRAFT, body)

    page = await consoles.console("agent")
    await page.goto(f"{consoles.base}/#/orders/{order_id}")
    await page.locator("[data-test=transfer]").click()
    dialog = page.locator("[data-test=transfer-dialog]")
    await choose(page, "[data-test=transfer-platform]", made["code"])
    # The reason is asked for before anything is sent.
    await dialog.locator("[data-test=transfer-submit]").click()
    await expect(dialog.locator(".el-form-item__error")).to_have_text("请填写转办原因")
    await dialog.locator("textarea").fill("属市场监管部门职责")
    # An unclassified draft: the API's refusal is shown as it comes.
    await dialog.locator("[data-test=transfer-submit]").click()
    await expect(page.locator(".el-message--error")).to_contain_text("service_item")
    await settled(page)
    await shoot(page, SHOTS / "transfer-zh.png")
    # The agent picks its item (as the draft dialog does before confirming).
    await consoles.pool.execute(
        "UPDATE work_orders SET service_item_code = 'G-CONSULT', kind = 'consultation' "
        "WHERE id = $1",
        order_id,
    )
    await dialog.locator("[data-test=transfer-submit]").click()

    await expect(page.locator(".page-head .el-tag").first).to_have_text("已转办")
    await expect(page.locator("[data-test=transfer]")).to_have_count(0)
    section = page.locator("[data-test=exchange]")
    await expect(section.locator("[data-test=exchange-direction]")).to_have_text("转办至平台")
    await expect(section.locator("[data-test=message-event]")).to_have_text("转办")
    await expect(page.locator("[data-test=timeline] [data-type='order.transfer']")).to_contain_text(
        "转办"
    )
    await expect(page.locator("[data-test=timeline]")).to_contain_text("属市场监管部门职责")
    await both_languages(page, "transferred")
