"""The catalogue, areas, hotlines and enterprises, for forms and filters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp import web

from hotline.reference import queries as ref
from web.api import Routes, json_response
from web.keys import POOL

routes = Routes()


async def _items(
    request: web.Request, query: Callable[[asyncpg.Connection], Awaitable[list[asyncpg.Record]]]
) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        return json_response({"items": [dict(r) for r in await query(conn)]})


@routes.route("GET", "/api/v1/hotlines", summary="The hotlines", tag="reference")
async def list_hotlines(request: web.Request) -> web.Response:
    return await _items(request, ref.list_hotlines)


@routes.route("GET", "/api/v1/areas", summary="Districts and their streets", tag="reference")
async def list_areas(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        # Forms offer the areas in use; retired ones stay on old orders only.
        rows = [r for r in await ref.list_areas(conn) if r["active"]]
    districts = [dict(r, streets=[]) for r in rows if r["level"] == "district"]
    by_code = {d["code"]: d for d in districts}
    for row in rows:
        if row["level"] == "street" and row["parent_code"] in by_code:
            by_code[row["parent_code"]]["streets"].append(dict(row))
    return json_response({"items": districts})


@routes.route(
    "GET", "/api/v1/enterprises", summary="Enterprises, branches and window counts", tag="reference"
)
async def list_enterprises(request: web.Request) -> web.Response:
    return await _items(request, ref.list_enterprises)


@routes.route(
    "GET",
    "/api/v1/service-items",
    summary="The service catalogue with time limits",
    tag="reference",
)
async def list_service_items(request: web.Request) -> web.Response:
    return await _items(request, ref.list_service_items)
