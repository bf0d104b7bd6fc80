"""The working calendar's administration (docs/core.md, "Working calendar
administration"): years with their state, a year's days and the check of them, a year
replaced from a file, single days entered by hand, a year confirmed. After each change
commits, every process is told to load the calendar again."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hotline.calendar_admin import service
from hotline.calendar_admin.check import DayEntry, check_year, read_csv, read_json
from hotline.errors import InvalidInput
from hotline.reference import versions
from hotline.users.models import Role
from web.api import Routes, json_response, read_body
from web.auth import require_actor
from web.errors import language
from web.keys import CALENDAR, CLOCK, POOL, REDIS, SETTINGS

routes = Routes()

ADMIN = frozenset({Role.ADMIN})
_YEAR = r"/api/v1/admin/calendar/{year:\d\d\d\d}"
_DAY = _YEAR + r"/days/{day:\d\d\d\d-\d\d-\d\d}"


class ImportBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["json", "csv"] = Field(
        description="json: a year as config/demo/calendar.json holds it (or the whole "
        "file); csv: lines date,holiday|workday,name"
    )
    content: str = Field(min_length=1, max_length=200_000, description="the file's text")
    source: str | None = Field(
        default=None, max_length=300, description="the notice; else the file's, else kept"
    )
    dry_run: bool = Field(default=False, description="only check, store nothing")


class DayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    workday: bool = Field(description="true: a make-up working day; false: a day off")
    name: str = Field(min_length=1, max_length=40)


class ConfirmBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str | None = Field(default=None, max_length=300, description="the notice")


def _year(request: web.Request) -> int:
    year = int(request.match_info["year"])
    service.check_year_number(year)
    return year


def _day(request: web.Request, year: int) -> dt.date:
    try:
        day = dt.date.fromisoformat(request.match_info["day"])
    except ValueError as exc:
        raise InvalidInput("not a date", code="invalid_date", fields={"day": "not a date"}) from exc
    if day.year != year:
        raise InvalidInput(
            "{date} is not in {year}",
            code="day_outside_year",
            fields={"day": "{date} is not in {year}"},
            date=day.isoformat(),
            year=year,
        )
    return day


async def _changed(request: web.Request, year: service.Year) -> web.Response:
    """After the commit: every process loads the calendar again."""
    await versions.announce(request.app[REDIS], "calendar")
    return json_response(year.to_json(language(request)))


@routes.route(
    "GET",
    "/api/v1/admin/calendar",
    summary="The calendar's years: state, source, counts, completeness; and the years "
    "(this one, the next) whose holidays are unknown",
    tag="admin",
    roles=ADMIN,
)
async def list_years(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    today = request.app[CLOCK]().astimezone(ZoneInfo(settings.timezone)).date()
    async with request.app[POOL].acquire() as conn:
        years = await service.list_years(conn)
        calendar = await request.app[CALENDAR].get(conn)
    return json_response(
        {"items": years, "missing_years": service.missing_years(today, calendar.has_year)}
    )


@routes.route("GET", _YEAR, summary="A year's days and their check", tag="admin", roles=ADMIN)
async def get_year(request: web.Request) -> web.Response:
    year = _year(request)
    async with request.app[POOL].acquire() as conn:
        found = await service.read_year(conn, year)
    return json_response(found.to_json(language(request)))


@routes.route(
    "POST",
    _YEAR + "/import",
    summary="Replace a year's days from a file (JSON or CSV); with dry_run only check it",
    tag="admin",
    body=ImportBody,
    roles=ADMIN,
)
async def import_year(request: web.Request) -> web.Response:
    actor = require_actor(request, ADMIN)
    year = _year(request)
    body = await read_body(request, ImportBody)
    read = read_json(body.content, year) if body.format == "json" else read_csv(body.content)
    source = body.source if body.source is not None else (read.source or None)
    if body.dry_run:
        lang = language(request)
        return json_response(
            {
                "year": year,
                "days": [d.model_dump(mode="json") for d in read.days],
                "source": source,
                "issues": [i.to_json(lang) for i in check_year(year, read.days)],
            }
        )
    async with request.app[POOL].acquire() as conn, conn.transaction():
        stored = await service.do_replace_year(conn, actor, year, read.days, source)
    return await _changed(request, stored)


@routes.route(
    "PUT",
    _DAY,
    summary="Enter one day by hand: a day off or a make-up working day",
    tag="admin",
    body=DayBody,
    roles=ADMIN,
)
async def put_day(request: web.Request) -> web.Response:
    actor = require_actor(request, ADMIN)
    year = _year(request)
    day = _day(request, year)
    body = await read_body(request, DayBody)
    entry = DayEntry(date=day, workday=body.workday, name=body.name)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        stored = await service.do_set_day(conn, actor, entry)
    return await _changed(request, stored)


@routes.route(
    "DELETE",
    _DAY,
    summary="Remove a day's entry: it is what its weekday makes it again",
    tag="admin",
    roles=ADMIN,
)
async def delete_day(request: web.Request) -> web.Response:
    actor = require_actor(request, ADMIN)
    year = _year(request)
    day = _day(request, year)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        stored = await service.do_remove_day(conn, actor, day)
    return await _changed(request, stored)


@routes.route(
    "POST",
    _YEAR + "/confirm",
    summary="Confirm a complete year (provisional → confirmed); 409 with the check's errors",
    tag="admin",
    body=ConfirmBody,
    roles=ADMIN,
)
async def confirm_year(request: web.Request) -> web.Response:
    actor = require_actor(request, ADMIN)
    year = _year(request)
    body = await read_body(request, ConfirmBody)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        stored = await service.do_confirm(conn, actor, year, body.source, request.app[CLOCK]())
    return json_response(stored.to_json(language(request)))
