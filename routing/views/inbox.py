"""The enterprise side: the inbox and what a unit does with a dispatch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import asyncpg
from aiohttp import BodyPartReader, web
from pydantic import BaseModel, ConfigDict, Field

from hotline import i18n
from hotline.db import transaction
from hotline.errors import InvalidInput, NotFound
from hotline.orders import queries as order_queries
from hotline.orders.presenting import LIVE, attachment_json, order_json, phone_for, with_media
from hotline.orders.service import access_order_by_id, pack_cursor, unpack_cursor
from hotline.users.models import ENTERPRISE_ROLES, Actor
from routing import handling, queries, visits
from routing.handling import (
    CompleteInput,
    NoteInput,
    ProgressInput,
    ReturnInput,
    TimeRequestInput,
)
from routing.visits import VisitInput
from web.api import (
    Routes,
    bad_form,
    check_values,
    json_response,
    multipart_reader,
    path_int,
    read_body,
    read_query,
)
from web.auth import require_actor
from web.errors import BadRequest, language
from web.keys import CALENDAR, CLOCK, POOL, SETTINGS, STORAGE
from web.media import media_response

routes = Routes()

UNITS = ENTERPRISE_ROLES
DispatchUseCase = Callable[[asyncpg.Connection, Actor, int, dt.datetime], Awaitable[Any]]


DispatchState = Literal["pending", "signed", "returned", "completed", "withdrawn"]


def _open_states() -> list[DispatchState]:
    return ["pending", "signed"]


class InboxFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: list[DispatchState] = Field(default_factory=_open_states)
    limit: int = Field(default=100, ge=1, le=500)


@routes.route(
    "GET",
    "/api/v1/inbox",
    summary="A unit's dispatches, most urgent first",
    tag="units",
    query=InboxFilter,
    roles=UNITS,
)
async def inbox(request: web.Request) -> web.Response:
    actor = require_actor(request)
    criteria = read_query(request, InboxFilter)
    assert actor.enterprise_id is not None
    async with request.app[POOL].acquire() as conn:
        scope = await order_queries.enterprise_scope(conn, actor.enterprise_id)
        rows = await queries.inbox(conn, scope, list(criteria.state), criteria.limit)
        files = await queries.attachments_of_orders(conn, list({r["order_id"] for r in rows}))
    lang = language(request)
    items = [
        {
            **i18n.render_texts(with_media(r), lang),
            "caller_phone": phone_for(actor, r["caller_phone"], handling=r["state"] in LIVE),
            "attachments": [attachment_json(f) for f in files if f["order_id"] == r["order_id"]],
        }
        for r in rows
    ]
    return json_response({"items": items})


class HistoryFilter(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    q: str = Field(default="", max_length=100, description="a piece of number, address or text")
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200, description="`next_cursor` of a page")


HISTORY_CURSOR = "history"


@routes.route(
    "GET",
    "/api/v1/inbox/history",
    summary="A unit's completed dispatches, the latest first, searchable, by cursor",
    tag="units",
    query=HistoryFilter,
    roles=UNITS,
)
async def history(request: web.Request) -> web.Response:
    actor = require_actor(request)
    criteria = read_query(request, HistoryFilter)
    assert actor.enterprise_id is not None
    after = unpack_cursor(criteria.cursor, HISTORY_CURSOR) if criteria.cursor else None
    async with request.app[POOL].acquire() as conn:
        scope = await order_queries.enterprise_scope(conn, actor.enterprise_id)
        rows = await queries.unit_history(
            conn, scope, q=criteria.q, after=after, limit=criteria.limit + 1
        )
    page = rows[: criteria.limit]
    last = page[-1] if len(rows) > criteria.limit else None
    return json_response(
        {
            # Finished work: the number is the citizen's, no longer the unit's to call.
            "items": [
                {**r, "caller_phone": phone_for(actor, r["caller_phone"], handling=False)}
                for r in page
            ],
            "next_cursor": last and pack_cursor(HISTORY_CURSOR, last["finished_at"], last["id"]),
        }
    )


async def _dispatch_action(request: web.Request, use_case: DispatchUseCase) -> web.Response:
    async with transaction(request.app[POOL]) as conn:
        result = await use_case(
            conn, require_actor(request), path_int(request, "dispatch_id"), request.app[CLOCK]()
        )
    if "status" in result and "number" in result:
        return json_response(order_json(result))
    return json_response(dict(result))


@routes.route(
    "POST",
    r"/api/v1/dispatches/{dispatch_id:\d+}/sign-for",
    summary="Sign for (签收)",
    tag="units",
    roles=UNITS,
)
async def sign_for(request: web.Request) -> web.Response:
    return await _dispatch_action(request, handling.do_sign_for)


@routes.route(
    "POST",
    r"/api/v1/dispatches/{dispatch_id:\d+}/return",
    summary="Return with a reason (退单)",
    tag="units",
    body=ReturnInput,
    roles=UNITS,
)
async def return_dispatch(request: web.Request) -> web.Response:
    body = await read_body(request, ReturnInput)
    return await _dispatch_action(
        request, lambda conn, actor, d, now: handling.do_return(conn, actor, d, body, now)
    )


@routes.route(
    "POST",
    r"/api/v1/dispatches/{dispatch_id:\d+}/notes",
    summary="Record progress (办理进展): a text and photos uploaded first",
    tag="units",
    body=ProgressInput,
    roles=UNITS,
    statuses={200: "the event written"},
)
async def add_note(request: web.Request) -> web.Response:
    body = await read_body(request, ProgressInput)
    return await _dispatch_action(
        request, lambda conn, actor, d, now: handling.do_add_note(conn, actor, d, body, now)
    )


@routes.route(
    "POST",
    r"/api/v1/dispatches/{dispatch_id:\d+}/time-requests",
    summary="Ask for an extension or suspension (延期)",
    tag="units",
    body=TimeRequestInput,
    roles=UNITS,
)
async def request_time(request: web.Request) -> web.Response:
    body = await read_body(request, TimeRequestInput)
    return await _dispatch_action(
        request, lambda conn, actor, d, now: handling.do_request_time(conn, actor, d, body, now)
    )


@routes.route(
    "POST",
    r"/api/v1/dispatches/{dispatch_id:\d+}/resume",
    summary="Resume a suspended order's clock (挂起后恢复计时)",
    tag="units",
    roles=UNITS,
)
async def resume(request: web.Request) -> web.Response:
    async with transaction(request.app[POOL]) as conn:
        order = await handling.do_resume(
            conn,
            require_actor(request),
            path_int(request, "dispatch_id"),
            calendar=await request.app[CALENDAR].get(conn),
            settings=request.app[SETTINGS],
            now=request.app[CLOCK](),
        )
    return json_response(order_json(order))


@routes.route(
    "POST",
    r"/api/v1/dispatches/{dispatch_id:\d+}/part",
    summary="Hand in an assisting unit's part (协办)",
    tag="units",
    body=NoteInput,
    roles=UNITS,
)
async def submit_part(request: web.Request) -> web.Response:
    body = await read_body(request, NoteInput)
    return await _dispatch_action(
        request, lambda conn, actor, d, now: handling.do_submit_part(conn, actor, d, body.text, now)
    )


@routes.route(
    "POST",
    r"/api/v1/dispatches/{dispatch_id:\d+}/complete",
    summary="Complete with a reply and proof (办结)",
    tag="units",
    body=CompleteInput,
    roles=UNITS,
)
async def complete(request: web.Request) -> web.Response:
    body = await read_body(request, CompleteInput)
    return await _dispatch_action(
        request, lambda conn, actor, d, now: handling.do_complete(conn, actor, d, body, now)
    )


@routes.route(
    "POST",
    r"/api/v1/dispatches/{dispatch_id:\d+}/visit",
    summary="Record the on-site visit a bad rating asked for (上门回访): when, who, findings, "
    "photos, the citizen's confirmation",
    tag="units",
    body=VisitInput,
    roles=UNITS,
    statuses={200: "the visit recorded"},
)
async def record_visit(request: web.Request) -> web.Response:
    body = await read_body(request, VisitInput)
    return await _dispatch_action(
        request, lambda conn, actor, d, now: visits.do_record_visit(conn, actor, d, body, now)
    )


@routes.route(
    "GET",
    r"/api/v1/orders/{order_id:\d+}/visits",
    summary="An order's on-site visits, one per round of work that asked for one",
    tag="units",
)
async def order_visits(request: web.Request) -> web.Response:
    actor = require_actor(request)
    async with request.app[POOL].acquire() as conn:
        order = await access_order_by_id(conn, actor, path_int(request, "order_id"))
        rows = await queries.order_visits(conn, order["id"])
    lang = language(request)
    return json_response({"items": [i18n.render_texts(r, lang) for r in rows]})


async def _read_upload(request: web.Request, max_bytes: int) -> tuple[str, bytes]:
    reader = await multipart_reader(request)
    try:
        part = await reader.next()
        if part is None or not isinstance(part, BodyPartReader) or part.name != "file":
            raise BadRequest("missing_file", "send the file in a form field named file")
        filename = (part.filename or "file")[:200]
        check_values(filename, "file")
        data = bytearray()
        while chunk := await part.read_chunk(64 * 1024):
            data += chunk
            if len(data) > max_bytes:
                raise InvalidInput(
                    "the file is larger than {max_bytes} bytes",
                    code="file_too_large",
                    fields={"file": "too large"},
                    max_bytes=max_bytes,
                )
    except ValueError as exc:  # a malformed body
        raise bad_form(exc) from exc
    return filename, bytes(data)


@routes.route(
    "POST",
    r"/api/v1/dispatches/{dispatch_id:\d+}/attachments",
    summary="Upload a proof file (JPEG, PNG, WebP or PDF; multipart field file)",
    tag="units",
    roles=UNITS,
    statuses={201: "stored"},
    uploads={
        "type": "object",
        "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"}},
    },
)
async def upload_attachment(request: web.Request) -> web.Response:
    actor = require_actor(request)
    dispatch_id = path_int(request, "dispatch_id")
    storage = request.app[STORAGE]
    async with request.app[POOL].acquire() as conn:
        await handling.access_dispatch_by_id(conn, actor, dispatch_id)
    filename, data = await _read_upload(request, storage.max_bytes)
    stored = storage.save(data)
    async with transaction(request.app[POOL]) as conn:
        dispatch = await handling.access_dispatch_by_id(conn, actor, dispatch_id)
        row = await queries.insert_attachment(
            conn,
            {
                "order_id": dispatch["order_id"],
                "dispatch_id": dispatch_id,
                "filename": filename,
                "content_type": stored.content_type,
                "size_bytes": stored.size_bytes,
                "sha256": stored.sha256,
                "storage_key": stored.key,
                "uploaded_by": actor.label(),
                "now": request.app[CLOCK](),
            },
        )
    return json_response(dict(row), status=201)


@routes.route(
    "GET",
    r"/api/v1/attachments/{attachment_id:\d+}",
    summary="Download a proof file",
    tag="units",
    statuses={200: "the file"},
)
async def download_attachment(request: web.Request) -> web.Response:
    actor = require_actor(request)
    async with request.app[POOL].acquire() as conn:
        attachment_id = path_int(request, "attachment_id")
        row = await queries.get_attachment(conn, attachment_id)
        # Missing or not yours: the same answer.
        hidden = NotFound("attachment {attachment_id} not found", attachment_id=attachment_id)
        if row is None:
            raise hidden
        await access_order_by_id(conn, actor, row["order_id"], hidden_as=hidden)
    return media_response(request.app[STORAGE].load(row["storage_key"]), row["filename"])
