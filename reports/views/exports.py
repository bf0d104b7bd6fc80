"""Exports: ask for a list as XLSX or CSV, follow its progress, fetch the file."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hotline.db import transaction
from hotline.errors import InvalidInput, InvalidQuery
from hotline.orders.searching import invalid_query
from reports.exports.service import (
    do_request_export,
    file_for,
    list_my_exports,
    visible_export,
)
from reports.exports.writers import CONTENT_TYPES
from web.api import (
    ERROR_SCHEMA,
    ErrorShape,
    ListLimit,
    Routes,
    json_response,
    path_int,
    read_body,
    read_query,
)
from web.auth import require_actor
from web.errors import language
from web.keys import CLOCK, POOL, SETTINGS

routes = Routes()

FILE_PATH = "/api/v1/exports/{export_id}/file"
# As the order search it takes: a bad parameter is a 400 invalid_query naming it.
EXPORT_ERRORS = ErrorShape("Error", ERROR_SCHEMA, invalid_status=400)


class NewExport(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: str = Field(
        default="orders",
        min_length=1,
        max_length=32,
        description="the source: orders, periodic_report, ranking or hot_issues",
    )
    format: Literal["xlsx", "csv"] = "xlsx"
    # The source's query (docs/reports.md, "Export sources"): orders GET /api/v1/orders's
    # parameters except cursor and limit; periodic_report a report_id or the compute
    # operation's; ranking GET /api/v1/rankings's; hot_issues the hot issues' period.
    params: dict[str, Any] = Field(default_factory=dict)


def export_json(row: asyncpg.Record) -> dict[str, Any]:
    data = {
        k: row[k]
        for k in (
            "id",
            "kind",
            "format",
            "params",
            "language",
            "state",
            "created_at",
            "rows_done",
            "rows_total",
            "finished_at",
            "expires_at",
            "file_name",
            "size_bytes",
            "error",
        )
    }
    data["url"] = FILE_PATH.format(export_id=row["id"]) if row["state"] == "done" else None
    return data


@routes.route(
    "POST",
    "/api/v1/exports",
    summary="Ask for a list as an XLSX or CSV file, written by a job",
    tag="exports",
    body=NewExport,
    statuses={202: "asked: follow it at /api/v1/exports/{id}"},
    errors=EXPORT_ERRORS,
)
async def request_export(request: web.Request) -> web.Response:
    actor = require_actor(request)
    try:
        new = await read_body(request, NewExport)
    except ValidationError as exc:
        raise invalid_query(exc) from exc
    except InvalidInput as exc:  # a value out of range, a NUL character
        raise InvalidQuery(exc.template, fields=exc.fields) from exc
    async with transaction(request.app[POOL]) as conn:
        row = await do_request_export(
            conn,
            actor,
            kind=new.kind,
            file_format=new.format,
            params=new.params,
            language=language(request),
            now=request.app[CLOCK](),
        )
    return json_response(export_json(row), status=202)


@routes.route(
    "GET", "/api/v1/exports", summary="My exports, newest first", tag="exports", query=ListLimit
)
async def my_exports(request: web.Request) -> web.Response:
    actor = require_actor(request)
    limit = read_query(request, ListLimit).limit
    async with request.app[POOL].acquire() as conn:
        rows = await list_my_exports(conn, actor, limit)
    return json_response({"items": [export_json(r) for r in rows]})


@routes.route(
    "GET",
    r"/api/v1/exports/{export_id:\d+}",
    summary="One export and how far it got",
    tag="exports",
)
async def get_export(request: web.Request) -> web.Response:
    actor = require_actor(request)
    async with request.app[POOL].acquire() as conn:
        row = await visible_export(conn, actor, path_int(request, "export_id"))
    return json_response(export_json(row))


@routes.route(
    "GET",
    r"/api/v1/exports/{export_id:\d+}/file",
    summary="The export's file, for a day after it is written",
    tag="exports",
    statuses={
        200: "the file (XLSX or CSV)",
        409: "no file: not finished yet (export_not_ready), failed (export_failed) or "
        "removed after a day (export_expired)",
    },
)
async def export_file(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request)
    async with request.app[POOL].acquire() as conn:
        row = await visible_export(conn, actor, path_int(request, "export_id"))
    path = file_for(row, request.app[SETTINGS], request.app[CLOCK]())
    name = quote(row["file_name"], safe="")
    return web.FileResponse(
        path,
        headers={
            "Content-Type": CONTENT_TYPES[row["format"]],
            "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
