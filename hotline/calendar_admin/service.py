"""The calendar's administration, one transaction per use case: the caller commits,
then announces ``calendar`` (``hotline.reference.versions.announce``) so that every
process computes with the new days at once.

Any change to a year's days makes it provisional again: the days in force are the
ones entered, and a person confirms them once the check passes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from hotline import audit
from hotline.calendar_admin import queries
from hotline.calendar_admin.check import DayEntry, Issue, check_year, errors
from hotline.errors import Conflict, InvalidInput
from hotline.users.models import Actor

FIRST_YEAR, LAST_YEAR = 2000, 2100
ENTITY = "calendar_year"


@dataclass(frozen=True)
class Year:
    year: int
    state: str | None  # None: no day of it entered yet
    source: str
    confirmed_by: str | None
    confirmed_at: dt.datetime | None
    days: list[DayEntry]
    issues: list[Issue]

    def to_json(self, language: str) -> dict[str, Any]:
        return {
            "year": self.year,
            "state": self.state,
            "source": self.source,
            "confirmed_by": self.confirmed_by,
            "confirmed_at": self.confirmed_at,
            "days": [d.model_dump(mode="json") for d in self.days],
            "complete": not errors(self.issues),
            "issues": [i.to_json(language) for i in self.issues],
        }


def check_year_number(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(
            "the year must be between {first} and {last}",
            code="invalid_year",
            fields={"year": "the year must be between {first} and {last}"},
            first=FIRST_YEAR,
            last=LAST_YEAR,
        )


async def read_year(conn: asyncpg.Connection, year: int, *, lock: bool = False) -> Year:
    check_year_number(year)
    row = await queries.get_year(conn, year, lock=lock)
    days = await queries.year_days(conn, year)
    return Year(
        year=year,
        state=row["state"] if row else None,
        source=row["source"] if row else "",
        confirmed_by=row["confirmed_by"] if row else None,
        confirmed_at=row["confirmed_at"] if row else None,
        days=days,
        issues=check_year(year, days),
    )


def _state(year: Year) -> dict[str, Any]:
    """A year as ``admin_changes`` keeps it."""
    return {
        "state": year.state,
        "source": year.source,
        "days": [d.model_dump(mode="json") for d in year.days],
    }


def _refuse_invalid(year: int, days: list[DayEntry]) -> None:
    """Days that cannot be stored under ``year`` at all (another year's date, one date
    twice); the other errors only keep the year from being confirmed."""
    bad = [i for i in check_year(year, days) if i.code in ("day_outside_year", "duplicate_day")]
    if bad:
        raise InvalidInput(
            "these days cannot be stored under {year}",
            code="invalid_calendar_days",
            fields={i.field: i.text for i in bad},
            year=year,
        )


async def do_replace_year(
    conn: asyncpg.Connection, actor: Actor, year: int, days: list[DayEntry], source: str | None
) -> Year:
    """``year``'s days become ``days`` (an imported file), the year provisional."""
    before = await read_year(conn, year, lock=True)
    _refuse_invalid(year, days)
    await queries.mark_year(conn, year, source)
    await queries.replace_days(conn, year, days, source if source is not None else before.source)
    after = await read_year(conn, year)
    await audit.record_change(
        conn,
        user_id=actor.user_id,
        entity=ENTITY,
        key=str(year),
        action="replace",
        before=_state(before) if before.state else None,
        after=_state(after),
    )
    return after


async def do_set_day(conn: asyncpg.Connection, actor: Actor, day: DayEntry) -> Year:
    """One day entered by hand: a day off or a make-up working day."""
    year = day.date.year
    before = await read_year(conn, year, lock=True)
    await queries.mark_year(conn, year, None)
    await queries.set_day(conn, day, before.source)
    return await _recorded(conn, actor, before, "set_day", day.date)


async def do_remove_day(conn: asyncpg.Connection, actor: Actor, day: dt.date) -> Year:
    """A day back to what its weekday makes it."""
    before = await read_year(conn, day.year, lock=True)
    await queries.mark_year(conn, day.year, None)
    if not await queries.remove_day(conn, day):
        raise InvalidInput(
            "{date} is no holiday or make-up day",
            code="calendar_day_not_found",
            fields={"date": "{date} is no holiday or make-up day"},
            date=day.isoformat(),
        )
    return await _recorded(conn, actor, before, "remove_day", day)


async def _recorded(
    conn: asyncpg.Connection, actor: Actor, before: Year, action: str, day: dt.date
) -> Year:
    after = await read_year(conn, before.year)

    def entry(year: Year) -> dict[str, Any] | None:
        found = [d for d in year.days if d.date == day]
        return {"state": year.state, **found[0].model_dump(mode="json")} if found else None

    await audit.record_change(
        conn,
        user_id=actor.user_id,
        entity=ENTITY,
        key=str(before.year),
        action=action,
        before=entry(before) or {"state": before.state, "date": day.isoformat()},
        after=entry(after) or {"state": after.state, "date": day.isoformat()},
    )
    return after


async def do_confirm(
    conn: asyncpg.Connection, actor: Actor, year: int, source: str | None, now: dt.datetime
) -> Year:
    """Provisional to confirmed, when the check finds no error."""
    before = await read_year(conn, year, lock=True)
    if before.state is None:
        raise Conflict("{year} has no days to confirm", code="calendar_year_empty", year=year)
    blocking = errors(before.issues)
    if blocking:
        raise Conflict(
            "{year} is not complete: {count} problems",
            code="calendar_incomplete",
            fields={i.field: i.text for i in blocking},
            year=year,
            count=len(blocking),
        )
    if before.state == "confirmed" and source is None:
        return before
    await queries.confirm_year(conn, year, source, actor.user_id, now)
    after = await read_year(conn, year)
    await audit.record_change(
        conn,
        user_id=actor.user_id,
        entity=ENTITY,
        key=str(year),
        action="confirm",
        before={"state": before.state, "source": before.source},
        after={"state": after.state, "source": after.source},
    )
    return after


async def list_years(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """Every year with days: its state, counts and whether it is complete."""
    days = await queries.all_days(conn)
    out = []
    for row in await queries.list_years(conn):
        issues = check_year(row["year"], [d for d in days if d.date.year == row["year"]])
        out.append(
            {
                **dict(row),
                "complete": not errors(issues),
                "errors": len(errors(issues)),
                "warnings": len(issues) - len(errors(issues)),
            }
        )
    return out


def missing_years(today: dt.date, has_year: Callable[[int], bool]) -> list[int]:
    """This year and the next when their holidays are unknown: deadlines running into
    them would count every weekday as a working day."""
    return [y for y in (today.year, today.year + 1) if not has_year(y)]
