"""Hot issues (docs/reports.md, "Hot issues"): the statistics on known numbers, and the
API on a hotline of the test's own (the database is shared by the session): a planted
spike of one item in one street is hot while a steady item is not; repeats by address
and caller, orders reopened twice, the words without stop words; bad periods refused."""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp import ClientSession

from reports.days.service import do_roll_up
from reports.hot import queries as hot_queries
from reports.hot import stats
from reports.hot.service import Baseline, period_of
from reports.hot.words import count_words, load_stopwords
from reports.periodic.periods import Period, month_of
from testkit.orders import insert_order
from tests.factories import log_in, make_user, unique

CHINA = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


# The statistics, on numbers known in closed form.


def test_poisson_tail_on_known_numbers() -> None:
    assert stats.poisson_upper_tail(0, 3.0) == 1.0
    assert stats.poisson_upper_tail(1, 2.0) == pytest.approx(1 - math.exp(-2))
    assert stats.poisson_upper_tail(2, 1.0) == pytest.approx(1 - 2 / math.e)
    # P(X ≥ 10 | μ = 3), from the terms summed by hand
    assert stats.poisson_upper_tail(10, 3.0) == pytest.approx(0.0011024881301154, rel=1e-9)
    # far out in a large mean's tail, where e^-μ alone underflows
    assert 0 < stats.poisson_upper_tail(5300, 5000.0) < 1e-4
    assert stats.poisson_upper_tail(4800, 5000.0) > 0.99


def test_negative_binomial_tail_on_known_numbers() -> None:
    # mean 2, variance 6: r = μ²/(σ²−μ) = 1, a geometric count with P(X ≥ k) = (μ/(1+μ))^k
    for k in range(0, 8):
        assert stats.negative_binomial_upper_tail(k, 2.0, 6.0) == pytest.approx((2 / 3) ** k)
    # r = 2.25 failures, q = 0.6: one minus the terms below x, summed here
    mean, variance = 3.375, 5.625
    r, q = mean * mean / (variance - mean), mean / variance

    def pmf(k: int) -> float:
        return math.exp(
            math.lgamma(k + r)
            - math.lgamma(r)
            - math.lgamma(k + 1)
            + r * math.log(q)
            + k * math.log(1 - q)
        )

    for x in (1, 3, 9, 30):
        below = sum(pmf(k) for k in range(x))
        tail = stats.negative_binomial_upper_tail(x, mean, variance)
        assert tail == pytest.approx(1 - below, rel=1e-9, abs=1e-15)


def test_expectation_takes_the_season_and_the_dispersion() -> None:
    steady = stats.expect([10, 10, 10, 10])
    assert steady is not None
    assert (steady.mean, steady.variance) == (10, 10)  # no more spread than Poisson's
    spread = stats.expect([2, 18, 2, 18])
    assert spread is not None
    assert spread.mean == 10 and spread.variance == pytest.approx(10 * (256 / 3) / 10)
    # last November was as high: the season, not news
    season = stats.expect([10, 10, 10, 10], last_year=40)
    assert season is not None and season.mean == 40
    assert stats.expect([], None) is None
    assert stats.expect([0, 0]) == stats.Expectation(stats.MIN_MEAN, stats.MIN_MEAN, 2, None)


def test_a_verdict_needs_a_minimum_and_a_small_tail() -> None:
    steady = stats.expect([10, 10, 10, 10])
    assert steady is not None
    assert stats.judge(25, steady).hot  # p ≈ 8e-5
    assert not stats.judge(15, steady).hot  # p ≈ 0.08
    assert not stats.judge(4, stats.Expectation(0.5, 0.5, 8, None)).hot  # below the minimum
    assert stats.judge(6, stats.Expectation(0.5, 0.5, 8, None)).hot
    # the same 25 is no news for a count that swings from 2 to 18
    spread = stats.expect([2, 18, 2, 18])
    assert spread is not None
    assert not stats.judge(25, spread).hot


def test_periods_and_their_baselines() -> None:
    period = period_of(dt.date(2024, 3, 1), dt.date(2024, 3, 7))
    assert period == Period("custom", dt.date(2024, 3, 1), dt.date(2024, 3, 7))
    assert period.back(2) == Period("custom", dt.date(2024, 2, 16), dt.date(2024, 2, 22))
    leap = Period("custom", dt.date(2024, 2, 29), dt.date(2024, 2, 29))
    assert leap.last_year() == Period("custom", dt.date(2023, 2, 28), dt.date(2023, 2, 28))
    # A calendar month asked is a month: its baseline is the calendar months before.
    march = period_of(dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    assert march == month_of(dt.date(2024, 3, 1)) and march.kind == "monthly"
    assert march.back(1) == Period("monthly", dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert march.back(3) == month_of(dt.date(2023, 12, 1))
    assert march.back(8).first == dt.date(2023, 7, 1)
    assert period_of(dt.date(2024, 3, 1), dt.date(2024, 3, 30)).kind == "custom"


def test_a_month_baseline_scales_each_month_to_the_period_length() -> None:
    march = month_of(dt.date(2023, 3, 1))
    periods = [march.back(i) for i in range(9)] + [march.last_year()]
    # One order a day, every month: as many orders as days, 28 in February.
    steady = [p.days for p in periods]
    base = Baseline(periods, {"steady": steady}, [True] * 9 + [False])
    expectation = base.expectation("steady")
    assert expectation is not None and expectation.mean == pytest.approx(31)  # 30.4 unscaled
    assert base.previous == 8 and base.last_year_count("steady") is None
    # Months with days not rolled are left out of the baseline.
    base = Baseline(periods, {"steady": steady}, [True, False] + [True] * 8)
    assert base.previous == 7 and base.last_year_count("steady") == 31


def test_words_drop_stop_words_numbers_and_single_characters() -> None:
    stop = load_stopwords()
    assert {"你好", "请问", "那个", "一下", "我家"} <= stop
    counted = count_words(
        [
            ("a", "你好，请问我家那个暖气不热，室温12度，只有十五度", 1),
            ("a", "暖气不热，麻烦看一下", 3),  # three orders said the same
            ("b", "请问水费怎么交", 1),
        ]
    )
    words = dict(counted["a"])
    assert words["暖气"] == 4  # once per order
    assert not {"你好", "请问", "那个", "一下", "我家"} & set(words)
    assert not [w for w in words if len(w) < 2 or any(ch.isdigit() for ch in w)]
    assert "十五" not in words and "只有" not in words
    assert "水费" in dict(counted["b"])


# The API, end to end.


async def hotline(conn: asyncpg.Connection) -> str:
    code = unique("hx")
    await conn.execute(
        "INSERT INTO hotlines (code, name_zh, name_en, number) VALUES ($1, $1, $1, $1)", code
    )
    return code


class Plant:
    def __init__(self, conn: asyncpg.Connection, code: str) -> None:
        self.conn = conn
        self.code = code

    async def orders(self, day: dt.date, n: int, **values: Any) -> None:
        for i in range(n):
            at = dt.datetime.combine(day, dt.time(9 + i % 10, i % 60), CHINA)
            row = {
                "number": unique(f"{self.code}-"),
                "hotline_code": self.code,
                "channel": "voice",
                "kind": "complaint",
                "service_item_code": "W01",
                "description": "测试",
                "status": "dispatched",
                "created_at": at,
                "updated_at": at,
                **values,
            }
            await insert_order(self.conn, row)


async def get(client: ClientSession, path: str, **params: Any) -> Any:
    response = await client.get(f"/api/v1/reports/hot/{path}", params=params)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_a_planted_spike_is_hot_and_a_steady_item_is_not(
    client: ClientSession, pool: asyncpg.Pool
) -> None:
    # A week of long ago, its eight weeks before and last year's same week.
    first = dt.date(2012, 1, 2) + dt.timedelta(weeks=random.randrange(300))
    period = Period("custom", first, first + dt.timedelta(days=6))
    async with pool.acquire() as conn:
        code = await hotline(conn)
        items = [
            r["code"]
            for r in await conn.fetch(
                "SELECT code FROM service_items WHERE code <> 'W01' ORDER BY code LIMIT 2"
            )
        ]
        steady, spiking = items
        street = await conn.fetchrow(
            "SELECT code, parent_code FROM areas WHERE level = 'street' LIMIT 1"
        )
        assert street is not None
        plant = Plant(conn, code)
        for back in range(0, 9):
            week = period.back(back)
            # the steady item: 1 a day every week; the spiking one: 1 a week, then 14
            for day in week.each_day():
                await plant.orders(day, 1, service_item_code=steady, description="水表不走")
            await plant.orders(
                week.first + dt.timedelta(days=2),
                14 if back == 0 else 1,
                service_item_code=spiking,
                area_code=street["code"],
                description="你好，请问暖气不热，室温12度",
            )
        # repeats: one address typed three ways, one caller three times; reopened twice
        for address in ("宁夏路 201 号", "宁夏路201号", "宁夏路，201号"):
            await plant.orders(first + dt.timedelta(days=3), 1, address=address)
        await plant.orders(first + dt.timedelta(days=4), 3, caller_phone="+8613900001111")
        await plant.orders(first + dt.timedelta(days=5), 1, redo_count=2, description="又坏了")
        await plant.orders(first + dt.timedelta(days=5), 1, redo_count=1)
        supervisor, _ = await make_user(conn, "supervisor")
        agent, _ = await make_user(conn, "agent")
    last_year = period.last_year()
    await do_roll_up(pool, last_year.first, last_year.end, NOW)
    await do_roll_up(pool, period.back(8).first, period.end, NOW)

    await log_in(client, supervisor)
    asked = {
        "first_day": first.isoformat(),
        "last_day": (period.end - dt.timedelta(days=1)).isoformat(),
        "hotline": code,
    }
    rising = await get(client, "rising", dimension="item", **asked)
    assert rising["baseline_periods"] == 8 and not rising["baseline_months"]
    by_item = {r["key"]: r for r in rising["items"]}
    assert by_item[spiking]["hot"] and by_item[spiking]["orders"] == 14
    assert by_item[spiking]["expected"] == 1
    assert not by_item[steady]["hot"] and by_item[steady]["orders"] == 7
    assert rising["items"][0]["key"] == spiking
    streets = await get(client, "rising", dimension="street", **asked)
    assert [r["key"] for r in streets["items"] if r["hot"]] == [street["code"]]

    heat = await get(client, "heat", **asked)
    cell = {(c["district"], c["item"]): c for c in heat["items"]}
    assert cell[(street["parent_code"], spiking)] == {
        "district": street["parent_code"],
        "item": spiking,
        "orders": 14,
        "expected": 1,
        "hot": True,
    }

    trend = await get(client, "trend", dimension="item", key=spiking, **asked)
    assert len(trend["days"]) == 9 * 7
    assert trend["days"][-5] == {"day": (first + dt.timedelta(days=2)).isoformat(), "orders": 14}
    assert trend["expected_per_day"] == pytest.approx(1 / 7, abs=1e-3)

    addresses = await get(client, "repeats", kind="address", **asked)
    assert [(r["key"], r["orders"]) for r in addresses["items"]] == [("宁夏路201号", 3)]
    callers = await get(client, "repeats", kind="caller", **asked)
    assert [(r["key"], r["orders"], r["days"]) for r in callers["items"]] == [
        ("+8613900001111", 3, 1)
    ]
    reopened = await get(client, "reopened", **asked)
    assert [r["redo_count"] for r in reopened["items"]] == [2]

    words = {r["word"]: r for r in (await get(client, "words", **asked))["items"]}
    assert words["暖气"]["n"] == 14 and words["暖气"]["previous"] == 1
    assert not {"你好", "请问"} & set(words)
    assert not [w for w in words if any(ch.isdigit() for ch in w)]

    # bad periods, and no hot issues for an agent
    response = await client.get(
        "/api/v1/reports/hot/rising",
        params={**asked, "last_day": (first - dt.timedelta(days=1)).isoformat()},
    )
    assert response.status == 400
    body = await response.json()
    assert body["error"]["code"] == "invalid_period" and "last_day" in body["error"]["fields"]
    response = await client.get(
        "/api/v1/reports/hot/words",
        params={**asked, "last_day": (first + dt.timedelta(days=400)).isoformat()},
    )
    assert response.status == 400
    client.cookie_jar.clear()
    await log_in(client, agent)
    response = await client.get("/api/v1/reports/hot/words", params=asked)
    assert response.status == 403


async def test_repeats_are_orders_within_the_window_whatever_order_days_roll_in(
    pool: asyncpg.Pool,
) -> None:
    first = dt.date(2004, 1, 1) + dt.timedelta(days=random.randrange(2000))
    near, far = first + dt.timedelta(days=20), first + dt.timedelta(days=40)
    async with pool.acquire() as conn:
        code = await hotline(conn)
        plant = Plant(conn, code)
        street = unique("窗口路") + "8号"
        lone = unique("远路") + "9号"
        await plant.orders(first, 1, address=street)
        await plant.orders(near, 1, address=street)  # 20 days on: a repeat
        await plant.orders(first, 1, address=lone)
        await plant.orders(far, 1, address=lone)  # 40 days on: not one
    # The later days first: the earlier day's rows are marked by the later roll.
    for day in (far, near, first):
        await do_roll_up(pool, day, day + dt.timedelta(days=1), NOW)

    async def listed(start: dt.date, end: dt.date) -> dict[str, int]:
        async with pool.acquire() as conn:
            rows = await hot_queries.repeats(
                conn, start, end, kind="address", min_orders=2, limit=10, hotline_codes=[code]
            )
        return {r["label"]: r["orders"] for r in rows}

    assert await listed(first, near + dt.timedelta(days=1)) == {street: 2}
    assert await listed(first, far + dt.timedelta(days=1)) == {street: 2}
    # Rolled again, a day keeps its marks and its neighbours'.
    await do_roll_up(pool, first, first + dt.timedelta(days=1), NOW)
    assert await listed(first, far + dt.timedelta(days=1)) == {street: 2}


async def test_a_calendar_month_is_judged_against_the_months_before(
    client: ClientSession, pool: asyncpg.Pool
) -> None:
    # A March of long ago (after a February of 28 or 29 days), its eight months before
    # and the March before.
    march = month_of(dt.date(1960 + random.randrange(40), 3, 1))
    months = [march.back(back) for back in range(9)] + [march.last_year()]
    async with pool.acquire() as conn:
        code = await hotline(conn)
        steady, spiking = [
            r["code"]
            for r in await conn.fetch(
                "SELECT code FROM service_items WHERE code <> 'W01' ORDER BY code LIMIT 2"
            )
        ]
        plant = Plant(conn, code)
        for month in months:
            # the steady item: one a day (none last year, so that its expectation is the
            # months' alone); the spiking one: one a month, then 12
            for day in month.each_day() if month != months[-1] else ():
                await plant.orders(day, 1, service_item_code=steady)
            await plant.orders(month.first, 12 if month == march else 1, service_item_code=spiking)
        # an address three times in March; another on the last of February and the
        # first of March: near, but once in the month
        address, across = unique("三月路") + "5号", unique("月末路") + "7号"
        for day in (march.first, march.first + dt.timedelta(days=14), march.last):
            await plant.orders(day, 1, address=address)
        for day in (march.first - dt.timedelta(days=1), march.first):
            await plant.orders(day, 1, address=across)
        supervisor, _ = await make_user(conn, "supervisor")
    for month in (months[-1], Period("custom", months[-2].first, march.last)):
        await do_roll_up(pool, month.first, month.end, NOW)

    await log_in(client, supervisor)
    asked = {"first_day": march.first.isoformat(), "last_day": march.last.isoformat()}
    rising = await get(client, "rising", dimension="item", hotline=code, **asked)
    assert rising["baseline_periods"] == 8 and rising["baseline_months"] and rising["last_year"]
    by_item = {r["key"]: r for r in rising["items"]}
    # 31 in every month once each is scaled to March's 31 days (30.4 unscaled)
    assert by_item[steady]["expected"] == 31 and not by_item[steady]["hot"]
    assert by_item[steady]["last_year"] == 0
    assert by_item[spiking]["hot"] and by_item[spiking]["orders"] == 12

    repeats = await get(client, "repeats", kind="address", hotline=code, **asked)
    assert [(r["label"], r["orders"], r["days"]) for r in repeats["items"]] == [(address, 3, 3)]
    # The month's rows list what the days list, for one hotline and for all.
    async with pool.acquire() as conn:
        for codes in ([code], None):
            listed = [
                [
                    tuple(r)
                    for r in await hot_queries.repeats(
                        conn,
                        march.first,
                        march.end,
                        kind=kind,
                        min_orders=2,
                        limit=200,
                        hotline_codes=codes,
                        whole_month=whole_month,
                    )
                ]
                for kind in ("address", "caller")
                for whole_month in (True, False)
            ]
            assert listed[0] == listed[1] and listed[2] == listed[3]
