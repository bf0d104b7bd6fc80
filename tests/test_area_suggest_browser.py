"""The area picker of the agent console's order entry, prefilled from the address (issue
16, item 4) in a real browser: marked as a suggestion with its reason until confirmed,
and never replacing an area the agent picked by hand. Uses the consoles' stack
(``tests/browser_support.py``); screenshots go to ``tests/artifacts/``."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser_support import ARTIFACTS, Stack
from wiring.seed import seed_roads


async def _orders_on(stack: Stack, street: str, address: str, count: int) -> None:
    desk = await stack.api(stack.users["agent"])
    try:
        for _ in range(count):
            await desk.post(
                "/api/v1/orders",
                {
                    "hotline_code": "96111",
                    "service_item_code": "W05",
                    "area_code": street,
                    "address": address,
                    "description": "楼下水管漏水",
                },
                status=201,
            )
    finally:
        await desk.client.close()


async def test_the_area_picker_is_prefilled_from_the_address_and_confirmed(
    consoles: Stack,
) -> None:
    async with consoles.pool.acquire() as conn:
        await seed_roads(conn)
    await _orders_on(consoles, "370202006", "香港中路 8 号", 2)
    agent = await consoles.console("agent")
    await agent.locator("[data-test=description]").fill("楼下水管漏水，水流了一地")
    address = agent.locator("[data-test=address]")
    await address.fill("市南区香港中路10号3单元")

    line = agent.locator("[data-test=area-suggestion]")
    await expect(line.locator("[data-test=area-suggested]")).to_have_text("建议")
    await expect(line).to_contain_text("依据：香港中路（2 张工单）")
    picker = agent.locator(".area-picker input")
    await expect(picker).to_have_value("市南区 / 香港中路街道")
    await agent.screenshot(path=ARTIFACTS / "agent-area-suggestion-zh.png")

    # Enter in the address confirms the suggestion (and does not save the order).
    await address.press("Enter")
    await expect(line.locator("[data-test=area-confirmed]")).to_have_text("已确认")
    await expect(picker).to_have_value("市南区 / 香港中路街道")
    # Confirmed, it stays when the address changes.
    await address.fill("俺家在福州北路那边")
    await expect(line.locator("[data-test=area-alternative]").first).to_contain_text("浮山新区街道")
    await expect(picker).to_have_value("市南区 / 香港中路街道")

    await agent.locator(".topbar [data-test=lang]").click()
    await expect(line).to_contain_text("Suggested:")
    await expect(line.locator("[data-test=area-alternative]").first).to_contain_text(
        "Fushanxinqu Subdistrict"
    )


async def test_an_area_picked_by_hand_is_kept_and_a_road_in_two_districts_asks(
    consoles: Stack,
) -> None:
    async with consoles.pool.acquire() as conn:
        await seed_roads(conn)
    agent = await consoles.console("agent")
    picker = agent.locator(".area-picker input")
    line = agent.locator("[data-test=area-suggestion]")
    address = agent.locator("[data-test=address]")

    # 天津路 is in 市南 and in 平度: nothing is prefilled, the agent chooses.
    await address.fill("天津路5号")
    await expect(line.locator("[data-test=area-unsure]")).to_contain_text("多个区市都有天津路")
    await expect(line.locator("[data-test=area-alternative]")).to_have_count(2)
    await expect(picker).to_have_value("")
    await agent.screenshot(path=ARTIFACTS / "agent-area-choose-zh.png")
    await line.locator("[data-test=area-alternative][data-code='370283002']").click()
    await expect(picker).to_have_value("平度市 / 凤台街道")

    # Picked by hand in the picker: a suggestion for another address does not replace it.
    await address.fill("")
    await picker.click()
    await picker.fill("湛山")
    await agent.locator(".el-cascader__suggestion-item", has_text="湛山街道").click()
    await expect(picker).to_have_value("市南区 / 湛山街道")
    await address.fill("李沧区九水路")
    await expect(line.locator("[data-test=area-alternative]").first).to_contain_text("九水街道")
    await expect(picker).to_have_value("市南区 / 湛山街道")
    await expect(line.locator("[data-test=area-suggested]")).to_have_count(0)
