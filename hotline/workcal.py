"""The Chinese working calendar and the one function that computes deadlines.

Which days are working days: a ``calendar_days`` row wins; otherwise the
``chinese-calendar`` library for the years it knows (holidays and 调休 make-up
working days); otherwise Monday to Friday. A year with neither (no row of it, beyond
the library) has no holidays at all: a deadline computed into it is logged once per
process as a warning, and the administrators' calendar screen names the year
(docs/core.md, "Working calendar administration").

Time limits come in three units:

- ``hours``: natural hours, for urgent faults; the clock never stops.
- ``working_hours``: counted only inside the working periods of working days.
- ``working_days``: the day the clock starts does not count (期间开始之日不计算在内);
  the limit falls at the end of the last working period of the Nth working day after
  it. A fractional number of working days is counted as working hours instead.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)

Unit = Literal["hours", "working_hours", "working_days"]
UNITS: tuple[Unit, ...] = ("hours", "working_hours", "working_days")

# Far enough for any real limit; reaching it means the calendar has no working days.
_MAX_DAYS_SCANNED = 3660
# The years this process has warned of having no calendar (once each).
_WARNED: set[int] = set()


@dataclass(frozen=True)
class WorkingCalendar:
    periods: list[tuple[dt.time, dt.time]]
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    overrides: Mapping[dt.date, bool] = field(default_factory=dict)

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        workday, known = _library_workday(day)
        if not known and day.year not in self.years and day.year not in _WARNED:
            _WARNED.add(day.year)
            log.warning(
                "year %s has no working calendar: its holidays are unknown and only "
                "weekends are days off; enter it on the calendar administration screen",
                day.year,
            )
        return workday

    @functools.cached_property
    def years(self) -> frozenset[int]:
        """The years the database has days of (an administrator entered them)."""
        return frozenset(day.year for day in self.overrides)

    def has_year(self, year: int) -> bool:
        """Whether ``year``'s holidays are known: days of it entered, or the library's."""
        return year in self.years or _library_knows(year)

    @property
    def hours_per_day(self) -> Decimal:
        seconds = sum(_seconds_between(start, end) for start, end in self.periods)
        return Decimal(seconds) / 3600

    def add(self, start: dt.datetime, amount: Decimal | float | int, unit: Unit) -> dt.datetime:
        """The moment a limit of ``amount`` ``unit`` that starts at ``start`` runs out.

        ``start`` must be timezone-aware; the result is in UTC.
        """
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        amount = Decimal(str(amount))
        if amount < 0:
            raise ValueError("a time limit cannot be negative")
        if unit == "hours":
            return (start + dt.timedelta(seconds=float(amount * 3600))).astimezone(dt.UTC)
        if unit == "working_days" and amount == amount.to_integral_value():
            return self._add_working_days(start, int(amount))
        if unit == "working_days":
            amount = amount * self.hours_per_day
        elif unit != "working_hours":
            raise ValueError(f"unknown time unit {unit!r}")
        return self._add_working_seconds(start, amount * 3600)

    def working_seconds(self, start: dt.datetime, end: dt.datetime) -> Decimal:
        """Working time between two moments (zero when ``end`` is not after ``start``)."""
        if end <= start:
            return Decimal(0)
        total = Decimal(0)
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            if self.is_workday(day):
                for period_start, period_end in self.periods:
                    begin = max(self._at(day, period_start), start)
                    finish = min(self._at(day, period_end), end)
                    if finish > begin:
                        total += Decimal((finish - begin).total_seconds())
            day += dt.timedelta(days=1)
        return total

    def span(self, start: dt.datetime, end: dt.datetime, unit: Unit) -> Decimal:
        """Seconds between two moments in the kind of time a limit of ``unit`` runs on:
        natural seconds for ``hours``, working seconds otherwise (zero when ``end`` is
        not after ``start``)."""
        if unit == "hours":
            return Decimal(str(max((end - start).total_seconds(), 0)))
        return self.working_seconds(start, end)

    def fraction_point(
        self, start: dt.datetime, due: dt.datetime, fraction: float, unit: Unit
    ) -> dt.datetime:
        """The moment ``fraction`` of the way from ``start`` to ``due``, counted in the
        limit's own kind of time (natural hours, or working time)."""
        if unit == "hours":
            return (start + (due - start) * fraction).astimezone(dt.UTC)
        seconds = self.working_seconds(start, due) * Decimal(str(fraction))
        return self._add_working_seconds(start, seconds)

    def next_workday(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        for _ in range(_MAX_DAYS_SCANNED):
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                return day
        raise ValueError("no working day within ten years")

    def _add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        day = start.astimezone(self.tz).date()
        if days == 0:
            return start.astimezone(dt.UTC)
        for _ in range(days):
            day = self.next_workday(day)
        return self._at(day, self.periods[-1][1])

    def _add_working_seconds(self, start: dt.datetime, seconds: Decimal) -> dt.datetime:
        local = start.astimezone(self.tz)
        day = local.date()
        remaining = seconds
        for _ in range(_MAX_DAYS_SCANNED):
            if self.is_workday(day):
                for period_start, period_end in self.periods:
                    begin = max(self._at(day, period_start), local)
                    end = self._at(day, period_end)
                    if begin >= end:
                        continue
                    available = Decimal((end - begin).total_seconds())
                    if remaining <= available:
                        return begin + dt.timedelta(seconds=float(remaining))
                    remaining -= available
            day += dt.timedelta(days=1)
        raise ValueError("no working time within ten years")

    def _at(self, day: dt.date, time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, tzinfo=self.tz).astimezone(dt.UTC)


@functools.lru_cache(maxsize=4096)
def _library_workday(day: dt.date) -> tuple[bool, bool]:
    """chinese-calendar's answer (Monday to Friday for years it does not know) and
    whether it knew the year, cached: the library scans its whole table on every call
    (about 50 µs), and scheduling asks for the same few days over and over."""
    try:
        return bool(chinese_calendar.is_workday(day)), True
    except NotImplementedError:
        return day.weekday() < 5, False


def _library_knows(year: int) -> bool:
    return _library_workday(dt.date(year, 1, 1))[1]


def _seconds_between(start: dt.time, end: dt.time) -> int:
    return (end.hour * 3600 + end.minute * 60 + end.second) - (
        start.hour * 3600 + start.minute * 60 + start.second
    )
