"""The periodic report's document: what a period's day counts, the callbacks' figures and
the late orders say, per hotline or for the whole centre, beside the period before and
the same period a year earlier.

Every table is a list of rows with the same named columns (the exports write each as a
sheet); every name is given in both languages (``name_zh``, ``name_en``), since a
stored report is read in either."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from callbacks.figures import FigureQuery, compute_figures, rate, rates, score_weights
from callbacks.queries import COUNTS as FIGURE_COUNTS
from hotline.settings import Settings
from reports.periodic import queries
from reports.periodic.periods import Period

# The overdue and late lists show this many orders, the longest late first, with the
# count of all of them: a report is read, and the full list is the order search's.
LIST_LENGTH = 20

# The summary's counts, in the order a report shows them: (measure, dimension 'total'
# measure in the day counts).
COUNTED = [
    ("calls_offered", "offered"),
    ("calls_answered", "answered"),
    ("calls_abandoned", "abandoned"),
    ("calls_answered_15s", "answered_15s"),
    ("registered", "registered"),
    ("resolved_on_call", "resolved_on_call"),
    ("dispatched", "dispatched"),
    ("returned", "returned"),
    ("escalated", "escalated"),
    ("reopened", "reopened"),
]
# Shares of two counts: (measure, part, whole).
SHARES = [
    ("answer_rate", "calls_answered", "calls_offered"),
    ("answered_15s_rate", "calls_answered_15s", "calls_answered"),
    ("resolved_on_call_share", "resolved_on_call", "registered"),
]
# The callbacks' figures (docs/callbacks.md), reused as they are computed there.
FIGURES = [
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "on_time_rate",
    "callback_rate",
    "reopen_rate",
    "score",
]
# Orders are broken down by these dimensions of the day counts ('district': the area).
BREAKDOWNS = ["channel", "kind", "item", "domain", "district", "unit"]

Sums = dict[tuple[str, str], dict[str, int]]  # (dimension, measure) -> key -> n


async def _sums(conn: asyncpg.Connection, period: Period, codes: list[str] | None) -> Sums:
    found: Sums = defaultdict(dict)
    for r in await queries.sums(conn, period.first, period.end, codes):
        found[(r["dimension"], r["measure"])][r["key"]] = r["n"]
    return found


async def _figures(
    conn: asyncpg.Connection,
    period: Period,
    scope: str,
    settings: Settings,
    now: dt.datetime,
) -> dict[str, Any]:
    """The scope's rates and score: a hotline's row of the callbacks' figures, or the
    centre's from all hotlines' counts added (a rate of sums, not a mean of rates)."""
    query = FigureQuery(start=period.first, end=period.last, by="hotline")
    rows = [r for r in await compute_figures(conn, query, settings, now) if scope in ("", r["key"])]
    counts = {name: sum(r[name] for r in rows) for name in FIGURE_COUNTS}
    return rates(counts, score_weights(settings))


async def _period_values(
    conn: asyncpg.Connection,
    period: Period,
    scope: str,
    settings: Settings,
    now: dt.datetime,
) -> tuple[dict[str, Any], Sums]:
    codes = [scope] if scope else None
    sums = await _sums(conn, period, codes)
    values: dict[str, Any] = {
        name: sums[("total", measure)].get("", 0) for name, measure in COUNTED
    }
    for name, part, whole in SHARES:
        values[name] = rate(values[part], values[whole])
    figures = await _figures(conn, period, scope, settings, now)
    values.update({name: figures[name] for name in FIGURES})
    return values, sums


def _change(value: Any, before: Any) -> Any:
    """value - before (a rate's change is in its own units); None unless both are known."""
    if value is None or before is None:
        return None
    return round(value - before, 4)


def _compared(name: str, now: Any, previous: Any, last_year: Any) -> dict[str, Any]:
    return {
        "measure": name,
        "value": now,
        "previous": previous,
        "last_year": last_year,
        "change_previous": _change(now, previous),
        "change_last_year": _change(now, last_year),
    }


async def _named_rows(
    conn: asyncpg.Connection,
    dimension: str,
    columns: dict[str, dict[str, int]],
) -> list[dict[str, Any]]:
    """One row per key found in any of ``columns`` (column -> key -> n), with its names,
    the most of the first column first."""
    keys = sorted({k for counted in columns.values() for k in counted})
    found = await queries.names(conn, dimension, keys)
    first = next(iter(columns))
    rows = [
        {
            "key": key,
            "name_zh": found.get(key, (key, key))[0],
            "name_en": found.get(key, (key, key))[1],
            **{column: counted.get(key, 0) for column, counted in columns.items()},
        }
        for key in keys
    ]
    return sorted(rows, key=lambda r: (-r[first], r["key"]))


def _agent_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The seconds as averages per call handled, in whole seconds."""
    for row in rows:
        handled = row["calls_handled"]
        handling = row.pop("handling_seconds")
        after_call = row.pop("after_call_seconds")
        row["avg_handling_seconds"] = round(handling / handled) if handled else None
        row["avg_after_call_seconds"] = round(after_call / handled) if handled else None
    return rows


def _late_row(r: asyncpg.Record, zone: ZoneInfo) -> dict[str, Any]:
    due = r["resolution_due_at"]
    done = r["completed_at"]
    return {
        "order_id": r["id"],
        "number": r["number"],
        "hotline_code": r["hotline_code"],
        "item_name_zh": r["item_name_zh"] or r["service_item_code"],
        "item_name_en": r["item_name_en"] or r["service_item_code"],
        "unit_id": r["lead_enterprise_id"],
        "unit_name_zh": r["unit_name_zh"] or "",
        "unit_name_en": r["unit_name_en"] or "",
        "status": r["status"],
        "registered_at": r["created_at"].astimezone(zone).isoformat(),
        "due_at": due.astimezone(zone).isoformat(),
        "completed_at": done.astimezone(zone).isoformat() if done else None,
    }


async def build_document(
    conn: asyncpg.Connection,
    period: Period,
    scope: str,
    settings: Settings,
    now: dt.datetime,
) -> dict[str, Any]:
    """The report of ``period`` for the hotline ``scope`` ('' for the whole centre)."""
    zone = ZoneInfo(settings.timezone)
    previous, last_year = period.previous(), period.last_year()
    values, sums = await _period_values(conn, period, scope, settings, now)
    before, before_sums = await _period_values(conn, previous, scope, settings, now)
    year_ago, year_sums = await _period_values(conn, last_year, scope, settings, now)
    summary = [
        _compared(name, values[name], before[name], year_ago[name])
        for name in [*(n for n, _ in COUNTED), *(n for n, _, _ in SHARES), *FIGURES]
    ]
    codes = [scope] if scope else None
    daily: dict[dt.date, dict[str, Any]] = {
        period.first + dt.timedelta(days=i): {
            "day": (period.first + dt.timedelta(days=i)).isoformat(),
            **{name: 0 for name, _ in COUNTED},
        }
        for i in range(period.days)
    }
    by_measure = {measure: name for name, measure in COUNTED}
    for r in await queries.daily_totals(conn, period.first, period.end, codes):
        if r["measure"] in by_measure:
            daily[r["day"]][by_measure[r["measure"]]] = r["n"]
    orders_by = {
        dimension: await _named_rows(
            conn,
            dimension,
            {
                "registered": sums[(dimension, "registered")],
                "resolved_on_call": sums[(dimension, "resolved_on_call")],
                "previous": before_sums[(dimension, "registered")],
                "last_year": year_sums[(dimension, "registered")],
            },
        )
        for dimension in BREAKDOWNS
    }
    agents = _agent_rows(
        await _named_rows(
            conn,
            "agent",
            {
                "calls_handled": sums[("agent", "answered")],
                "calls_answered_15s": sums[("agent", "answered_15s")],
                "handling_seconds": sums[("agent", "handling_seconds")],
                "after_call_seconds": sums[("agent", "after_call_seconds")],
                "registered": sums[("agent", "registered")],
                "resolved_on_call": sums[("agent", "resolved_on_call")],
            },
        )
    )
    start = dt.datetime.combine(period.first, dt.time(), zone)
    end = dt.datetime.combine(period.end, dt.time(), zone)
    overdue_count, overdue = await queries.overdue(conn, min(now, end), codes, LIST_LENGTH)
    late_count, late = await queries.completed_late(conn, start, end, codes, LIST_LENGTH)
    rolled = await queries.rolled(conn, period.first, period.end)
    names = await queries.names(conn, "hotline", [scope]) if scope else {}
    scope_names = names.get(scope, ("全中心", "Whole centre") if not scope else (scope, scope))
    return {
        "period": period.as_json(),
        "previous_period": previous.as_json(),
        "last_year_period": last_year.as_json(),
        "scope": {"code": scope, "name_zh": scope_names[0], "name_en": scope_names[1]},
        "generated_at": now.isoformat(),
        # The data is as of the oldest roll of the period's days; days never rolled
        # count nothing yet, and are said.
        "data_as_of": rolled["as_of"].isoformat() if rolled["as_of"] else None,
        "days_not_rolled": period.days - rolled["days"],
        "summary": summary,
        "daily": list(daily.values()),
        "orders_by": orders_by,
        "agents": agents,
        "overdue": {"count": overdue_count, "rows": [_late_row(r, zone) for r in overdue]},
        "completed_late": {"count": late_count, "rows": [_late_row(r, zone) for r in late]},
    }
