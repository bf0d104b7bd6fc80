"""The centre's work: returns to review, time requests, coordination, the ladder's
notices, duplicates and merges, outage notices."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Protocol, TypeVar

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hotline.db import transaction
from hotline.orders.presenting import order_json
from hotline.orders.service import access_order_by_id, hotline_scope
from hotline.settings import Settings
from hotline.users.models import CENTRE_ROLES, SUPERVISOR_ROLES, Actor
from hotline.workcal import WorkingCalendar
from routing import queries
from routing.duplicates import (
    CandidateQuery,
    candidates_before_registration,
    do_merge,
    find_duplicates,
)
from routing.outages import OutageInput, do_create_outage
from routing.review import (
    CoordinationInput,
    PriorityInput,
    ReturnDecision,
    TimeDecision,
    do_coordinate,
    do_decide_time_request,
    do_review_return,
    do_set_priority,
)
from web.api import ListLimit, Routes, json_response, path_int, read_body, read_query
from web.auth import require_actor
from web.keys import CALENDAR, CLOCK, POOL, SETTINGS

routes = Routes()

M = TypeVar("M", bound=BaseModel, contravariant=True)


class CentreDecision(Protocol[M]):
    async def __call__(
        self,
        conn: asyncpg.Connection,
        actor: Actor,
        target_id: int,
        body: M,
        /,
        *,
        calendar: WorkingCalendar,
        settings: Settings,
        now: dt.datetime,
    ) -> asyncpg.Record: ...


Level = Literal["reminder", "yellow", "red", "supervision", "public_notice"]


def _all_levels() -> list[Level]:
    return ["reminder", "yellow", "red", "supervision", "public_notice"]


class NoticeFilter(ListLimit):
    level: list[Level] = Field(default_factory=_all_levels)


class MergeInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parent_id: int


async def _decide(
    request: web.Request, model: type[M], use_case: CentreDecision[M], id_name: str
) -> web.Response:
    """A centre decision: one transaction with the calendar and the clock; the order after."""
    body = await read_body(request, model)
    async with transaction(request.app[POOL]) as conn:
        order = await use_case(
            conn,
            require_actor(request),
            path_int(request, id_name),
            body,
            calendar=await request.app[CALENDAR].get(conn),
            settings=request.app[SETTINGS],
            now=request.app[CLOCK](),
        )
    return json_response(order_json(order))


@routes.route(
    "GET",
    "/api/v1/returns",
    summary="Returns waiting for review",
    tag="supervision",
    query=ListLimit,
    roles=SUPERVISOR_ROLES,
)
async def pending_returns(request: web.Request) -> web.Response:
    criteria = read_query(request, ListLimit)
    async with request.app[POOL].acquire() as conn:
        rows = await queries.pending_returns(
            conn, criteria.limit, hotline_scope(require_actor(request))
        )
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "POST",
    r"/api/v1/returns/{return_id:\d+}/review",
    summary="Uphold (next unit) or overrule (强制派单) a return",
    tag="supervision",
    body=ReturnDecision,
    roles=SUPERVISOR_ROLES,
)
async def review_return(request: web.Request) -> web.Response:
    return await _decide(request, ReturnDecision, do_review_return, "return_id")


@routes.route(
    "GET",
    "/api/v1/time-requests",
    summary="Requests for more time to decide",
    tag="supervision",
    query=ListLimit,
    roles=SUPERVISOR_ROLES,
)
async def pending_time_requests(request: web.Request) -> web.Response:
    criteria = read_query(request, ListLimit)
    async with request.app[POOL].acquire() as conn:
        rows = await queries.pending_time_requests(
            conn, criteria.limit, hotline_scope(require_actor(request))
        )
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "POST",
    r"/api/v1/time-requests/{request_id:\d+}/decision",
    summary="Approve or reject a request for more time",
    tag="supervision",
    body=TimeDecision,
    roles=SUPERVISOR_ROLES,
)
async def decide_time_request(request: web.Request) -> web.Response:
    return await _decide(request, TimeDecision, do_decide_time_request, "request_id")


@routes.route(
    "POST",
    r"/api/v1/orders/{order_id:\d+}/coordinate",
    summary="Name lead and assisting units with a deadline (协调督办)",
    tag="supervision",
    body=CoordinationInput,
    roles=SUPERVISOR_ROLES,
)
async def coordinate(request: web.Request) -> web.Response:
    return await _decide(request, CoordinationInput, do_coordinate, "order_id")


@routes.route(
    "POST",
    r"/api/v1/orders/{order_id:\d+}/priority",
    summary="Set or lift 紧急 on an open order; its open deadlines follow",
    tag="orders",
    body=PriorityInput,
    roles=CENTRE_ROLES,
)
async def set_priority(request: web.Request) -> web.Response:
    return await _decide(request, PriorityInput, do_set_priority, "order_id")


@routes.route(
    "GET",
    "/api/v1/supervision/notices",
    summary="The ladder's steps: reminders, warnings, supervision, public notices",
    tag="supervision",
    query=NoticeFilter,
    roles=CENTRE_ROLES,
)
async def notices(request: web.Request) -> web.Response:
    criteria = read_query(request, NoticeFilter)
    async with request.app[POOL].acquire() as conn:
        rows = await queries.list_notices(
            conn, list(criteria.level), criteria.limit, hotline_scope(require_actor(request))
        )
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "GET",
    r"/api/v1/orders/{order_id:\d+}/duplicates",
    summary="Open orders that look like this one",
    tag="supervision",
    roles=CENTRE_ROLES,
)
async def duplicates(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        actor = require_actor(request)
        order = await access_order_by_id(conn, actor, path_int(request, "order_id"))
        found = await find_duplicates(conn, actor, order, request.app[SETTINGS])
        children = await queries.merged_children(conn, order["id"], hotline_scope(actor))
    return json_response({"items": found, "merged_children": [dict(c) for c in children]})


@routes.route(
    "GET",
    "/api/v1/duplicate-candidates",
    summary="Open orders an order about to be registered would duplicate",
    tag="supervision",
    query=CandidateQuery,
    roles=CENTRE_ROLES,
)
async def duplicate_candidates(request: web.Request) -> web.Response:
    criteria = read_query(request, CandidateQuery)
    async with request.app[POOL].acquire() as conn:
        found = await candidates_before_registration(
            conn, require_actor(request), criteria, request.app[SETTINGS], request.app[CLOCK]()
        )
    return json_response({"items": found})


@routes.route(
    "POST",
    r"/api/v1/orders/{order_id:\d+}/merge",
    summary="Merge this order into a parent order (重复件)",
    tag="supervision",
    body=MergeInput,
    roles=CENTRE_ROLES,
)
async def merge(request: web.Request) -> web.Response:
    body = await read_body(request, MergeInput)
    async with transaction(request.app[POOL]) as conn:
        order = await do_merge(
            conn,
            require_actor(request),
            path_int(request, "order_id"),
            body.parent_id,
            request.app[CLOCK](),
        )
    return json_response(order_json(order))


@routes.route(
    "GET", "/api/v1/outages", summary="Current and coming outage notices", tag="supervision"
)
async def list_outages(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await queries.list_outages(conn, request.app[CLOCK]())
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "POST",
    "/api/v1/outages",
    summary="Publish an outage notice (停水/停气/停热)",
    tag="supervision",
    body=OutageInput,
    roles=SUPERVISOR_ROLES,
    statuses={201: "published"},
)
async def create_outage(request: web.Request) -> web.Response:
    body = await read_body(request, OutageInput)
    async with transaction(request.app[POOL]) as conn:
        row = await do_create_outage(conn, require_actor(request), body)
    return json_response(dict(row), status=201)
