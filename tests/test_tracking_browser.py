"""The progress lookup in Chromium on a 390 px phone, in Chinese and English, and printed.
Screenshots in tests/artifacts/track-*: looked at, not compared."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, async_playwright, expect

from hotline.settings import Settings
from tests.browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PHONE, no_sideways_scroll
from tests.routing_support import Desk, open_desks, settle
from tests.test_tracking import _no_counts_left, dispatched_order  # noqa: F401 (a fixture)
from tests.test_twilio_intake import mobile


@pytest.fixture
async def desks(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[dict[str, Desk]]:
    async with open_desks(server, pool, "agent", "water") as opened:
        yield opened


async def shot(page: Page, name: str) -> None:
    await no_sideways_scroll(page)
    await page.screenshot(path=ARTIFACTS / f"track-{name}.png", full_page=True)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
async def test_a_citizen_follows_an_order_on_a_phone_in_both_languages(
    server: TestServer, desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    phone = mobile()
    order, dispatch = await dispatched_order(desks, pool, settings, phone)
    unit = desks["water"]
    await unit.post(f"/api/v1/dispatches/{dispatch}/sign-for")
    await unit.post(
        f"/api/v1/dispatches/{dispatch}/notes",
        {"text": "已联系您预约明天上午 9 点到 11 点上门校验水表，请家中留人。", "public": True},
    )
    ARTIFACTS.mkdir(exist_ok=True)
    base = str(server.make_url("/track"))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            on_a_phone: dict[str, Any] = PHONE
            context = await browser.new_context(**on_a_phone)
            page = await context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            await page.goto(base)
            await expect(page.locator("h1")).to_have_text("工单查询")
            await shot(page, "form-zh")
            await page.locator("[data-test=by-phone] [data-test=number]").fill(order["number"])
            await page.locator("[data-test=phone]").fill(phone.removeprefix("+86"))
            await page.locator("[data-test=by-phone] [data-test=look]").click()
            await expect(page.locator("[data-test=status]")).to_have_text("承办单位正在办理")
            await expect(page.locator("[data-test=fact-agency]")).to_contain_text("青岛水务集团")
            await expect(page.locator("[data-test=entry]")).to_have_count(4)
            await expect(page.locator("[data-test=limits]")).to_contain_text("前办结")
            await shot(page, "order-zh")

            await page.locator("[data-test=kind-persists]").check()
            await page.locator("[data-test=text]").fill("今天上午水表还是转得很快，家里没有用水。")
            await page.locator("[data-test=send]").click()
            await expect(page.locator("[data-test=notice]")).to_contain_text("已记入工单")
            await expect(page.locator("[data-test=entry]").last).to_contain_text(
                "您反映问题仍未解决"
            )

            await page.locator("[data-test=language]").click()
            await expect(page.locator("html")).to_have_attribute("lang", "en")
            await expect(page.locator("[data-test=status]")).to_have_text(
                "the responsible unit is working on it"
            )
            await expect(page.locator("[data-test=entry]").last).to_contain_text(
                "You said the problem persists"
            )
            await shot(page, "order-en")

            await page.goto(base + "?lang=en")
            await expect(page.locator("h1")).to_have_text("Track your order")
            await page.locator("[data-test=code-number]").fill(order["number"])
            await page.locator("[data-test=send-code]").click()
            await expect(page.locator("[data-test=enter-code]")).to_be_visible()
            await shot(page, "code-en")
            assert errors == []  # the CSP lets the stylesheets in; nothing else loads
            await context.close()

            # Printed: the timeline whole, no forms.
            context = await browser.new_context()
            page = await context.new_page()
            await page.goto(base)
            await page.locator("[data-test=by-phone] [data-test=number]").fill(order["number"])
            await page.locator("[data-test=phone]").fill(phone)
            await page.locator("[data-test=by-phone] [data-test=look]").click()
            await page.emulate_media(media="print")
            await expect(page.locator("[data-test=follow-up]")).to_be_hidden()
            await expect(page.locator("[data-test=timeline]")).to_be_visible()
            await page.screenshot(path=ARTIFACTS / "track-print-zh.png", full_page=True)
            await context.close()
        finally:
            await browser.close()
    await settle(pool, settings)  # the code asked for is made and sent, as it would be
