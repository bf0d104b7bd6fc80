"""A year's days read from a file, and the check that they make a complete year.

A year is complete when each statutory holiday has a day off, make-up working days
(调休上班) fall on weekends, and every date is in the year: errors, which block its
confirmation. What is unusual but possible is a warning: a holiday whose days off are
all weekend days (a weekend needs no entry), a name that is no statutory holiday, and
days off that do not come to the statutory number."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hotline import i18n
from hotline.errors import InvalidInput

# 《全国年节及纪念日放假办法》 (as amended in 2024, in force from 2025): the holidays every
# year's notice schedules.
HOLIDAYS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
# The statutory days off of those holidays since 2025 (元旦 1, 春节 4, 清明 1, 劳动 2,
# 端午 1, 中秋 1, 国庆 3). A notice moves weekends around them: weekday days off less
# make-up working days come to this number.
STATUTORY_DAYS = 13

Severity = Literal["error", "warning"]


class DayEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: dt.date
    workday: bool = Field(description="true: a make-up working day (调休上班); false: a day off")
    name: str = Field(min_length=1, max_length=40, description="the holiday, e.g. 春节 or 春节调休")


class YearFile(BaseModel):
    """One year as ``config/demo/calendar.json`` holds it."""

    model_config = ConfigDict(extra="forbid")
    source: str = Field(default="", max_length=300)
    provisional: bool = False
    days: list[DayEntry] = Field(max_length=366)


@dataclass(frozen=True)
class Issue:
    severity: Severity
    code: str
    text: i18n.Text
    # What it is about: ``days.2027-02-14``, ``holidays.端午节``, or ``days``.
    field: str

    def to_json(self, language: str) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "field": self.field,
            "message": self.text.render(language),
        }


def _bad_file(template: str, **values: Any) -> InvalidInput:
    return InvalidInput(
        "the calendar file cannot be read: {problem}",
        code="invalid_calendar_file",
        fields={"content": i18n.Text(template, **values)},
        problem=i18n.Text(template, **values),
    )


def read_json(content: str, year: int) -> YearFile:
    """A year entry (``{"source", "provisional", "days"}``), or a whole calendar file
    (``{"2027": {...}}``) of which the year's entry is taken."""
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise _bad_file("not JSON (line {line})", line=exc.lineno) from exc
    if isinstance(data, dict) and "days" not in data:
        if str(year) not in data:
            raise _bad_file("the file has no entry for {year}", year=year)
        data = data[str(year)]
    try:
        return YearFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "file"
        raise _bad_file("{where}: {error}", where=where, error=first["msg"]) from exc


def read_csv(content: str) -> YearFile:
    """Lines ``date,type,name`` (type ``holiday`` or ``workday``), a header line
    ``date,type,name`` allowed."""
    days: list[DayEntry] = []
    for number, row in enumerate(csv.reader(io.StringIO(content.lstrip("\ufeff"))), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or (number == 1 and cells[:1] == ["date"]):
            continue
        if len(cells) != 3 or cells[1] not in ("holiday", "workday"):
            raise _bad_file("line {line}: expected date,holiday|workday,name", line=number)
        try:
            days.append(
                DayEntry.model_validate(
                    {"date": cells[0], "workday": cells[1] == "workday", "name": cells[2]}
                )
            )
        except ValidationError as exc:
            raise _bad_file(
                "line {line}: {error}", line=number, error=exc.errors()[0]["msg"]
            ) from exc
    return YearFile(days=days)


def check_year(year: int, days: list[DayEntry]) -> list[Issue]:
    """What keeps ``days`` from being ``year``'s complete calendar (errors) and what
    looks unusual in them (warnings)."""
    issues: list[Issue] = []
    seen: set[dt.date] = set()
    off_by_holiday: dict[str, list[dt.date]] = defaultdict(list)
    weekday_off = makeup = 0
    for day in sorted(days, key=lambda d: d.date):
        field = f"days.{day.date.isoformat()}"
        weekend = day.date.weekday() >= 5
        if day.date.year != year:
            issues.append(
                Issue(
                    "error",
                    "day_outside_year",
                    i18n.Text("{date} is not in {year}", date=day.date.isoformat(), year=year),
                    field,
                )
            )
        if day.date in seen:
            issues.append(
                Issue(
                    "error",
                    "duplicate_day",
                    i18n.Text("{date} is entered more than once", date=day.date.isoformat()),
                    field,
                )
            )
        seen.add(day.date)
        if day.workday:
            makeup += 1
            if not weekend:
                issues.append(
                    Issue(
                        "error",
                        "makeup_on_weekday",
                        i18n.Text(
                            "{date} is a make-up working day but not a Saturday or Sunday",
                            date=day.date.isoformat(),
                        ),
                        field,
                    )
                )
            continue
        weekday_off += 0 if weekend else 1
        named = [h for h in HOLIDAYS if h in day.name]
        if not named:
            issues.append(
                Issue(
                    "warning",
                    "unknown_holiday",
                    i18n.Text(
                        "{date}: {name} is none of the statutory holidays",
                        date=day.date.isoformat(),
                        name=day.name,
                    ),
                    field,
                )
            )
        for holiday in named:
            off_by_holiday[holiday].append(day.date)
    for holiday in HOLIDAYS:
        field = f"holidays.{holiday}"
        off = off_by_holiday.get(holiday)
        if not off:
            issues.append(
                Issue(
                    "error",
                    "holiday_missing",
                    i18n.Text("{holiday} has no day off", holiday=holiday),
                    field,
                )
            )
        elif all(d.weekday() >= 5 for d in off):
            issues.append(
                Issue(
                    "warning",
                    "holiday_on_weekend_only",
                    i18n.Text("{holiday}'s days off all fall on a weekend", holiday=holiday),
                    field,
                )
            )
    if weekday_off - makeup != STATUTORY_DAYS:
        issues.append(
            Issue(
                "warning",
                "statutory_days",
                i18n.Text(
                    "weekday days off less make-up working days come to {count}, "
                    "not the statutory {expected}",
                    count=weekday_off - makeup,
                    expected=STATUTORY_DAYS,
                ),
                "days",
            )
        )
    return issues


def errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "error"]
