"""Making and storing reports: one a supervisor asks for, and those the morning run owes
(yesterday's, last week's, and last month's from the month's first working day on)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from hotline.errors import Forbidden, InvalidInput, NotFound
from hotline.settings import Settings
from hotline.users.models import Actor
from hotline.workcal import WorkingCalendar
from reports.periodic import queries
from reports.periodic.document import build_document
from reports.periodic.periods import Kind, Period, month_of, period_of, week_of

SCOPE = Field(default="", max_length=32, description="a hotline's code; empty: the whole centre")


class PeriodQuery(BaseModel):
    """A report's period and scope, as the compute and make operations (and the export of
    a report) take them."""

    model_config = ConfigDict(extra="forbid")
    kind: Kind = Field(description="daily, weekly (Monday to Sunday), monthly or custom")
    day: dt.date | None = Field(
        default=None, description="a local day in a daily, weekly or monthly period"
    )
    start: dt.date | None = Field(default=None, description="a custom period's first local day")
    end: dt.date | None = Field(default=None, description="a custom period's last local day")
    scope: str = SCOPE

    def period(self) -> Period:
        return period_of(self.kind, self.day, self.start, self.end)


def may_see(actor: Actor, scope: str) -> bool:
    """The centre's report is for those who see every hotline."""
    return actor.hotlines is None if scope == "" else actor.sees_hotline(scope)


def check_scope(actor: Actor, scope: str) -> None:
    if not may_see(actor, scope):
        raise Forbidden("this report is not of your hotlines", code="scope_forbidden")


async def check_hotline(conn: asyncpg.Connection, scope: str) -> None:
    """A report of a hotline there is not would be stored empty: refused."""
    if scope and not await queries.names(conn, "hotline", [scope]):
        raise InvalidInput(
            "there is no hotline {scope}",
            code="unknown_hotline",
            fields={"scope": "unknown"},
            scope=scope,
        )


async def do_generate(
    conn: asyncpg.Connection,
    period: Period,
    scope: str,
    settings: Settings,
    now: dt.datetime,
    *,
    user_id: int | None,
    only_first: bool = False,
) -> int | None:
    """The period's report for the scope made and stored as its next version (a
    regeneration keeps the earlier ones); with ``only_first`` only when there is none
    yet. Returns the new report's id, or None."""
    async with conn.transaction():
        if only_first and await queries.report_exists(conn, period, scope):
            return None
        document = await build_document(conn, period, scope, settings, now)
        as_of = document["data_as_of"]
        return await queries.store(
            conn,
            kind=period.kind,
            first=period.first,
            last=period.last,
            scope=scope,
            document=document,
            data_as_of=dt.datetime.fromisoformat(as_of) if as_of else None,
            now=now,
            user_id=user_id,
            only_first=only_first,
        )


def due_periods(today: dt.date, calendar: WorkingCalendar) -> list[Period]:
    """The periods whose reports are owed on the local day ``today``: yesterday, last
    week, and last month once this month's first working day has come (reports not made
    on their day, the system being down, are made on the next morning that runs)."""
    yesterday = today - dt.timedelta(days=1)
    owed = [Period("daily", yesterday, yesterday), week_of(today - dt.timedelta(days=7))]
    first_workday = calendar.next_workday(today.replace(day=1) - dt.timedelta(days=1))
    if today >= first_workday:
        owed.append(month_of(today.replace(day=1) - dt.timedelta(days=1)))
    return owed


async def make_due_reports(
    conn: asyncpg.Connection,
    settings: Settings,
    calendar: WorkingCalendar,
    today: dt.date,
    now: dt.datetime,
) -> int:
    """Each owed report of each hotline and of the centre that is not there yet; returns
    how many were made. Run twice, it makes none the second time."""
    scopes = ["", *await queries.hotline_codes(conn)]
    made = 0
    for period in due_periods(today, calendar):
        for scope in scopes:
            if await do_generate(conn, period, scope, settings, now, user_id=None, only_first=True):
                made += 1
    return made


async def stored_report(conn: asyncpg.Connection, report_id: int) -> dict[str, Any]:
    row = await queries.get_report(conn, report_id)
    if row is None:
        raise NotFound("report {report_id} not found", report_id=report_id)
    return dict(row)
