"""Each user's saved order searches (常用筛选)."""

from __future__ import annotations

from aiohttp import web

from hotline.db import transaction
from hotline.users.saved_filters import (
    NewSavedFilter,
    do_delete_filter,
    do_save_filter,
    filter_json,
    list_saved_filters,
)
from web.api import Routes, json_response, path_int, read_body
from web.auth import require_actor
from web.keys import POOL

routes = Routes()


@routes.route(
    "GET", "/api/v1/saved-filters", summary="My saved order searches, by name", tag="orders"
)
async def saved_filters(request: web.Request) -> web.Response:
    actor = require_actor(request)
    async with request.app[POOL].acquire() as conn:
        rows = await list_saved_filters(conn, actor)
    return json_response({"items": [filter_json(r) for r in rows]})


@routes.route(
    "POST",
    "/api/v1/saved-filters",
    summary="Save an order search under a name (the same name replaces it)",
    tag="orders",
    body=NewSavedFilter,
    statuses={
        201: "saved",
        200: "a filter of that name replaced",
        400: "a parameter the search does not take (invalid_query, named)",
    },
)
async def save_filter(request: web.Request) -> web.Response:
    actor = require_actor(request)
    body = await read_body(request, NewSavedFilter)
    async with transaction(request.app[POOL]) as conn:
        row, created = await do_save_filter(conn, actor, body)
    return json_response(filter_json(row), status=201 if created else 200)


@routes.route(
    "DELETE",
    r"/api/v1/saved-filters/{filter_id:\d+}",
    summary="Forget a saved order search",
    tag="orders",
    statuses={204: "deleted"},
)
async def delete_filter(request: web.Request) -> web.Response:
    actor = require_actor(request)
    async with transaction(request.app[POOL]) as conn:
        await do_delete_filter(conn, actor, path_int(request, "filter_id"))
    return web.Response(status=204)
