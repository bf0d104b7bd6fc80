"""Work orders: register, read with history, search, resolve on the call; callers'
profiles."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hotline import i18n
from hotline.callers.models import CallerUpdate
from hotline.callers.service import caller_profile, do_update_caller
from hotline.db import transaction
from hotline.errors import InvalidInput, InvalidQuery
from hotline.knowledge.service import answering_article, article_answered_with
from hotline.orders import queries
from hotline.orders.lifecycle import OPEN
from hotline.orders.models import ConfirmDraft, NewOrder, OrderFilter
from hotline.orders.presenting import LIVE, attachment_json, event_json, order_json, phone_for
from hotline.orders.searching import invalid_query, search_orders
from hotline.orders.service import (
    access_order_by_id,
    do_confirm_draft,
    do_register_order,
    do_resolve_on_call,
    hotline_scope,
)
from hotline.users.models import CENTRE_ROLES, Actor
from routing import queries as routing_queries
from routing.duplicates import do_merge, find_duplicates
from web.api import (
    ERROR_SCHEMA,
    MAX_ID,
    ErrorShape,
    Routes,
    json_response,
    path_int,
    read_body,
    read_query,
)
from web.auth import require_actor
from web.errors import language
from web.keys import CALENDAR, CLOCK, POOL, SETTINGS

routes = Routes()

# A search's bad parameter is a 400 invalid_query naming it (the console's contract).
SEARCH_ERRORS = ErrorShape("Error", ERROR_SCHEMA, invalid_status=400)


class Registering(NewOrder):
    """An order to register; ``parent_id`` registers it straight into that order as a
    duplicate (重复件), so it is never dispatched."""

    parent_id: int | None = Field(
        default=None, description="register it merged into this order (or into its parent)"
    )


class ResolveOnCall(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reply: str = Field(min_length=1, max_length=4000)
    article_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="the knowledge base's article answered with"
    )


@routes.route(
    "POST",
    "/api/v1/orders",
    summary="Register a work order (受理)",
    tag="orders",
    body=Registering,
    roles=CENTRE_ROLES,
    statuses={201: "registered", 200: "a retried request: the order it made before"},
)
async def register_order(request: web.Request) -> web.Response:
    actor = require_actor(request)
    new = await read_body(request, Registering)
    pool = request.app[POOL]
    now = request.app[CLOCK]()
    async with transaction(pool) as conn:
        calendar = await request.app[CALENDAR].get(conn)
        result = await do_register_order(conn, actor, new, calendar, now)
        order = result.order
        if result.created and new.parent_id is not None:
            # In the registration's transaction: routing finds it merged and leaves it.
            order = await do_merge(
                conn, actor, order["id"], new.parent_id, now, reason="受理时合并为重复件"
            )
    possible = []
    if order["parent_id"] is None:
        async with pool.acquire() as conn:
            # Offered, not applied: the agent decides whether to merge (重复件).
            possible = await find_duplicates(conn, actor, order, request.app[SETTINGS])
    return json_response(
        {**order_json(order), "possible_duplicates": possible},
        status=201 if result.created else 200,
    )


def read_search(request: web.Request) -> OrderFilter:
    """The search's parameters; a bad one answers 400 ``invalid_query`` naming it."""
    try:
        return read_query(request, OrderFilter)
    except ValidationError as exc:
        raise invalid_query(exc) from exc
    except InvalidInput as exc:  # unknown parameters
        raise InvalidQuery(exc.template, fields=exc.fields) from exc


def found_json(actor: Actor, row: asyncpg.Record, now: dt.datetime) -> dict[str, Any]:
    """An order as a search lists it: the phone as the actor may see it, the lead unit
    and whether it is overdue now."""
    data = order_json(row)
    name_zh, name_en = data.pop("lead_name_zh"), data.pop("lead_name_en")
    lead = row["lead_enterprise_id"]
    data["enterprise"] = (
        None if lead is None else {"id": lead, "name_zh": name_zh, "name_en": name_en}
    )
    due = row["resolution_due_at"]
    data["overdue"] = due is not None and due < now and row["status"] in OPEN
    data["caller_phone"] = phone_for(actor, row["caller_phone"], handling=False)
    return data


@routes.route(
    "GET",
    "/api/v1/orders",
    summary="Find orders: by phone, number or words, filters, five sorts, by cursor",
    tag="orders",
    query=OrderFilter,
    errors=SEARCH_ERRORS,
)
async def list_orders(request: web.Request) -> web.Response:
    actor = require_actor(request)
    criteria = read_search(request)
    now = request.app[CLOCK]()
    async with request.app[POOL].acquire() as conn:
        calendar = await request.app[CALENDAR].get(conn)
        rows, next_cursor = await search_orders(conn, actor, criteria, now, calendar.tz)
    items = [found_json(actor, r, now) for r in rows]
    return json_response({"items": items, "next_cursor": next_cursor})


@routes.route(
    "GET",
    r"/api/v1/orders/{order_id:\d+}",
    summary="One order with its history, deadlines and dispatches",
    tag="orders",
)
async def get_order(request: web.Request) -> web.Response:
    actor = require_actor(request)
    lang = language(request)
    order_id = path_int(request, "order_id")
    async with request.app[POOL].acquire() as conn:
        order = await access_order_by_id(conn, actor, order_id)
        events = await queries.list_events(conn, order_id)
        deadlines = await queries.list_deadlines(conn, order_id)
        dispatches = await queries.list_dispatches(conn, order_id)
        attachments = await routing_queries.order_attachments(conn, order_id)
        children = await routing_queries.merged_children(conn, order_id, hotline_scope(actor))
        suspensions = await routing_queries.order_suspensions(conn, order_id, request.app[CLOCK]())
        article = await article_answered_with(conn, order_id)
        scope = (
            await queries.enterprise_scope(conn, actor.enterprise_id)
            if actor.enterprise_id is not None
            else []
        )
    handling = any(d["enterprise_id"] in scope and d["state"] in LIVE for d in dispatches)
    return json_response(
        {
            **order_json(order),
            "caller_phone": phone_for(actor, order["caller_phone"], handling=handling),
            "events": [event_json(actor, e, lang) for e in events],
            "deadlines": [dict(d) for d in deadlines],
            "dispatches": [i18n.render_texts(d, lang) for d in dispatches],
            "attachments": [attachment_json(a) for a in attachments],
            # 挂起: the last one open while the clock is stopped (routing/suspensions.py).
            "suspended": any(s["ended_at"] is None for s in suspensions),
            "suspensions": [dict(s) for s in suspensions],
            # The knowledge base's article the order was answered with on the call.
            "article": article,
            "merged_children": [
                {**c, "caller_phone": phone_for(actor, c["caller_phone"], handling=False)}
                for c in children
            ],
        }
    )


@routes.route(
    "POST",
    r"/api/v1/orders/{order_id:\d+}/resolve-on-call",
    summary="Resolve during the call (直接办结)",
    tag="orders",
    body=ResolveOnCall,
    roles=CENTRE_ROLES,
)
async def resolve_on_call(request: web.Request) -> web.Response:
    actor = require_actor(request)
    body = await read_body(request, ResolveOnCall)
    now = request.app[CLOCK]()
    async with transaction(request.app[POOL]) as conn:
        article = None
        if body.article_id is not None:
            today = now.astimezone(ZoneInfo(request.app[SETTINGS].timezone)).date()
            article = await answering_article(conn, body.article_id, today)
        order = await do_resolve_on_call(
            conn, actor, path_int(request, "order_id"), body.reply, now, article=article
        )
    return json_response({**order_json(order), "article": article})


@routes.route(
    "POST",
    r"/api/v1/orders/{order_id:\d+}/confirm",
    summary="Confirm a draft (from SMS, a message, a form) as a registered order",
    tag="orders",
    body=ConfirmDraft,
    roles=CENTRE_ROLES,
)
async def confirm_draft(request: web.Request) -> web.Response:
    actor = require_actor(request)
    body = await read_body(request, ConfirmDraft)
    async with transaction(request.app[POOL]) as conn:
        calendar = await request.app[CALENDAR].get(conn)
        order = await do_confirm_draft(
            conn, actor, path_int(request, "order_id"), body, calendar, request.app[CLOCK]()
        )
    return json_response(order_json(order))


@routes.route(
    "GET",
    "/api/v1/callers/{phone}",
    summary="A caller's profile: flags, open and past orders, recent contacts",
    tag="orders",
    roles=CENTRE_ROLES,
)
async def caller(request: web.Request) -> web.Response:
    actor = require_actor(request)
    async with request.app[POOL].acquire() as conn:
        return json_response(await caller_profile(conn, actor, request.match_info["phone"]))


@routes.route(
    "PATCH",
    "/api/v1/callers/{phone}",
    summary="Change a caller's profile (flags, representative, language, place, notes); "
    "each change is recorded",
    tag="orders",
    body=CallerUpdate,
    roles=CENTRE_ROLES,
    statuses={200: "the profile as changed, with its history"},
)
async def update_caller(request: web.Request) -> web.Response:
    actor = require_actor(request)
    body = await read_body(request, CallerUpdate)
    async with transaction(request.app[POOL]) as conn:
        profile = await do_update_caller(
            conn, actor, request.match_info["phone"], body, request.app[CLOCK]()
        )
    return json_response(profile)
