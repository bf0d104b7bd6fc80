"""Deadlines on the Chinese working calendar: holidays, 调休 make-up days, lunch breaks."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hotline.settings import parse_working_hours
from hotline.workcal import WorkingCalendar

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar(periods=parse_working_hours("09:00-12:00,13:00-18:00"), tz=SH)


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=SH)


def test_national_day_week_is_not_working_time() -> None:
    assert not any(CAL.is_workday(dt.date(2026, 10, day)) for day in range(1, 8))
    assert CAL.is_workday(dt.date(2026, 10, 8))


def test_make_up_saturday_and_sunday_are_working_days() -> None:
    assert CAL.is_workday(dt.date(2026, 10, 10))  # Saturday, 调休
    assert CAL.is_workday(dt.date(2026, 9, 20))  # Sunday, 调休
    assert not CAL.is_workday(dt.date(2026, 10, 11))  # an ordinary Sunday


def test_one_working_day_before_national_day_ends_after_the_holiday() -> None:
    due = CAL.add(local(2026, 9, 30, 10), 1, "working_days")
    assert due == local(2026, 10, 8, 18)


def test_working_days_count_the_make_up_saturday() -> None:
    # Sep 30 does not count (the start day); then Oct 8, 9 and Saturday Oct 10.
    assert CAL.add(local(2026, 9, 30, 10), 3, "working_days") == local(2026, 10, 10, 18)
    # From Sep 29: Sep 30, Oct 8, 9, 10, then Monday Oct 12.
    assert CAL.add(local(2026, 9, 29, 15), 5, "working_days") == local(2026, 10, 12, 18)


def test_working_hours_carry_over_the_holiday() -> None:
    # One hour left on Sep 30, three more on the morning of Oct 8.
    assert CAL.add(local(2026, 9, 30, 17), 4, "working_hours") == local(2026, 10, 8, 12)


def test_working_hours_skip_lunch_and_start_at_opening() -> None:
    assert CAL.add(local(2026, 11, 23, 11, 30), 1, "working_hours") == local(2026, 11, 23, 13, 30)
    assert CAL.add(local(2026, 11, 23, 7), 1, "working_hours") == local(2026, 11, 23, 10)
    # Friday evening → Monday morning.
    assert CAL.add(local(2026, 11, 20, 19), 2, "working_hours") == local(2026, 11, 23, 11)


def test_natural_hours_run_through_holidays() -> None:
    assert CAL.add(local(2026, 10, 1, 10), 2, "hours") == local(2026, 10, 1, 12)
    assert CAL.add(local(2026, 10, 1, 23, 45), 0.5, "hours") == local(2026, 10, 2, 0, 15)


def test_fractional_working_days_count_as_working_hours() -> None:
    assert CAL.hours_per_day == 8
    start = local(2026, 11, 23, 9)
    assert CAL.add(start, 0.5, "working_days") == CAL.add(start, 4, "working_hours")


def test_a_calendar_row_wins_over_the_library() -> None:
    cal = WorkingCalendar(periods=CAL.periods, tz=SH, overrides={dt.date(2026, 10, 8): False})
    assert cal.add(local(2026, 9, 30, 10), 1, "working_days") == local(2026, 10, 9, 18)


def test_years_the_library_does_not_know_fall_back_to_weekdays() -> None:
    assert CAL.is_workday(dt.date(2031, 3, 3))  # Monday
    assert not CAL.is_workday(dt.date(2031, 3, 1))  # Saturday


def test_results_are_utc_and_inputs_must_be_aware() -> None:
    due = CAL.add(local(2026, 11, 23, 9), 1, "working_hours")
    assert due.utcoffset() == dt.timedelta(0)
    with pytest.raises(ValueError):
        CAL.add(dt.datetime(2026, 11, 23, 9), 1, "hours")
    with pytest.raises(ValueError):
        CAL.add(local(2026, 11, 23, 9), -1, "hours")


def test_working_time_between_two_moments() -> None:
    # Friday 17:00 → Monday 10:00: one hour on Friday, one on Monday.
    assert CAL.working_seconds(local(2026, 11, 20, 17), local(2026, 11, 23, 10)) == 7200
    assert CAL.working_seconds(local(2026, 11, 23, 10), local(2026, 11, 23, 9)) == 0


def test_eighty_percent_of_a_limit_in_its_own_time() -> None:
    start = local(2026, 11, 23, 9)  # Monday
    due = CAL.add(start, 5, "working_days")  # Monday Nov 30, 18:00
    # 48 working hours lie in between (the start Monday counts as working time);
    # 80% is 38.4 h: Friday Nov 27 at 16:24.
    assert CAL.fraction_point(start, due, 0.8, "working_days") == local(2026, 11, 27, 16, 24)
    urgent_due = CAL.add(start, 10, "hours")
    assert CAL.fraction_point(start, urgent_due, 0.8, "hours") == local(2026, 11, 23, 17)
