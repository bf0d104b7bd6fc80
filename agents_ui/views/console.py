"""What the consoles need beyond the work-order API: agents' status, the live queue, an
agent's own orders, the suggested service item, and the supervisors' board."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from callbacks import queries as callback_queries
from callbacks.figures import FigureQuery, compute_figures
from hotline.board import queries
from hotline.db import transaction
from hotline.knowledge.service import answering_article, article_answered_with
from hotline.orders.models import NewOrder
from hotline.orders.presenting import order_json
from hotline.orders.service import do_register_order, do_resolve_on_call, hotline_scope
from hotline.phones import mask_phone
from hotline.users.models import CALL_TAKER_ROLES, CENTRE_ROLES, SUPERVISOR_ROLES
from web.api import MAX_ID, Routes, json_response, read_body, read_query
from web.auth import require_actor
from web.keys import CALENDAR, CLOCK, POOL, SETTINGS
from web.live import announce_agent_status

routes = Routes()

# Open orders due within this many hours count as "due soon" on the board.
DUE_SOON_HOURS = 4

AgentState = Literal["available", "busy", "after_call", "offline"]


class StatusInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: AgentState


class ResolvedOrder(NewOrder):
    """An order answered during the call: registered and resolved at once."""

    reply: str = Field(min_length=1, max_length=4000)
    article_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="the knowledge base's article answered with"
    )


class MyOrders(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=50, ge=1, le=200)


class RatesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = Field(default=14, ge=1, le=92)
    # each unit, or each group with its branches' figures added
    by: Literal["unit", "group"] = "unit"


# ------------------------------------------------------------------------ agents


@routes.route(
    "GET", "/api/v1/agents/me/status", summary="My status", tag="console", roles=CALL_TAKER_ROLES
)
async def my_status(request: web.Request) -> web.Response:
    actor = require_actor(request)
    assert actor.user_id is not None
    async with request.app[POOL].acquire() as conn:
        row = await queries.get_agent_status(conn, actor.user_id)
    return json_response(dict(row) if row else {"user_id": actor.user_id, "status": "offline"})


@routes.route(
    "PUT",
    "/api/v1/agents/me/status",
    summary="Set my status: available, busy, after-call work (话后处理), offline",
    tag="console",
    body=StatusInput,
    roles=CALL_TAKER_ROLES,
)
async def set_my_status(request: web.Request) -> web.Response:
    actor = require_actor(request)
    body = await read_body(request, StatusInput)
    assert actor.user_id is not None
    async with transaction(request.app[POOL]) as conn:
        row = await queries.set_agent_status(conn, actor.user_id, body.status, request.app[CLOCK]())
    await announce_agent_status(request.app, [row])
    return json_response(dict(row))


@routes.route(
    "GET", "/api/v1/agents", summary="Agents and their status", tag="console", roles=CENTRE_ROLES
)
async def agents(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await queries.list_agents(conn)
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "GET",
    "/api/v1/calls/waiting",
    summary="Callers waiting for an agent, longest first (of the user's hotlines)",
    tag="console",
    roles=CENTRE_ROLES,
)
async def waiting_calls(request: web.Request) -> web.Response:
    actor = require_actor(request)
    now = request.app[CLOCK]()
    async with request.app[POOL].acquire() as conn:
        rows = await queries.waiting_calls(conn, hotline_scope(actor))
    # The number is for the screen-pop of whoever takes the call, not for the queue view.
    return json_response(
        {
            "items": [
                {
                    **dict(r),
                    "from_phone": mask_phone(r["from_phone"]),
                    "waiting_seconds": int((now - r["queued_at"]).total_seconds()),
                }
                for r in rows
            ]
        }
    )


@routes.route(
    "GET",
    "/api/v1/agents/me/orders",
    summary="Orders I own (registered), newest first, with their outcome (首问负责制)",
    tag="console",
    query=MyOrders,
    roles=CENTRE_ROLES,
)
async def my_orders(request: web.Request) -> web.Response:
    """The agent who registered an order stays its owner: it sees how each one ended,
    besides its status: completed when, reopened how often (``redo_count``), and the
    citizen's last callback answer (``answer``: solved, rating 1–5, outcome, when)."""
    actor = require_actor(request)
    criteria = read_query(request, MyOrders)
    assert actor.user_id is not None
    async with request.app[POOL].acquire() as conn:
        rows = await queries.orders_registered_by(conn, actor.user_id, criteria.limit)
        answers = await callback_queries.latest_answers(conn, [r["id"] for r in rows])
    return json_response(
        {"items": [{**order_json(r), "answer": _answer_json(answers.get(r["id"]))} for r in rows]}
    )


def _answer_json(answer: asyncpg.Record | None) -> dict[str, Any] | None:
    if answer is None:
        return None
    return {name: answer[name] for name in ("solved", "rating", "outcome", "answered_at")}


@routes.route(
    "POST",
    "/api/v1/orders/resolved-on-call",
    summary="Register an order answered during the call (直接办结), in one transaction",
    tag="console",
    body=ResolvedOrder,
    roles=CENTRE_ROLES,
    statuses={201: "registered and resolved", 200: "a retried request: the order it made"},
)
async def register_resolved(request: web.Request) -> web.Response:
    """Registering and then resolving in two requests races routing, which takes a newly
    registered order after commit; in one transaction routing finds it already resolved."""
    actor = require_actor(request)
    body = await read_body(request, ResolvedOrder)
    now = request.app[CLOCK]()
    async with transaction(request.app[POOL]) as conn:
        calendar = await request.app[CALENDAR].get(conn)
        article = (
            await answering_article(conn, body.article_id, now.astimezone(calendar.tz).date())
            if body.article_id is not None
            else None
        )
        # The body is an order to register (with its reply): its errors name its fields
        # as the client sent them.
        result = await do_register_order(conn, actor, body, calendar, now)
        order = result.order
        if result.created:
            order = await do_resolve_on_call(
                conn, actor, order["id"], body.reply, now, article=article
            )
        else:
            article = await article_answered_with(conn, order["id"])
    return json_response(
        {**order_json(order), "article": article}, status=201 if result.created else 200
    )


# -------------------------------------------------------------------------- board


@routes.route(
    "GET",
    "/api/v1/board",
    summary="The supervisors' live counters",
    tag="console",
    roles=SUPERVISOR_ROLES,
)
async def board(request: web.Request) -> web.Response:
    now = request.app[CLOCK]()
    tz = ZoneInfo(request.app[SETTINGS].timezone)
    local = now.astimezone(tz)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    async with request.app[POOL].acquire() as conn:
        counters = await queries.board_counters(
            conn, day_start=day_start, now=now, soon=now + dt.timedelta(hours=DUE_SOON_HOURS)
        )
    return json_response({"at": now, "due_soon_hours": DUE_SOON_HOURS, "counters": counters})


@routes.route(
    "GET",
    "/api/v1/board/units",
    summary="The callbacks' figures per unit over the last days, in total and per day",
    tag="console",
    query=RatesQuery,
    roles=SUPERVISOR_ROLES,
)
async def unit_rates(request: web.Request) -> web.Response:
    """The board shows the figures of ``GET /api/v1/figures?by=unit`` or ``by=group``
    (one definition of every rate, callbacks/figures.py) for the last ``days`` local days
    up to today."""
    criteria = read_query(request, RatesQuery)
    now = request.app[CLOCK]()
    async with request.app[POOL].acquire() as conn:
        calendar = await request.app[CALENDAR].get(conn)
        today = now.astimezone(calendar.tz).date()
        period = FigureQuery(
            by=criteria.by, start=today - dt.timedelta(days=criteria.days - 1), end=today
        )
        settings = request.app[SETTINGS]
        units = await compute_figures(conn, period, settings, now)
        days = await compute_figures(conn, period, settings, now, per_day=True)
    return json_response(
        {
            "start": period.start,
            "end": period.end,
            "days": criteria.days,
            "by": criteria.by,
            "units": [{**row, "unit_id": int(row["key"])} for row in units],
            "trend": [{**row, "unit_id": int(row["key"])} for row in days],
        }
    )
