"""A report's period: a local day, a week (Monday to Sunday), a month, or any run of days
up to a year; and the periods it is compared with (the one before, and the same one a
year earlier)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from hotline.errors import InvalidQuery

Kind = Literal["daily", "weekly", "monthly", "custom"]

# A custom period is at most a year: the day counts of a longer one are a year's report.
LONGEST_DAYS = 366


@dataclass(frozen=True)
class Period:
    kind: Kind
    first: dt.date
    last: dt.date  # included

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def end(self) -> dt.date:
        """The day after the last: the period as the half-open [first, end)."""
        return self.last + dt.timedelta(days=1)

    def previous(self) -> Period:
        """The period just before: the previous day, week or month, or as many days."""
        return self.back(1)

    def back(self, periods: int) -> Period:
        """The period ``periods`` before: the calendar month as many months before, else
        the period of the same number of days as many lengths before."""
        if self.kind == "monthly":
            months = self.first.year * 12 + self.first.month - 1 - periods
            return month_of(dt.date(months // 12, months % 12 + 1, 1))
        shift = dt.timedelta(days=self.days * periods)
        return Period(self.kind, self.first - shift, self.last - shift)

    def each_day(self) -> Iterator[dt.date]:
        for i in range(self.days):
            yield self.first + dt.timedelta(days=i)

    def last_year(self) -> Period:
        """The same period a year earlier: the same dates (29 February on the 28th), the
        same month, or the week holding the same date."""
        if self.kind == "monthly":
            return month_of(_year_before(self.first))
        if self.kind == "weekly":
            return week_of(_year_before(self.first))
        return Period(self.kind, _year_before(self.first), _year_before(self.last))

    def as_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "first_day": self.first.isoformat(),
            "last_day": self.last.isoformat(),
        }


_DAY = dt.timedelta(days=1)


def _year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def week_of(day: dt.date) -> Period:
    first = day - dt.timedelta(days=day.weekday())
    return Period("weekly", first, first + dt.timedelta(days=6))


def month_of(day: dt.date) -> Period:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return Period("monthly", first, following - _DAY)


def period_of(
    kind: Kind, day: dt.date | None, start: dt.date | None, end: dt.date | None
) -> Period:
    """The period a request names: a day within it for daily, weekly and monthly, the
    first and last days for custom. Raises ``InvalidQuery`` (400) naming the fields."""
    if kind == "custom":
        if start is None or end is None:
            raise InvalidQuery(
                "a custom period needs its first and last days",
                code="bad_period",
                fields={name: "required for a custom period" for name in ("start", "end")},
            )
        if end < start:
            raise InvalidQuery(
                "the period ends before it starts",
                code="bad_period",
                fields={"end": "before start"},
            )
        if (end - start).days + 1 > LONGEST_DAYS:
            raise InvalidQuery(
                "a period is at most {days} days",
                code="period_too_long",
                fields={"end": "more than a year after start"},
                days=LONGEST_DAYS,
            )
        return Period("custom", start, end)
    if day is None or start is not None or end is not None:
        raise InvalidQuery(
            "a daily, weekly or monthly period is named by one day in it",
            code="bad_period",
            fields={"day": "required, without start and end"},
        )
    if kind == "weekly":
        return week_of(day)
    if kind == "monthly":
        return month_of(day)
    return Period("daily", day, day)
