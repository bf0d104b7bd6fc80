"""HTTP: what platforms call (``/exchange/v1/{platform}/…``, signed, no session), and
the centre's API for the exchange: an order's exchange history, transfer, the
platforms, failed messages and their retry, and the board's figures.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hotline.db import transaction
from hotline.errors import DomainError, NotAuthenticated, NotFound
from hotline.orders import queries as order_queries
from hotline.orders.presenting import order_json
from hotline.users.models import CENTRE_ROLES, SUPERVISOR_ROLES, Role
from integrations.exchange import board, inbound, queries
from integrations.exchange.contract import Contract
from integrations.exchange.platforms import (
    PlatformChange,
    PlatformInput,
    do_change_platform,
    do_create_platform,
    do_renew_credentials,
    platform_json,
)
from integrations.exchange.transfer import TransferInput, do_transfer
from integrations.open311.limits import limit_address
from integrations.ratelimit import limiter
from web.api import Routes, json_response, path_int, read_body, read_query
from web.auth import require_actor
from web.errors import status_of
from web.keys import CALENDAR, CLOCK, FALLBACKS, POOL, REDIS, SETTINGS, STORAGE
from web.media import media_response

routes = Routes()
log = logging.getLogger(__name__)

BASE = "/exchange/v1/{platform:[a-z0-9_-]+}"
PLATFORMS = "/api/v1/exchange/platforms"
ADMIN = frozenset({Role.ADMIN})
SCOPE = "exchange"  # rate-limit keys rl:exchange:... (refused requests only)
# An order with its attachments' links is a few kB; 4,000 characters of description.
MAX_BODY_BYTES = 256 * 1024


# ------------------------------------------------------------- what platforms call


async def _signed(request: web.Request, conn: asyncpg.Connection, body: bytes) -> asyncpg.Record:
    return await inbound.authenticate(
        conn, request.match_info["platform"], dict(request.headers), body, request.app[CLOCK]()
    )


async def _log_refusal(request: web.Request, status: int, error: str) -> None:
    """A refused request is kept too (in a transaction of its own: the request's rolled
    back), so that an administrator can answer "we sent it"."""
    async with transaction(request.app[POOL]) as conn:
        await queries.log_request(
            conn,
            platform=request.match_info["platform"],
            number=None,
            order_id=None,
            status=status,
            error=error,
            now=request.app[CLOCK](),
        )


@routes.route(
    "POST",
    f"{BASE}/orders",
    summary="A platform pushes an order (signed; idempotent by the platform's number)",
    tag="exchange",
    body=inbound.InboundOrder,
    public=True,
    replayable=True,
    statuses={
        200: "this number was received before: the same order",
        201: "registered: our number",
        401: "unknown platform or key (`bad_platform_key`), stale timestamp (`stale_request`) "
        "or bad signature (`bad_signature`)",
        429: "too many refused requests from this address (Retry-After)",
        409: "the number was received before with other content (`number_reused`)",
        413: "the body is too large",
    },
)
async def receive_order(request: web.Request) -> web.Response:
    if request.content_length and request.content_length > MAX_BODY_BYTES:
        raise web.HTTPRequestEntityTooLarge(
            max_size=MAX_BODY_BYTES, actual_size=request.content_length
        )
    body = await request.read()
    now = request.app[CLOCK]()
    try:
        async with transaction(request.app[POOL]) as conn:
            platform = await _signed(request, conn, body)
            order = inbound.read_order(Contract.model_validate(platform["contract"]), body)
            calendar = await request.app[CALENDAR].get(conn)
            received = await inbound.do_receive_order(conn, platform, order, calendar, now)
            await queries.log_request(
                conn,
                platform=platform["code"],
                number=received.platform_number,
                order_id=received.order["id"],
                status=201 if received.created else 200,
                error="",
                now=now,
            )
    except DomainError as exc:
        if isinstance(exc, NotAuthenticated):
            # Whoever keeps knocking without the key is slowed down (429) before each
            # knock costs a row.
            limits = limiter(request.app[REDIS], request.app[FALLBACKS])
            await limit_address(limits, request.app[SETTINGS], SCOPE, request.remote or "?")
        await _log_refusal(request, status_of(exc), f"{exc.code}: {exc.message}")
        raise
    contract = Contract.model_validate(platform["contract"])
    answer = contract.outgoing(
        {"number": received.platform_number, "our_number": received.order["number"]}
    )
    return json_response(answer, status=201 if received.created else 200)


@routes.route(
    "GET",
    BASE + r"/attachments/{attachment_id:\d+}",
    summary="A platform fetches the proof attached to a message (signed, empty body)",
    tag="exchange",
    public=True,
    statuses={
        200: "the file",
        401: "unknown platform or key, stale timestamp or bad signature",
        404: "no such attachment on an order exchanged with this platform",
    },
)
async def attachment(request: web.Request) -> web.StreamResponse:
    attachment_id = path_int(request, "attachment_id")
    async with request.app[POOL].acquire() as conn:
        platform = await _signed(request, conn, b"")
        row = await queries.exchanged_attachment(conn, platform["code"], attachment_id)
    if row is None:
        raise NotFound("no such attachment")
    return media_response(request.app[STORAGE].load(row["storage_key"]), row["filename"])


# ---------------------------------------------------------------- the centre's API


def _message_json(row: asyncpg.Record, attempts: list[asyncpg.Record]) -> dict[str, Any]:
    return {
        **dict(row),
        "attempts": [
            {k: a[k] for k in ("attempted_at", "status_code", "error", "duration_ms")}
            for a in attempts
        ],
    }


@routes.route(
    "GET",
    r"/api/v1/orders/{order_id:\d+}/exchange",
    summary="The order's exchange with a platform: its numbers and limits there, every "
    "message with its attempts, and the platform's requests",
    tag="exchange",
    roles=CENTRE_ROLES,
    statuses={200: "the exchange (`exchange` null: the order was not exchanged)"},
)
async def order_exchange(request: web.Request) -> web.Response:
    actor = require_actor(request, CENTRE_ROLES)
    order_id = path_int(request, "order_id")
    async with request.app[POOL].acquire() as conn:
        order = await order_queries.get_order(conn, order_id)
        if order is None or not actor.sees_hotline(order["hotline_code"]):
            raise NotFound("no such order")
        exchange = await queries.exchange_of_order(conn, order_id)
        messages = await queries.messages_of_order(conn, order_id)
        attempts = await queries.attempts_of(conn, [m["id"] for m in messages])
        requests = await queries.requests_of_order(conn, order_id)
    by_message: dict[int, list[asyncpg.Record]] = {}
    for attempt in attempts:
        by_message.setdefault(attempt["message_id"], []).append(attempt)
    shown = None
    if exchange is not None:
        shown = {
            k: exchange[k]
            for k in (
                "platform_code",
                "platform_name_zh",
                "platform_name_en",
                "direction",
                "platform_number",
                "classification_code",
                "sign_for_due_at",
                "resolution_due_at",
                "created_at",
            )
        }
        # The files the platform sent with its order (links to the platform's copies).
        shown["attachments"] = (exchange["received"] or {}).get("attachments", [])
    return json_response(
        {
            "exchange": shown,
            "messages": [_message_json(m, by_message.get(m["id"], [])) for m in messages],
            "requests": [dict(r) for r in requests],
        }
    )


@routes.route(
    "POST",
    r"/api/v1/orders/{order_id:\d+}/transfer",
    summary="转办: pass the order to a platform (or give a received order back to it); final here",
    tag="exchange",
    body=TransferInput,
    roles=CENTRE_ROLES,
    statuses={
        200: "the order, now transferred",
        409: "the order cannot be transferred from its status (`illegal_transition`), or was "
        "exchanged with another platform (`already_exchanged`)",
    },
)
async def transfer(request: web.Request) -> web.Response:
    actor = require_actor(request, CENTRE_ROLES)
    body = await read_body(request, TransferInput)
    order_id = path_int(request, "order_id")
    async with transaction(request.app[POOL]) as conn:
        order = await do_transfer(conn, actor, order_id, body, request.app[CLOCK]())
    return json_response(order_json(order))


@routes.route(
    "GET",
    PLATFORMS,
    summary="The platforms (a supervisor's: those of their hotlines), with their queued and "
    "failed messages",
    tag="exchange",
    roles=SUPERVISOR_ROLES,
)
async def list_platforms(request: web.Request) -> web.Response:
    actor = require_actor(request, SUPERVISOR_ROLES)
    async with request.app[POOL].acquire() as conn:
        rows = await queries.list_platforms(conn)
    shown = [r for r in rows if actor.sees_hotline(r["hotline_code"])]
    return json_response({"items": [platform_json(r) for r in shown]})


@routes.route(
    "GET",
    "/api/v1/exchange/destinations",
    summary="The platforms an order can be transferred to (switched on): code and names only, "
    "for the centre's transfer dialog",
    tag="exchange",
    roles=CENTRE_ROLES,
)
async def destinations(request: web.Request) -> web.Response:
    # Agents transfer orders but do not administer platforms: they see no address,
    # contract or message counts.
    async with request.app[POOL].acquire() as conn:
        rows = await queries.active_platforms(conn)
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "POST",
    PLATFORMS,
    summary="Add a platform; answers its key and secret, shown only now",
    tag="exchange",
    body=PlatformInput,
    roles=ADMIN,
    statuses={201: "made, with `key` and `secret`", 409: "the code is taken (`platform_exists`)"},
)
async def create_platform(request: web.Request) -> web.Response:
    actor = require_actor(request, ADMIN)
    body = await read_body(request, PlatformInput)
    async with transaction(request.app[POOL]) as conn:
        row, credentials = await do_create_platform(conn, actor, body, request.app[SETTINGS])
    return json_response({**platform_json(row), **credentials}, status=201)


@routes.route(
    "PATCH",
    PLATFORMS + "/{code}",
    summary="Change a platform's names, hotline, address, contract, or switch it off",
    tag="exchange",
    body=PlatformChange,
    roles=ADMIN,
)
async def change_platform(request: web.Request) -> web.Response:
    actor = require_actor(request, ADMIN)
    body = await read_body(request, PlatformChange)
    async with transaction(request.app[POOL]) as conn:
        row = await do_change_platform(
            conn, actor, request.match_info["code"], body, request.app[SETTINGS]
        )
    return json_response(platform_json(row))


@routes.route(
    "POST",
    PLATFORMS + "/{code}/credentials",
    summary="New key and secret for a platform (the old ones stop at once); shown only now",
    tag="exchange",
    roles=ADMIN,
)
async def renew_credentials(request: web.Request) -> web.Response:
    actor = require_actor(request, ADMIN)
    async with transaction(request.app[POOL]) as conn:
        credentials = await do_renew_credentials(
            conn, actor, request.match_info["code"], request.app[CLOCK]()
        )
    return json_response(credentials)


class Recent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=50, ge=1, le=200, description="how many, newest first")


@routes.route(
    "GET",
    PLATFORMS + "/{code}/requests",
    summary="The platform's latest requests to us, accepted and refused",
    tag="exchange",
    query=Recent,
    roles=ADMIN,
)
async def platform_requests(request: web.Request) -> web.Response:
    criteria = read_query(request, Recent)
    async with request.app[POOL].acquire() as conn:
        if await queries.get_platform(conn, request.match_info["code"]) is None:
            raise NotFound("no such platform")
        rows = await queries.recent_requests(conn, request.match_info["code"], criteria.limit)
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "GET",
    "/api/v1/exchange/failed",
    summary="Messages a platform did not take, newest first",
    tag="exchange",
    query=Recent,
    roles=SUPERVISOR_ROLES,
)
async def failed(request: web.Request) -> web.Response:
    actor = require_actor(request, SUPERVISOR_ROLES)
    criteria = read_query(request, Recent)
    hotlines = sorted(actor.hotlines) if actor.hotlines is not None else None
    async with request.app[POOL].acquire() as conn:
        rows = await queries.failed_messages(conn, criteria.limit, hotlines)
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "POST",
    r"/api/v1/exchange/messages/{message_id:\d+}/retry",
    summary="Send a failed message again (and the order's later ones after it)",
    tag="exchange",
    roles=SUPERVISOR_ROLES,
    statuses={409: "the message has not failed (`not_failed`)"},
)
async def retry(request: web.Request) -> web.Response:
    actor = require_actor(request, SUPERVISOR_ROLES)
    async with transaction(request.app[POOL]) as conn:
        row = await board.do_retry(
            conn, actor, path_int(request, "message_id"), request.app[CLOCK]()
        )
    return json_response(dict(row))


class FiguresQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = Field(default=30, ge=1, le=366, description="the on-time rate's period, in days")


@routes.route(
    "GET",
    "/api/v1/exchange/figures",
    summary="Per platform: orders received today and open, overdue against the platform's "
    "limits, the on-time rate over the last days, failed messages",
    tag="exchange",
    query=FiguresQuery,
    roles=CENTRE_ROLES,
)
async def figures(request: web.Request) -> web.Response:
    actor = require_actor(request, CENTRE_ROLES)
    criteria = read_query(request, FiguresQuery)
    now = request.app[CLOCK]()
    async with request.app[POOL].acquire() as conn:
        calendar = await request.app[CALENDAR].get(conn)
        rows = await board.figures(conn, now, calendar.tz, criteria.days, hotlines=actor.hotlines)
    return json_response({"days": criteria.days, "as_of": now, "items": rows})
