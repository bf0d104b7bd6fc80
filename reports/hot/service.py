"""Hot issues (热点难点, docs/reports.md "Hot issues"): what rises against its own
baseline, repeats by address and caller, orders reopened more than once, and the words
of the descriptions; each day's share rolled with the day counts."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from hotline.errors import Forbidden, InvalidQuery
from hotline.users.models import Actor
from reports.days.queries import counts
from reports.hot import queries, stats
from reports.hot.words import count_words
from reports.periodic.periods import Period, month_of

# The previous periods the baseline reads (of the same length, or calendar months).
BASELINE_PERIODS = 8
# The heat table's items: the period's busiest.
HEAT_ITEMS = 10
# The longest period asked: a year (its baseline reaches eight years back).
MAX_DAYS = 366
MEASURE = "registered"


class HotQuery(BaseModel):
    """A period of inclusive local days (China time) and, optionally, one hotline."""

    model_config = ConfigDict(extra="forbid")

    first_day: dt.date
    last_day: dt.date
    hotline: str | None = Field(default=None, max_length=16)
    limit: int = Field(default=20, ge=1, le=200)


def hotlines_read(actor: Actor, hotline: str | None) -> list[str] | None:
    """The hotlines a query reads: the one asked, within those the supervisor sees (403
    ``not_your_hotline`` outside them), or all of theirs (None: every hotline)."""
    if hotline is not None:
        if not actor.sees_hotline(hotline):
            raise Forbidden("this hotline is not yours", code="not_your_hotline")
        return [hotline]
    return None if actor.hotlines is None else sorted(actor.hotlines)


def period_of(first_day: dt.date, last_day: dt.date) -> Period:
    """The inclusive days asked as a period; 400 ``invalid_period`` when reversed or
    longer than a year."""
    if last_day < first_day:
        raise InvalidQuery(
            "the period ends before it starts",
            code="invalid_period",
            fields={"last_day": "before the first day"},
        )
    month = month_of(first_day)
    if (first_day, last_day) == (month.first, month.last):
        # A calendar month's baseline is the calendar months before it.
        return month
    period = Period("custom", first_day, last_day)
    if period.days > MAX_DAYS:
        raise InvalidQuery(
            "a period is at most {days} days",
            code="invalid_period",
            fields={"last_day": "the period is too long"},
            days=MAX_DAYS,
        )
    return period


async def roll_day(conn: asyncpg.Connection, day: dt.date) -> None:
    """The day's repeat keys and words anew, in the day roll's transaction
    (reports.days.service.do_roll_up)."""
    await queries.roll_repeats(conn, day)
    rows = await queries.day_descriptions(conn, day)
    texts = [(r["hotline_code"], r["description"], r["n"]) for r in rows]
    counted = await asyncio.to_thread(count_words, texts)  # jieba blocks
    await queries.replace_words(conn, day, counted)


@dataclass(frozen=True)
class Baseline:
    """A dimension's counts per key in a period (``periods[0]``), in each of its
    BASELINE_PERIODS previous periods and in last year's same period (the last); and
    which of those were counted throughout (a period with a day not rolled yet is left
    out of the baseline)."""

    periods: list[Period]
    totals: dict[str, list[int]]  # key → a count per period, in the order of ``periods``
    counted: list[bool]

    @property
    def period(self) -> Period:
        return self.periods[0]

    @property
    def previous(self) -> int:
        """How many previous periods the baseline holds."""
        return sum(self.counted[1:-1])

    @property
    def last_year(self) -> bool:
        return self.counted[-1]

    def observed(self, key: str) -> int:
        return self.totals[key][0] if key in self.totals else 0

    def last_year_count(self, key: str) -> int | None:
        return self.totals.get(key, [0] * len(self.periods))[-1] if self.last_year else None

    def expectation(self, key: str) -> stats.Expectation | None:
        """The key's expectation from the counted periods, each count scaled to the
        period's length (a calendar month's baseline has months of 28 to 31 days)."""
        totals = self.totals.get(key, [0] * len(self.periods))
        scaled = [totals[i] * self.period.days / p.days for i, p in enumerate(self.periods)]
        previous = [scaled[i] for i in range(1, len(self.periods) - 1) if self.counted[i]]
        return stats.expect(previous, scaled[-1] if self.last_year else None)


async def baseline(
    conn: asyncpg.Connection,
    period: Period,
    dimension: str,
    hotline_codes: list[str] | None,
    keys: list[str] | None = None,
) -> Baseline:
    """The counts the verdicts of one dimension read (of ``keys`` only, when given),
    summed per period by the database."""
    periods = [period.back(i) for i in range(BASELINE_PERIODS + 1)] + [period.last_year()]
    totals: dict[str, list[int]] = defaultdict(lambda: [0] * len(periods))
    for r in await queries.period_totals(
        conn,
        dimension,
        [(p.first, p.end) for p in periods],
        hotline_codes=hotline_codes,
        keys=keys,
    ):
        totals[r["key"]][r["period"]] += r["n"]
    rolled = await queries.rolled_days(conn, periods[-2].first, period.first)
    rolled |= await queries.rolled_days(conn, periods[-1].first, periods[-1].end)
    counted = [i == 0 or all(day in rolled for day in p.each_day()) for i, p in enumerate(periods)]
    return Baseline(periods, dict(totals), counted)


def verdict_row(key: str, base: Baseline) -> dict[str, Any] | None:
    """One key's observed count, expectation and verdict as a row; None when there is
    no baseline at all."""
    expectation = base.expectation(key)
    if expectation is None:
        return None
    observed = base.observed(key)
    verdict = stats.judge(observed, expectation)
    return {
        "key": key,
        "orders": observed,
        "expected": round(verdict.expected, 2),
        "excess": round(observed - verdict.expected, 2),
        "last_year": base.last_year_count(key),
        "p": verdict.p,
        "z": round(verdict.z, 2),
        "hot": verdict.hot,
    }


async def rising(
    conn: asyncpg.Connection,
    period: Period,
    dimension: str,
    hotline_codes: list[str] | None,
    *,
    limit: int,
) -> dict[str, Any]:
    """The keys of a dimension in the period ranked by surprise: the hot ones first
    (least probable first), then the others by excess over their expectation."""
    base = await baseline(conn, period, dimension, hotline_codes)
    rows = [
        row
        for key in base.totals
        if base.observed(key) > 0 and (row := verdict_row(key, base)) is not None
    ]
    rows.sort(key=lambda r: (not r["hot"], r["p"] if r["hot"] else 0, -r["excess"], r["key"]))
    return {
        "baseline_periods": base.previous,
        "baseline_months": period.kind == "monthly",
        "last_year": base.last_year,
        "items": rows[:limit],
    }


async def heat(
    conn: asyncpg.Connection, period: Period, hotline_codes: list[str] | None, *, items: int
) -> list[dict[str, Any]]:
    """The district × item cells of the period's ``items`` busiest items, each with its
    verdict (area_item counts)."""

    async def by_count(dimension: str) -> list[str]:
        rows = await counts(
            conn,
            period.first,
            period.end,
            dimension=dimension,
            measure=MEASURE,
            hotline_codes=hotline_codes,
        )
        return [r["key"] for r in rows]

    busiest = (await by_count("item"))[:items]
    keys = [f"{district}|{item}" for district in await by_count("district") for item in busiest]
    base = await baseline(conn, period, "area_item", hotline_codes, keys)
    cells = []
    for key in sorted(base.totals):
        if base.observed(key) == 0:
            continue
        row = verdict_row(key, base)
        district, _, item = key.partition("|")
        cells.append(
            {
                "district": district,
                "item": item,
                "orders": base.observed(key),
                "expected": row["expected"] if row else None,
                "hot": bool(row and row["hot"]),
            }
        )
    return cells


async def trend(
    conn: asyncpg.Connection,
    period: Period,
    dimension: str,
    key: str,
    hotline_codes: list[str] | None,
) -> dict[str, Any]:
    """One key's orders per day over its baseline periods and the period, with the
    expected orders per day of the period and last year's same days."""
    base = await baseline(conn, period, dimension, hotline_codes, [key])
    shown = Period("custom", period.back(BASELINE_PERIODS).first, period.last)
    days = await queries.key_days(
        conn, dimension, key, shown.first, shown.end, hotline_codes=hotline_codes
    )
    last_year = period.last_year()
    before = (
        await queries.key_days(
            conn, dimension, key, last_year.first, last_year.end, hotline_codes=hotline_codes
        )
        if base.last_year
        else None
    )
    expectation = base.expectation(key)
    return {
        "key": key,
        "days": [{"day": day, "orders": days.get(day, 0)} for day in shown.each_day()],
        "last_year": [{"day": day, "orders": before.get(day, 0)} for day in last_year.each_day()]
        if before is not None
        else [],
        "expected_per_day": round(expectation.mean / period.days, 3) if expectation else None,
    }


async def repeats(
    conn: asyncpg.Connection,
    period: Period,
    kind: Literal["address", "caller"],
    hotline_codes: list[str] | None,
    *,
    min_orders: int,
    limit: int,
) -> list[asyncpg.Record]:
    """Addresses or callers with ``min_orders`` or more orders in the period."""
    return await queries.repeats(
        conn,
        period.first,
        period.end,
        kind=kind,
        min_orders=min_orders,
        limit=limit,
        hotline_codes=hotline_codes,
        whole_month=period.kind == "monthly" and (hotline_codes is None or len(hotline_codes) == 1),
    )


async def reopened(
    conn: asyncpg.Connection, period: Period, hotline_codes: list[str] | None, *, limit: int
) -> list[asyncpg.Record]:
    """The period's orders reopened more than once."""
    return await queries.reopened(
        conn, period.first, period.end, limit=limit, hotline_codes=hotline_codes
    )


async def words(
    conn: asyncpg.Connection, period: Period, hotline_codes: list[str] | None, *, limit: int
) -> list[asyncpg.Record]:
    """The period's most frequent words, each with its count in the period before."""
    return await queries.words(
        conn,
        period.first,
        period.end,
        period.back(1).first,
        limit=limit,
        hotline_codes=hotline_codes,
    )
