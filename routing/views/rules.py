"""Routing rules for supervisors, and the ranking of units for an order."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from hotline.db import transaction
from hotline.orders.service import access_order_by_id
from hotline.users.models import CENTRE_ROLES, SUPERVISOR_ROLES
from routing import queries
from routing.rules import (
    RuleInput,
    candidates_for,
    do_create_rule,
    do_set_rule_active,
    do_update_rule,
)
from web.api import Routes, json_response, path_int, read_body, read_query
from web.auth import require_actor
from web.errors import language
from web.keys import CLOCK, POOL

routes = Routes()


class RuleFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include_inactive: bool = False


@routes.route(
    "GET",
    "/api/v1/routing/rules",
    summary="Routing rules",
    tag="routing",
    query=RuleFilter,
    roles=CENTRE_ROLES,
)
async def list_rules(request: web.Request) -> web.Response:
    criteria = read_query(request, RuleFilter)
    async with request.app[POOL].acquire() as conn:
        rows = await queries.list_rules(conn, include_inactive=criteria.include_inactive)
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "POST",
    "/api/v1/routing/rules",
    summary="Create a routing rule",
    tag="routing",
    body=RuleInput,
    roles=SUPERVISOR_ROLES,
    statuses={201: "created"},
)
async def create_rule(request: web.Request) -> web.Response:
    body = await read_body(request, RuleInput)
    async with transaction(request.app[POOL]) as conn:
        row = await do_create_rule(conn, require_actor(request), body, request.app[CLOCK]())
    return json_response(dict(row), status=201)


@routes.route(
    "PUT",
    r"/api/v1/routing/rules/{rule_id:\d+}",
    summary="Change a routing rule",
    tag="routing",
    body=RuleInput,
    roles=SUPERVISOR_ROLES,
)
async def update_rule(request: web.Request) -> web.Response:
    body = await read_body(request, RuleInput)
    async with transaction(request.app[POOL]) as conn:
        row = await do_update_rule(
            conn, require_actor(request), path_int(request, "rule_id"), body, request.app[CLOCK]()
        )
    return json_response(dict(row))


async def _set_active(request: web.Request, active: bool) -> web.Response:
    async with transaction(request.app[POOL]) as conn:
        row = await do_set_rule_active(
            conn, require_actor(request), path_int(request, "rule_id"), active, request.app[CLOCK]()
        )
    return json_response(dict(row))


@routes.route(
    "POST",
    r"/api/v1/routing/rules/{rule_id:\d+}/disable",
    summary="Disable a rule",
    tag="routing",
    roles=SUPERVISOR_ROLES,
)
async def disable_rule(request: web.Request) -> web.Response:
    return await _set_active(request, False)


@routes.route(
    "POST",
    r"/api/v1/routing/rules/{rule_id:\d+}/enable",
    summary="Enable a rule",
    tag="routing",
    roles=SUPERVISOR_ROLES,
)
async def enable_rule(request: web.Request) -> web.Response:
    return await _set_active(request, True)


@routes.route(
    "GET",
    r"/api/v1/routing/rules/{rule_id:\d+}/history",
    summary="Who changed a rule, when, and what",
    tag="routing",
    roles=CENTRE_ROLES,
)
async def rule_history(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await queries.rule_history(conn, path_int(request, "rule_id"))
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "GET",
    r"/api/v1/orders/{order_id:\d+}/candidates",
    summary="Responsible units for an order, ranked, with reasons; units that returned it marked",
    tag="routing",
    roles=CENTRE_ROLES,
    statuses={
        200: "`leads` and `assisting`: each unit with `enterprise_id`, `name`, `rule_id`,"
        " `reason` and `returned` (null, or the unit's standing return: `return_id`,"
        " `reason_code`, `reason_text`, `state`, `returned_at`); units whose return stands"
        " are ranked after the others. `returned`: every unit whose return stands."
    },
)
async def order_candidates(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        order = await access_order_by_id(
            conn, require_actor(request), path_int(request, "order_id")
        )
        answer = await candidates_for(conn, order, language(request))
    return json_response(answer)
