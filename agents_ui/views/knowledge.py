"""The knowledge base's API (docs/knowledge.md): articles to read, search, write and
review; suggestions as the agent types; what was answered with them and what no article
answered."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiohttp import web

from hotline.db import transaction
from hotline.knowledge import queries, service
from hotline.knowledge.models import (
    ArticleEdit,
    ArticleFilter,
    ArticleInput,
    ArticleRead,
    Period,
    RejectNote,
    ReviewNote,
    SuggestQuery,
)
from hotline.users.models import ENTERPRISE_ROLES, SUPERVISOR_ROLES, Role
from web.api import Routes, json_response, path_int, read_body, read_query
from web.auth import require_actor
from web.keys import CLOCK, POOL, SETTINGS

routes = Routes()

READERS = frozenset(Role)
WRITERS = SUPERVISOR_ROLES | ENTERPRISE_ROLES
# Lines of the usage and gaps reports.
REPORTED = 200
# Without dates the reports cover the last 30 days.
REPORT_DAYS = 30

_ARTICLE = r"/api/v1/knowledge/articles/{article_id:\d+}"
_VERSION = _ARTICLE + r"/versions/{version:\d+}"
# Versions are numbered in PostgreSQL integers.
MAX_VERSION = 2**31 - 1


def _version(request: web.Request) -> int:
    """The path's version number; 404 for one no version can have (beyond an integer)."""
    number = path_int(request, "version")
    if number > MAX_VERSION:
        raise web.HTTPNotFound()
    return number


def _today(request: web.Request) -> dt.date:
    """The date in the centre's time zone: validity and review dates are local dates."""
    return request.app[CLOCK]().astimezone(ZoneInfo(request.app[SETTINGS].timezone)).date()


async def _article(request: web.Request, article_id: int, status: int = 200) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        data = await service.article_json(
            conn, require_actor(request), article_id, None, _today(request)
        )
    return json_response(data, status=status)


@routes.route(
    "GET",
    "/api/v1/knowledge/articles",
    summary="Articles: published ones (valid today) by default, or the drafts, submitted "
    "and rejected ones the reader may write; with q, ranked by relevance",
    tag="knowledge",
    query=ArticleFilter,
    roles=READERS,
)
async def list_articles(request: web.Request) -> web.Response:
    actor = require_actor(request)
    criteria = read_query(request, ArticleFilter)
    now = request.app[CLOCK]()
    async with request.app[POOL].acquire() as conn:
        items, next_cursor, nothing = await service.list_articles(
            conn, actor, criteria, _today(request)
        )
    if nothing and criteria.q:
        # A question the knowledge base could not answer: its writers' to-do list.
        async with transaction(request.app[POOL]) as conn:
            await service.do_record_gap(
                conn,
                question=criteria.q,
                hotline_code=criteria.hotline or actor.hotline_code,
                order_id=None,
                user_id=actor.user_id,
                source="search",
                now=now,
            )
    return json_response({"items": items, "next_cursor": next_cursor})


@routes.route(
    "GET",
    _ARTICLE,
    summary="One article in one version (the published one by default) with its history",
    tag="knowledge",
    query=ArticleRead,
    roles=READERS,
)
async def get_article(request: web.Request) -> web.Response:
    asked = read_query(request, ArticleRead)
    async with request.app[POOL].acquire() as conn:
        data = await service.article_json(
            conn,
            require_actor(request),
            path_int(request, "article_id"),
            asked.version,
            _today(request),
        )
    return json_response(data)


@routes.route(
    "POST",
    "/api/v1/knowledge/articles",
    summary="Write a new article (the centre's, or the writer's enterprise's): version 1, "
    "a draft or submitted for review",
    tag="knowledge",
    body=ArticleInput,
    roles=WRITERS,
    statuses={201: "written"},
)
async def create_article(request: web.Request) -> web.Response:
    body = await read_body(request, ArticleInput)
    async with transaction(request.app[POOL]) as conn:
        article_id = await service.do_create_article(
            conn, require_actor(request), body, request.app[CLOCK]()
        )
    return await _article(request, article_id, status=201)


@routes.route(
    "PUT",
    _ARTICLE,
    summary="Write a new version on top of base_version (409 stale_version when another "
    "was written meanwhile)",
    tag="knowledge",
    body=ArticleEdit,
    roles=WRITERS,
)
async def edit_article(request: web.Request) -> web.Response:
    body = await read_body(request, ArticleEdit)
    article_id = path_int(request, "article_id")
    async with transaction(request.app[POOL]) as conn:
        await service.do_edit_article(
            conn, require_actor(request), article_id, body, request.app[CLOCK]()
        )
    return await _article(request, article_id)


@routes.route(
    "POST",
    _VERSION + "/submit",
    summary="Submit a draft for review",
    tag="knowledge",
    roles=WRITERS,
)
async def submit_version(request: web.Request) -> web.Response:
    article_id = path_int(request, "article_id")
    async with transaction(request.app[POOL]) as conn:
        await service.do_submit(
            conn,
            require_actor(request),
            article_id,
            _version(request),
            request.app[CLOCK](),
        )
    return await _article(request, article_id)


async def _read_note(request: web.Request) -> str:
    """The note of an approval or an archiving; no body is no note."""
    if not request.can_read_body:
        return ""
    return (await read_body(request, ReviewNote)).note


@routes.route(
    "POST",
    _VERSION + "/approve",
    summary="Publish a submitted version; the version published before is superseded",
    tag="knowledge",
    body=ReviewNote,
    roles=SUPERVISOR_ROLES,
)
async def approve_version(request: web.Request) -> web.Response:
    note = await _read_note(request)
    article_id = path_int(request, "article_id")
    async with transaction(request.app[POOL]) as conn:
        await service.do_approve(
            conn,
            require_actor(request),
            article_id,
            _version(request),
            note,
            request.app[CLOCK](),
        )
    return await _article(request, article_id)


@routes.route(
    "POST",
    _VERSION + "/reject",
    summary="Send a submitted version back to its writer with what to change",
    tag="knowledge",
    body=RejectNote,
    roles=SUPERVISOR_ROLES,
)
async def reject_version(request: web.Request) -> web.Response:
    body = await read_body(request, RejectNote)
    article_id = path_int(request, "article_id")
    async with transaction(request.app[POOL]) as conn:
        await service.do_reject(
            conn,
            require_actor(request),
            article_id,
            _version(request),
            body.note,
            request.app[CLOCK](),
        )
    return await _article(request, article_id)


@routes.route(
    "POST",
    _ARTICLE + "/archive",
    summary="Archive an article: out of lists and suggestions, its history kept",
    tag="knowledge",
    body=ReviewNote,
    roles=SUPERVISOR_ROLES,
)
async def archive_article(request: web.Request) -> web.Response:
    note = await _read_note(request)
    article_id = path_int(request, "article_id")
    async with transaction(request.app[POOL]) as conn:
        await service.do_archive(
            conn, require_actor(request), article_id, note, request.app[CLOCK]()
        )
    return await _article(request, article_id)


@routes.route(
    "GET",
    "/api/v1/knowledge/review",
    summary="The versions waiting for review, oldest first",
    tag="knowledge",
    roles=SUPERVISOR_ROLES,
)
async def review_queue(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await queries.review_queue(conn, service.REVIEW_QUEUE)
    items = [
        {
            **{k: r[k] for k in ("article_id", "version", "kind", "title", "owner")},
            "written_by": service.person(r["written_by"], r["written_by_name"]),
            "written_at": r["written_at"],
            "change_note": r["change_note"],
        }
        for r in rows
    ]
    return json_response({"items": items})


@routes.route(
    "GET",
    "/api/v1/knowledge/suggest",
    summary="Articles answering what the agent has typed so far (at most 5, published and "
    "valid today), with the words each matched; records nothing",
    tag="knowledge",
    query=SuggestQuery,
    roles=READERS,
)
async def suggest(request: web.Request) -> web.Response:
    asked = read_query(request, SuggestQuery)
    async with request.app[POOL].acquire() as conn:
        items = await service.suggest(
            conn,
            asked.text,
            hotline=asked.hotline,
            service_item=asked.service_item,
            area=asked.area,
            today=_today(request),
        )
    return json_response({"items": items})


def _period(request: web.Request, period: Period) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the days asked (local dates, both included); the last 30 days by
    default."""
    tz = ZoneInfo(request.app[SETTINGS].timezone)
    last = period.to or _today(request)
    first = period.from_ or last - dt.timedelta(days=REPORT_DAYS - 1)
    start = dt.datetime.combine(first, dt.time(), tz)
    return start, dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz)


@routes.route(
    "GET",
    "/api/v1/knowledge/usage",
    summary="The articles answered with in a period, most used first",
    tag="knowledge",
    query=Period,
    roles=SUPERVISOR_ROLES,
)
async def usage(request: web.Request) -> web.Response:
    start, end = _period(request, read_query(request, Period))
    async with request.app[POOL].acquire() as conn:
        rows = await queries.usage(conn, start, end, REPORTED)
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "GET",
    "/api/v1/knowledge/gaps",
    summary="Questions no article answered in a period (searches that found nothing, "
    "consultations no article matched), most asked first",
    tag="knowledge",
    query=Period,
    roles=SUPERVISOR_ROLES,
)
async def gaps(request: web.Request) -> web.Response:
    start, end = _period(request, read_query(request, Period))
    async with request.app[POOL].acquire() as conn:
        rows = await queries.gaps(conn, start, end, REPORTED)
    return json_response({"items": [dict(r) for r in rows]})
