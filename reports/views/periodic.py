"""HTTP: periodic reports (docs/reports.md, "Periodic reports"): the stored ones, one
opened, a report of any period computed on demand, and a stored one made again.
Supervisors and admins only; a supervisor tied to some hotlines sees only theirs (and
not the whole centre's)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hotline.errors import NotFound
from hotline.users.models import SUPERVISOR_ROLES
from reports.periodic import queries
from reports.periodic.document import build_document
from reports.periodic.periods import Kind
from reports.periodic.service import (
    PeriodQuery,
    check_hotline,
    check_scope,
    do_generate,
    may_see,
    stored_report,
)
from web.api import Routes, json_response, path_int, read_body, read_query
from web.auth import require_actor
from web.keys import CLOCK, POOL, READ_POOL, SETTINGS

routes = Routes()


class ReportList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind | None = None
    scope: str | None = Field(
        default=None, max_length=32, description="a hotline's code, or empty for the centre's"
    )
    limit: int = Field(default=100, ge=1, le=500)


@routes.route(
    "GET",
    "/api/v1/reports/periodic",
    summary="Stored periodic reports (the latest version of each), newest period first",
    tag="reports",
    query=ReportList,
    roles=SUPERVISOR_ROLES,
)
async def list_reports(request: web.Request) -> web.Response:
    actor = require_actor(request, SUPERVISOR_ROLES)
    query = read_query(request, ReportList)
    async with request.app[READ_POOL].acquire() as conn:
        rows = await queries.list_reports(conn, query.kind, query.scope, query.limit)
    return json_response({"items": [dict(r) for r in rows if may_see(actor, r["scope"])]})


@routes.route(
    "GET",
    "/api/v1/reports/periodic/compute",
    summary="A periodic report of any period computed now, not stored",
    tag="reports",
    query=PeriodQuery,
    roles=SUPERVISOR_ROLES,
    statuses={400: "a period that is not one (code bad_period, period_too_long)"},
)
async def compute(request: web.Request) -> web.Response:
    actor = require_actor(request, SUPERVISOR_ROLES)
    query = read_query(request, PeriodQuery)
    period = query.period()
    check_scope(actor, query.scope)
    async with request.app[READ_POOL].acquire() as conn:
        await check_hotline(conn, query.scope)
        document = await build_document(
            conn, period, query.scope, request.app[SETTINGS], request.app[CLOCK]()
        )
    return json_response({"id": None, "version": None, "document": document})


@routes.route(
    "GET",
    "/api/v1/reports/periodic/{report_id}",
    summary="One stored periodic report with its document",
    tag="reports",
    roles=SUPERVISOR_ROLES,
)
async def open_report(request: web.Request) -> web.Response:
    actor = require_actor(request, SUPERVISOR_ROLES)
    async with request.app[READ_POOL].acquire() as conn:
        report = await stored_report(conn, path_int(request, "report_id"))
    if not may_see(actor, report["scope"]):
        # Hotlines are a boundary: another hotline's report is not found, as an order is.
        raise NotFound("report {report_id} not found", report_id=report["id"])
    return json_response(report)


@routes.route(
    "POST",
    "/api/v1/reports/periodic",
    summary="Make a period's report now and store it as its next version",
    tag="reports",
    body=PeriodQuery,
    roles=SUPERVISOR_ROLES,
    statuses={
        201: "the report made, as its next version",
        400: "a period that is not one (code bad_period, period_too_long)",
    },
)
async def regenerate(request: web.Request) -> web.Response:
    actor = require_actor(request, SUPERVISOR_ROLES)
    body = await read_body(request, PeriodQuery)
    period = body.period()
    check_scope(actor, body.scope)
    async with request.app[POOL].acquire() as conn:
        await check_hotline(conn, body.scope)
        report_id = await do_generate(
            conn,
            period,
            body.scope,
            request.app[SETTINGS],
            request.app[CLOCK](),
            user_id=actor.user_id,
        )
        assert report_id is not None  # only the schedule's first version may be skipped
        report = await stored_report(conn, report_id)
    return json_response(report, status=201)
