"""The figures per unit, service item or hotline over a period: response, resolution,
satisfaction, on-time completion, callback and reopen rates, and the weighted 三率
score. docs/callbacks.md gives each formula; ``queries.figures`` counts, this module
divides."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, model_validator

from callbacks import queries
from hotline.settings import Settings, SettingsError

# A group: a unit with its branches' figures added (a branch counts toward its parent).
By = Literal["unit", "group", "service_item", "hotline"]


class Period(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: dt.date = Field(description="first local day of the period")
    end: dt.date = Field(description="last local day of the period (included)")

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError("end is before start")
        if (self.end - self.start).days > 366:
            raise ValueError("a period is at most a year")
        return self


class FigureQuery(Period):
    by: By = Field(
        default="unit",
        description="unit, group (a unit with its branches), service_item or hotline",
    )


def score_weights(settings: Settings) -> tuple[float, float, float]:
    """(response, resolution, satisfaction) weights, as shares summing to 1."""
    try:
        weights = tuple(float(w) for w in settings.callback_score_weights.split(","))
    except ValueError as exc:
        raise SettingsError("HOTLINE_CALLBACK_SCORE_WEIGHTS are three numbers") from exc
    if len(weights) != 3 or min(weights) < 0 or sum(weights) <= 0:
        raise SettingsError("HOTLINE_CALLBACK_SCORE_WEIGHTS are three numbers, like 30,35,35")
    total = sum(weights)
    return weights[0] / total, weights[1] / total, weights[2] / total


def rate(part: int, whole: int) -> float | None:
    """part / whole, rounded to 4 places; None when there is nothing to measure."""
    return round(part / whole, 4) if whole else None


def rates(counts: dict[str, Any], weights: tuple[float, float, float]) -> dict[str, Any]:
    """The rates of one row of counts, and the 三率 score (0–100; None unless all three
    of its rates could be measured)."""
    figures = {
        "response_rate": rate(counts["signed_on_time"], counts["dispatched"]),
        "resolution_rate": rate(counts["solved"], counts["answered"]),
        "satisfaction_rate": rate(counts["good"], counts["rated"]),
        "on_time_rate": rate(counts["completed_on_time"], counts["completed"]),
        "callback_rate": rate(counts["called_back"], counts["completed"]),
        "reopen_rate": rate(counts["reopened"], counts["completed"]),
    }
    three = (figures["response_rate"], figures["resolution_rate"], figures["satisfaction_rate"])
    score = None
    if all(r is not None for r in three):
        score = round(100 * sum(w * r for w, r in zip(weights, three, strict=True) if r), 2)
    return {**counts, **figures, "score": score}


async def compute_figures(
    conn: asyncpg.Connection,
    query: FigureQuery,
    settings: Settings,
    now: dt.datetime,
    *,
    per_day: bool = False,
) -> list[dict[str, Any]]:
    """One row per key of ``query.by`` with its counts, rates, score and name; with
    ``per_day`` one per key and local day (``day``), by the same formulas. Days are
    those of figure_settings' time zone (Asia/Shanghai unless changed)."""
    end = query.end + dt.timedelta(days=1)
    found = await queries.figures(conn, query.by, query.start, end, now, per_day=per_day)
    rows = [dict(r) for r in found]
    names = await queries.figure_names(conn, query.by, [r["key"] for r in rows])
    weights = score_weights(settings)
    return [{**rates(r, weights), "name": names.get(r["key"], r["key"])} for r in rows]


async def hard_case_figures(
    conn: asyncpg.Connection, period: Period, now: dt.datetime
) -> list[dict[str, Any]]:
    """办不成事, reported apart, one row per hotline: registered in the period, completed
    in it and of those on time (by the hard-case due), and open and overdue now."""
    end = period.end + dt.timedelta(days=1)
    rows = [dict(r) for r in await queries.hard_case_figures(conn, period.start, end, now)]
    names = await queries.figure_names(conn, "hotline", [r["key"] for r in rows])
    return [
        {
            **r,
            "on_time_rate": rate(r["completed_on_time"], r["completed"]),
            "name": names.get(r["key"], r["key"]),
        }
        for r in rows
    ]
