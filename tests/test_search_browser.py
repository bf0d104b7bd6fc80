"""Finding orders in a real browser (issue 17): the search and list screen, #/orders.

An agent finds orders by a word of their description and by the caller's number,
filters by status, sorts by a column, pages with "load more", saves a filter and applies
it after a reload, and opens an order from the list by mouse and keyboard; the URL
reproduces a search and Back undoes a change; a unit finds its completed orders from its
inbox's link and never another unit's, on a phone. The system is browser_support's,
on a database of this module's own. Screenshots go to ``tests/artifacts/search/``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, Response, expect

from tests.browser_support import (
    ARTIFACTS,
    PHONE,
    Desk,
    Stack,
    dispatched_order,
    needs_chromium,
    no_sideways_scroll,
    shoot,
    switch_language,
)
from tests.test_twilio_intake import mobile
from tests.waiting import until

pytestmark = needs_chromium

SHOTS = ARTIFACTS / "search"
# The centre's clock, in which the search's dates are days.
CHINA = ZoneInfo("Asia/Shanghai")
# The word the agent's orders share in the first test (jieba keeps it whole); each test
# has its own word, so that the orders another test made do not show among its own.
WORD = "消防栓"
PLACES = ["宁夏路", "延安三路", "香港中路", "闽江路", "山东路", "南京路", "燕儿岛路"]
CALLERS = ["王先生", "李女士", "赵阿姨", "陈先生", "刘女士", "孙大爷", "周先生"]


@pytest.fixture(autouse=True)
def shots() -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)


async def register(desk: Desk, **fields: Any) -> dict[str, Any]:
    order: dict[str, Any] = await desk.post(
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": "W05",
            "area": "370202",
            "caller_phone": mobile(),
            **fields,
        },
        status=201,
    )
    return order


async def routed(system: Stack, ids: Iterable[int]) -> None:
    """Until routing has moved every one of the orders on (dispatched, or to the centre's
    coordination for a hard case), so that statuses stay put while the test looks."""

    wanted = list(ids)

    async def done() -> bool:
        moving: int = await system.pool.fetchval(
            "SELECT count(*) FROM work_orders WHERE id = ANY($1::bigint[])"
            " AND status IN ('registered', 'dispatching')",
            wanted,
        )
        return moving == 0

    await until(done, "routing the orders")


async def leak_reports(system: Stack, word: str = WORD) -> list[dict[str, Any]]:
    """Seven orders mentioning the same ``word`` (a hydrant, a manhole cover), two of them
    hard cases (办不成事, at the centre's coordination), registered by the agent in this
    order."""
    agent = await system.api(system.users["agent"])
    try:
        orders = []
        for i, (place, caller) in enumerate(zip(PLACES, CALLERS, strict=True)):
            hard = i in (1, 4)
            orders.append(
                await register(
                    agent,
                    description=f"{place}{i + 10}号门口{word}坏了，水流到人行道上",
                    address=f"{place}{i + 10}号",
                    caller_name=caller,
                    hard_case=hard,
                    tried_elsewhere="街道办说不归他们管" if hard else "",
                )
            )
    finally:
        await agent.client.close()
    await routed(system, (o["id"] for o in orders))
    return orders


def query_of(page: Page) -> dict[str, list[str]]:
    """The search in the page's URL (#/orders?...)."""
    fragment = urlsplit(page.url).fragment
    assert fragment.startswith("/orders"), page.url
    return parse_qs(urlsplit(fragment).query)


async def open_search(page: Page) -> None:
    await page.locator("nav a[href='#/orders']").click()
    await expect(page.locator("[data-test=search-q]")).to_be_visible()


async def search_for(page: Page, text: str) -> None:
    """Type ``text`` and press Enter, until the console's request of it is answered: the
    next step starts from this search (an expectation met by the previous search's page
    would let the next text be typed while this one's URL is still being applied)."""
    box = page.locator("[data-test=search-q]")
    await box.fill(text)

    def asked(response: Response) -> bool:
        url = urlsplit(response.url)
        return url.path == "/api/v1/orders" and parse_qs(url.query).get("q") == [text]

    async with page.expect_response(asked):
        await box.press("Enter")


def result_numbers(page: Page) -> Any:
    return page.locator("[data-test=results] [data-test=result-number]")


async def shows(page: Page, numbers: list[str]) -> None:
    """The results are exactly these orders, in this order."""
    await expect(result_numbers(page)).to_have_text(numbers)


async def choose(page: Page, select: str, option: str) -> None:
    """Pick ``option`` in the Element select ``select`` (its dropdown lives in <body>)."""
    await page.locator(f"[data-test={select}]").click()
    await page.locator(".el-select-dropdown__item:visible", has_text=option).click()


async def test_an_agent_finds_filters_sorts_pages_and_opens_orders(
    consoles: Stack,
) -> None:
    system = consoles
    orders = await leak_reports(system)
    newest_first = [o["number"] for o in reversed(orders)]
    agent = await system.console("agent")
    await open_search(agent)
    # One hotline: nothing to choose there; a unit is the centre's to choose.
    await expect(agent.locator("[data-test=filter-hotline]")).to_have_count(0)
    await expect(agent.locator("[data-test=filter-unit]")).to_have_count(1)

    # A word of the description: every one of them, the latest registered first.
    await search_for(agent, WORD)
    await shows(agent, newest_first)
    assert query_of(agent)["q"] == [WORD]
    await expect(agent.locator("[data-test=loaded]")).to_have_text("已加载 7 条")
    hard = agent.locator(".search-row", has_text=orders[1]["number"])
    await expect(hard.locator("[data-test=flag-hard-case]")).to_have_text("办不成事")
    await expect(hard.locator("[data-test=flag-coordination]")).to_be_visible()
    await expect(agent.locator("[data-test=flag-hard-case]")).to_have_count(2)
    await shoot(agent, SHOTS / "agent-results-zh.png")

    # The caller's number, as the agent heard it: that caller's order only, shown whole.
    phone = orders[3]["caller_phone"]
    await search_for(agent, phone.removeprefix("+86"))
    await shows(agent, [orders[3]["number"]])
    await expect(agent.locator("[data-test=result-phone]")).to_have_text(phone)

    # By status: the two at the centre's coordination.
    await search_for(agent, WORD)
    await shows(agent, newest_first)
    await choose(agent, "filter-status", "协调督办")
    await agent.keyboard.press("Escape")
    await shows(agent, [orders[4]["number"], orders[1]["number"]])
    assert query_of(agent)["status"] == ["escalated"]
    await expect(agent.locator("[data-test=chips] [data-chip=status]")).to_contain_text("协调督办")
    await shoot(agent, SHOTS / "agent-status-zh.png")
    # Back undoes the filter; Forward brings it back.
    await agent.go_back()
    await shows(agent, newest_first)
    await expect(agent.locator("[data-test=chips] [data-chip=status]")).to_have_count(0)
    await agent.go_forward()
    await shows(agent, [orders[4]["number"], orders[1]["number"]])
    # Removing the chip removes the filter.
    await agent.locator("[data-test=chips] [data-chip=status] .el-tag__close").click()
    await shows(agent, newest_first)

    # A page of three at a time, by the API's cursor.
    await agent.goto(f"{system.base}/#/orders?q={WORD}&limit=3")
    await shows(agent, newest_first[:3])
    more = agent.locator("[data-test=load-more]")
    await more.click()
    await shows(agent, newest_first[:6])
    await expect(agent.locator("[data-test=loaded]")).to_contain_text("已加载 6 条")
    await more.click()
    await shows(agent, newest_first)
    await expect(more).to_have_count(0)
    await expect(agent.locator("[data-test=loaded]")).to_have_text("已加载 7 条")

    # English.
    await switch_language(agent)
    await expect(agent.locator("[data-test=loaded]")).to_have_text("7 orders loaded")
    await expect(agent.locator("[data-test=flag-hard-case]").first).to_have_text("Hard case")
    await shoot(agent, SHOTS / "agent-results-en.png")
    await switch_language(agent)

    # Opened with a click on the row, and back to the same search.
    await (
        agent.locator(".search-row", has_text=orders[2]["number"])
        .locator("[data-test=result-description]")
        .click()
    )
    await expect(agent.locator("[data-test=order-number]")).to_have_text(orders[2]["number"])
    assert urlsplit(agent.url).fragment == f"/orders/{orders[2]['id']}"
    await agent.go_back()
    await shows(agent, newest_first[:3])
    await expect(agent.locator("[data-test=search-q]")).to_have_value(WORD)
    # From the keyboard: ↓ from the search box into the results, ↓ again, Enter.
    await agent.locator("[data-test=search-q]").focus()
    await agent.keyboard.press("ArrowDown")
    await agent.keyboard.press("ArrowDown")
    await agent.keyboard.press("Enter")
    await expect(agent.locator("[data-test=order-number]")).to_have_text(newest_first[1])


async def test_the_columns_sort_the_results(
    consoles: Stack,
) -> None:
    system = consoles
    word = "水管"
    orders = await leak_reports(system, word)
    agent = await system.console("agent")
    await agent.goto(f"{system.base}/#/orders?q={word}")
    await shows(agent, [o["number"] for o in reversed(orders)])
    # Sorted by number, from the column's header: descending first, then ascending.
    by_number = sorted(o["number"] for o in orders)
    header = agent.locator("th.col-number")
    await header.click()
    await shows(agent, by_number[::-1])
    assert query_of(agent)["sort"] == ["number"] and query_of(agent)["desc"] == ["true"]
    await header.click()
    await shows(agent, by_number)
    assert query_of(agent)["desc"] == ["false"]
    # The oldest registered first: the registration order.
    await agent.locator("th.col-registered").click()
    await agent.locator("th.col-registered").click()
    await shows(agent, [o["number"] for o in orders])

    # Kept by the link: a reload sorts the same way, the header's arrow with it.
    await agent.reload()
    await shows(agent, [o["number"] for o in orders])
    await expect(agent.locator("th.col-registered")).to_have_class(re.compile("ascending"))


async def test_saved_filters_come_back_after_a_reload(
    consoles: Stack,
) -> None:
    system = consoles
    word = "井盖"
    orders = await leak_reports(system, word)
    agent = await system.console("agent")
    await agent.goto(f"{system.base}/#/orders?q={word}&status=escalated")
    escalated = [o["number"] for o in reversed(orders) if o["hard_case"]]
    await shows(agent, escalated)

    await agent.locator("[data-test=saved-toggle]").click()
    await agent.locator("[data-test=saved-name]").fill("协调中的井盖")
    await agent.locator("[data-test=saved-save]").click()
    saved = agent.locator("[data-test=saved-row][data-name='协调中的井盖']")
    await expect(saved).to_be_visible()
    await shoot(agent, SHOTS / "saved-filters-zh.png")

    await agent.goto(f"{system.base}/#/orders")
    await agent.reload()
    await expect(agent.locator("[data-test=chips]")).to_have_count(0)
    await agent.locator("[data-test=saved-toggle]").click()
    await saved.locator("[data-test=saved-apply]").click()
    await shows(agent, escalated)
    assert query_of(agent)["status"] == ["escalated"] and query_of(agent)["q"] == [word]
    await expect(agent.locator("[data-test=search-q]")).to_have_value(word)

    # Deleting removes it.
    await agent.locator("[data-test=saved-toggle]").click()
    await expect(saved).to_have_count(1)
    await saved.locator("[data-test=saved-delete]").click()
    await expect(saved).to_have_count(0)
    filters = await system.api(system.users["agent"])
    try:
        assert (await filters.get("/api/v1/saved-filters"))["items"] == []
    finally:
        await filters.client.close()


async def test_a_link_reproduces_a_search_for_another_user(
    consoles: Stack,
) -> None:
    """The supervisor opens the agent's link: the same search, the same rows, the
    filters shown; a supervisor may choose the hotline."""
    system = consoles
    word = "阀门"
    orders = await leak_reports(system, word)
    agent = await system.console("agent")
    await agent.goto(f"{system.base}/#/orders?q={word}&hard_case=true")
    seen = [orders[4]["number"], orders[1]["number"]]
    await shows(agent, seen)
    link = agent.url

    supervisor = await system.console("supervisor")
    await supervisor.goto(link)
    await shows(supervisor, seen)
    await expect(supervisor.locator("[data-test=search-q]")).to_have_value(word)
    await expect(supervisor.locator("[data-test=chips] [data-chip=hard_case]")).to_contain_text(
        "办不成事"
    )
    await expect(supervisor.locator("[data-test=filter-hotline]")).to_be_visible()
    await shoot(supervisor, SHOTS / "supervisor-link-zh.png")

    # Registered on their day (China time), in either status: the same two.
    registered = dt.datetime.fromisoformat(orders[1]["created_at"]).astimezone(CHINA)
    today = registered.date().isoformat()
    await supervisor.goto(
        f"{system.base}/#/orders?q={word}&hard_case=true&registered_from={today}"
        f"&registered_to={today}&status=escalated,dispatched"
    )
    await shows(supervisor, seen)
    await expect(supervisor.locator("[data-test=chips] [data-chip=registered]")).to_contain_text(
        f"受理日期：{today} – {today}"
    )

    # A search that finds nothing says what to change.
    await supervisor.goto(f"{system.base}/#/orders?q={word}&registered_to=2020-01-01")
    await expect(supervisor.locator("[data-test=empty]")).to_be_visible()
    await search_for(supervisor, "没有这样的诉求内容")
    empty = supervisor.locator("[data-test=empty]")
    await expect(empty).to_contain_text("没有找到符合条件的工单")
    await expect(empty).to_contain_text("去掉一些")
    await empty.locator("[data-test=empty-clear]").click()
    await expect(supervisor.locator("[data-test=search-q]")).to_have_value("")
    await expect(result_numbers(supervisor)).not_to_have_count(0)
    assert urlsplit(supervisor.url).fragment == "/orders"


async def complete_as_water(system: Stack, dispatch: dict[str, Any]) -> None:
    water = await system.api(system.users["water"])
    try:
        await water.post(f"/api/v1/dispatches/{dispatch['id']}/sign-for", {})
        await water.post(f"/api/v1/dispatches/{dispatch['id']}/complete", {"reply": "已修复"})
    finally:
        await water.client.close()


async def heating_order(system: Stack) -> dict[str, Any]:
    """An order the heating rule sends to 青岛能源集团, not to the water user's unit."""
    supervisor = await system.api(system.users["supervisor"])
    try:
        order = await register(
            supervisor,
            hotline="12319",
            service_item="H03",
            description="家里暖气片一直不热，室温只有十二度",
            address="闽江路 7 号",
            caller_name="钱女士",
        )
    finally:
        await supervisor.client.close()
    await routed(system, [order["id"]])
    return order


async def test_a_unit_finds_its_completed_orders_on_a_phone(
    consoles: Stack,
) -> None:
    system = consoles
    order, dispatch = await dispatched_order(system, mobile())
    await complete_as_water(system, dispatch)
    other = await heating_order(system)
    assert (
        await system.pool.fetchval(
            "SELECT count(*) FROM dispatches d JOIN enterprises e ON e.id = d.enterprise_id"
            " WHERE d.order_id = $1 AND e.code = 'qd-water'",
            other["id"],
        )
        == 0
    ), "the heating order must not reach the water unit"

    phone = await system.console("water", **PHONE)
    link = phone.locator("[data-test=unit-history-link]")
    await expect(link).to_be_visible()
    await shoot(phone, SHOTS / "unit-inbox-390-zh.png")
    await no_sideways_scroll(phone)
    await link.click()
    card = phone.locator("[data-test=result]", has_text=order["number"])
    await expect(card).to_be_visible()
    assert set(query_of(phone)["status"][0].split(",")) == {"completed", "callback", "closed"}
    # No longer the unit's to call: the number masked, as the API gives it.
    await expect(card.locator("[data-test=result-phone]")).to_contain_text("****")
    await expect(phone.locator("[data-test=result]", has_text=other["number"])).to_have_count(0)
    # A unit chooses no unit; the filters fold away on a phone.
    await expect(phone.locator("[data-test=filters]")).to_be_hidden()
    await expect(phone.locator("[data-test=filter-unit]")).to_have_count(0)
    await shoot(phone, SHOTS / "unit-history-390-zh.png")
    await no_sideways_scroll(phone)
    await phone.locator("[data-test=filters-toggle]").click()
    await expect(phone.locator("[data-test=filters]")).to_be_visible()
    await shoot(phone, SHOTS / "unit-filters-390-zh.png", full_page=True)
    await no_sideways_scroll(phone)
    await phone.locator("[data-test=filters-toggle]").click()

    # Not even by its words or its number.
    for text in ("暖气片", other["number"]):
        await search_for(phone, text)
        await expect(phone.locator("[data-test=empty]")).to_be_visible()
    await search_for(phone, order["number"])
    await expect(result_numbers(phone)).to_have_text([order["number"]])

    await switch_language(phone)
    await expect(phone.locator("[data-test=loaded]")).to_have_text("1 order loaded")
    await shoot(phone, SHOTS / "unit-history-390-en.png")
    await no_sideways_scroll(phone)
    # Opened from its card.
    await phone.locator("[data-test=result]", has_text=order["number"]).click()
    await expect(phone.locator("[data-test=order-number]")).to_have_text(order["number"])

    # On a desktop the link sits beside the inbox's tabs.
    desk = await system.console("water")
    await expect(desk.locator("[data-test=unit-history-link]")).to_be_visible()
    await shoot(desk, SHOTS / "unit-inbox-desktop-zh.png")


async def test_the_screen_in_english_on_the_desktop(
    consoles: Stack,
) -> None:
    system = consoles
    word = "水龙头"
    await leak_reports(system, word)
    supervisor = await system.console("supervisor")
    await switch_language(supervisor)
    await open_search(supervisor)
    await search_for(supervisor, word)
    await expect(result_numbers(supervisor)).not_to_have_count(0)
    await expect(supervisor.locator("[data-test=filters]")).to_contain_text("Service item")
    await shoot(supervisor, SHOTS / "supervisor-results-en.png")
    await switch_language(supervisor)
    await expect(supervisor.locator("[data-test=filters]")).to_contain_text("服务事项")
    await shoot(supervisor, SHOTS / "supervisor-results-zh.png")
    assert re.search(r"#/orders\?q=", supervisor.url)
