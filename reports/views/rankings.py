"""HTTP: the units' rankings (read from the reporting pool) and the notices (通报)
drafted from them, edited and published by supervisors and read by the units."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from aiohttp import web

from hotline.db import transaction
from hotline.users.models import ENTERPRISE_ROLES, SUPERVISOR_ROLES
from reports.rankings import queries, service
from web.api import ListLimit, Routes, dumps, json_response, path_int, read_body, read_query
from web.auth import require_actor
from web.errors import language
from web.keys import CLOCK, POOL, READ_POOL, SETTINGS
from web.live import SOCKETS
from web.live_stream import enterprise_room

routes = Routes()

# The socket.io event that tells a unit's consoles a notice was published to it.
NOTICE_EVENT = "notice_event"
READERS = SUPERVISOR_ROLES | ENTERPRISE_ROLES


def _today(request: web.Request, now: dt.datetime) -> tuple[dt.date, ZoneInfo]:
    """Today in the centre's time zone (the figures' local days), and the zone."""
    zone = ZoneInfo(request.app[SETTINGS].timezone)
    return now.astimezone(zone).date(), zone


async def _ranking(
    request: web.Request, query: service.RankingQuery, now: dt.datetime
) -> dict[str, object]:
    today, _ = _today(request, now)
    async with request.app[READ_POOL].acquire() as conn:
        return await service.compute_ranking(conn, query, request.app[SETTINGS], now, today)


@routes.route(
    "GET",
    "/api/v1/rankings",
    summary="Units ranked by the 三率 score and each rate over a period, with the change in rank",
    tag="reports",
    query=service.RankingQuery,
    roles=SUPERVISOR_ROLES,
)
async def rankings(request: web.Request) -> web.Response:
    query = read_query(request, service.RankingQuery)
    return json_response(await _ranking(request, query, request.app[CLOCK]()))


@routes.route(
    "POST",
    "/api/v1/notices",
    summary="Draft a notice (通报) naming a ranking's worst units and their late orders",
    tag="reports",
    body=service.DraftInput,
    roles=SUPERVISOR_ROLES,
    statuses={201: "drafted"},
)
async def draft_notice(request: web.Request) -> web.Response:
    actor = require_actor(request)
    draft = await read_body(request, service.DraftInput)
    now = request.app[CLOCK]()
    ranking = await _ranking(request, draft, now)
    _, zone = _today(request, now)
    async with transaction(request.app[POOL]) as conn:
        notice_id = await service.do_draft_notice(
            conn, actor, draft, ranking, language(request), now, zone
        )
        notice = await service.notice_for(conn, actor, notice_id)
    return json_response(notice, status=201)


@routes.route(
    "GET",
    "/api/v1/notices",
    summary="Notices: every one for supervisors, a unit's own published ones for it",
    tag="reports",
    query=ListLimit,
    roles=READERS,
)
async def list_notices(request: web.Request) -> web.Response:
    actor = require_actor(request)
    limit = read_query(request, ListLimit).limit
    async with request.app[POOL].acquire() as conn:
        if actor.is_centre:
            return json_response(
                {"items": [dict(r) for r in await queries.list_notices(conn, limit)]}
            )
        assert actor.enterprise_id is not None
        items = await queries.unit_notices(conn, actor.enterprise_id, limit)
        unread = await queries.unread_count(conn, actor.enterprise_id)
    return json_response({"items": [dict(r) for r in items], "unread": unread})


@routes.route(
    "GET",
    r"/api/v1/notices/{notice_id:\d+}",
    summary="A notice with its units and orders (for supervisors: who read it, its changes)",
    tag="reports",
    roles=READERS,
)
async def get_notice(request: web.Request) -> web.Response:
    actor = require_actor(request)
    async with request.app[POOL].acquire() as conn:
        notice = await service.notice_for(conn, actor, path_int(request, "notice_id"))
    return json_response(notice)


@routes.route(
    "PATCH",
    r"/api/v1/notices/{notice_id:\d+}",
    summary="Edit a draft notice: title, text, units and orders",
    tag="reports",
    body=service.NoticeEdit,
    roles=SUPERVISOR_ROLES,
)
async def edit_notice(request: web.Request) -> web.Response:
    actor = require_actor(request)
    edit = await read_body(request, service.NoticeEdit)
    notice_id = path_int(request, "notice_id")
    async with transaction(request.app[POOL]) as conn:
        await service.do_edit_notice(conn, actor, notice_id, edit, request.app[CLOCK]())
        notice = await service.notice_for(conn, actor, notice_id)
    return json_response(notice)


@routes.route(
    "POST",
    r"/api/v1/notices/{notice_id:\d+}/publish",
    summary="Publish a draft notice to the units it names",
    tag="reports",
    roles=SUPERVISOR_ROLES,
)
async def publish_notice(request: web.Request) -> web.Response:
    actor = require_actor(request)
    notice_id = path_int(request, "notice_id")
    async with transaction(request.app[POOL]) as conn:
        units = await service.do_publish_notice(conn, actor, notice_id, request.app[CLOCK]())
        notice = await service.notice_for(conn, actor, notice_id)
    # After commit, through this process's socket.io server (its Redis manager reaches
    # every web process): the units' open consoles reload their notices. A console that
    # is closed sees the notice when it next loads its inbox.
    message = json.loads(dumps({"notice_id": notice_id, "title": notice["title"]}))
    for unit in units:
        await request.app[SOCKETS].emit(NOTICE_EVENT, message, room=enterprise_room(unit))
    return json_response(notice)


@routes.route(
    "POST",
    r"/api/v1/notices/{notice_id:\d+}/read",
    summary="Mark a notice read by the caller's unit",
    tag="reports",
    roles=ENTERPRISE_ROLES,
)
async def read_notice(request: web.Request) -> web.Response:
    actor = require_actor(request)
    notice_id = path_int(request, "notice_id")
    async with transaction(request.app[POOL]) as conn:
        await service.do_read_notice(conn, actor, notice_id, request.app[CLOCK]())
        notice = await service.notice_for(conn, actor, notice_id)
    return json_response(notice)
