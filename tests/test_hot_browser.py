"""Hot issues in a real browser (#/hot, supervisors): the last week's planted spike of one
item shows as hot above a steady item, its trend opens on a click, the heat table, the
repeats, the reopened orders and the words are there in both languages, and the hot
item opens the order search with its filters, listing exactly its orders. The system
is browser_support's, on a database of this module's own. Screenshots go to
``tests/artifacts/hot/``."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from playwright.async_api import expect

from reports.days.service import do_roll_up
from reports.periodic.periods import Period
from testkit.orders import insert_order
from tests.browser_support import ARTIFACTS, Stack, needs_chromium, shoot, switch_language
from tests.factories import unique

pytestmark = needs_chromium

SHOTS = ARTIFACTS / "hot"
CHINA = ZoneInfo("Asia/Shanghai")
SPIKE = 14


async def plant(system: Stack, day: dt.date, n: int, **values: Any) -> None:
    async with system.pool.acquire() as conn:
        for i in range(n):
            at = dt.datetime.combine(day, dt.time(9 + i % 10, i % 60), CHINA)
            await insert_order(
                conn,
                {
                    "number": unique("96111-hot-"),
                    "hotline_code": "96111",
                    "channel": "voice",
                    "kind": "complaint",
                    "service_item_code": "W01",
                    "area_code": "370202",
                    "description": "水表不走",
                    "status": "dispatched",
                    "created_at": at,
                    "updated_at": at,
                    **values,
                },
            )


async def test_a_supervisor_finds_the_hot_item_and_opens_its_orders(
    consoles: Stack,
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    today = dt.datetime.now(CHINA).date()
    # the page's first period: the last seven whole days
    week = Period("custom", today - dt.timedelta(days=7), today - dt.timedelta(days=1))
    street = await consoles.pool.fetchrow(
        "SELECT code FROM areas WHERE level = 'street' AND parent_code = '370202' LIMIT 1"
    )
    assert street is not None
    for back in range(9):
        period = week.back(back)
        for day in period.each_day():
            await plant(consoles, day, 1)  # W01: steady, one a day
        await plant(
            consoles,
            period.first + dt.timedelta(days=3),
            SPIKE if back == 0 else 1,
            service_item_code="H01",
            area_code=street["code"],
            description="你好，请问暖气片不热，家里只有十五度",
            address="宁夏路 201 号" if back == 0 else "",
        )
    await plant(consoles, week.first + dt.timedelta(days=1), 1, redo_count=2)
    await plant(consoles, week.first + dt.timedelta(days=2), 3, caller_phone="+8613900002222")
    now = dt.datetime.now(dt.UTC)
    await do_roll_up(consoles.pool, week.back(8).first, week.end, now)
    last_year = week.last_year()
    await do_roll_up(consoles.pool, last_year.first, last_year.end, now)

    page = await consoles.console("supervisor")
    await page.locator("nav a[href='#/hot']").click()
    rising = page.locator("[data-test=hot-rising]")
    first = rising.locator(".el-table__body tr").first
    await expect(first.locator(".hot-tag")).to_be_visible()
    await expect(first.locator("[data-test=hot-rising-orders]")).to_have_text(str(SPIKE))
    await expect(page.locator("[data-test=hot-heat] .hot-cell")).to_have_count(1)
    await expect(page.locator("[data-test=hot-address-link]")).to_have_text(["宁夏路 201 号"])
    await expect(page.locator("[data-test=hot-caller-link]")).to_have_text(["+8613900002222"])
    await expect(page.locator("[data-test=hot-reopened] .el-table__body tr")).to_have_count(1)
    words = page.locator("[data-test=hot-word-link]")
    await expect(words.filter(has_text="暖气")).not_to_have_count(0)
    for stop in ("你好", "请问", "家里"):
        await expect(words.filter(has_text=stop)).to_have_count(0)

    await first.locator("[data-test=hot-trend-button]").click()
    await expect(page.locator("[data-test=hot-trend] canvas")).to_be_visible()
    await shoot(page, SHOTS / "hot-zh.png", full_page=True)
    await switch_language(page)
    await expect(rising.locator(".hot-tag").first).to_have_text("Hot")
    await shoot(page, SHOTS / "hot-en.png", full_page=True)

    # the hot item as the order search: its item and the period, its orders only
    await first.locator("[data-test=hot-rising-link]").click()
    await expect(page.locator("[data-test=search-q]")).to_be_visible()
    query = parse_qs(urlsplit(urlsplit(page.url).fragment).query)
    assert query == {
        "service_item": ["H01"],
        "registered_from": [week.first.isoformat()],
        "registered_to": [(week.end - dt.timedelta(days=1)).isoformat()],
    }
    numbers = page.locator("[data-test=results] [data-test=result-number]")
    await expect(numbers).to_have_count(SPIKE)
    await shoot(page, SHOTS / "hot-orders-en.png")
