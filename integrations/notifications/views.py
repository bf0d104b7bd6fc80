"""HTTP: the administrators' settings of the status notifications, with their history.

Every hotline has a default (stored, or the built-in one, which is off) and may have a
setting of its own for orders of one channel."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hotline.reference.cache import reference
from hotline.users.models import Role
from integrations.notifications import queries, service
from integrations.notifications.settings import (
    DEFAULT,
    PLACEHOLDERS,
    NotificationConfig,
)
from web.api import Routes, json_response, read_body, read_query
from web.auth import require_actor
from web.keys import CLOCK, POOL

routes = Routes()

ADMIN = frozenset({Role.ADMIN})
SETTING_PATH = "/api/v1/notification-settings/{hotline}/{channel}"


class ChangesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hotline: str | None = Field(default=None, max_length=16, description="one hotline's")
    limit: int = Field(default=50, ge=1, le=500, description="how many, newest first")


def _target(request: web.Request) -> tuple[str, str]:
    return request.match_info["hotline"], request.match_info["channel"]


@routes.route(
    "GET",
    "/api/v1/notification-settings",
    summary="Each hotline's notification settings: its default and its channels' own",
    tag="notifications",
    roles=ADMIN,
)
async def list_settings(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        hotlines = await reference.hotlines(conn)
        stored = await queries.stored_settings(conn)
    items: list[dict[str, Any]] = []
    kept = {(r["hotline_code"], r["channel"]): r for r in stored}
    for hotline in sorted(hotlines, key=lambda h: h["code"]):
        code = hotline["code"]
        if (code, "default") not in kept:
            items.append(
                {"hotline": code, "channel": "default", "stored": False, "config": DEFAULT.stored()}
            )
        for (hotline_code, channel), row in kept.items():
            if hotline_code == code:
                items.append(
                    {
                        "hotline": code,
                        "channel": channel,
                        "stored": True,
                        "config": row["config"],
                        "updated_by": row["updated_by"],
                        "updated_at": row["updated_at"],
                    }
                )
    placeholders = {kind: sorted(names) for kind, names in PLACEHOLDERS.items()}
    return json_response(
        {"items": items, "channels": list(service.CHANNELS), "placeholders": placeholders}
    )


@routes.route(
    "PUT",
    SETTING_PATH,
    summary="Set a hotline's notifications (channel 'default') or one channel's own",
    tag="notifications",
    body=NotificationConfig,
    roles=ADMIN,
)
async def put_setting(request: web.Request) -> web.Response:
    actor = require_actor(request, ADMIN)
    hotline, channel = _target(request)
    body = await read_body(request, NotificationConfig)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        await service.do_set(conn, actor, hotline, channel, body, request.app[CLOCK]())
    return json_response({"hotline": hotline, "channel": channel, "config": body.stored()})


@routes.route(
    "DELETE",
    SETTING_PATH,
    summary="Remove a setting: a channel then follows its hotline's default, a default "
    "the built-in one (off)",
    tag="notifications",
    roles=ADMIN,
    statuses={204: "removed"},
)
async def delete_setting(request: web.Request) -> web.Response:
    actor = require_actor(request, ADMIN)
    hotline, channel = _target(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        await service.do_set(conn, actor, hotline, channel, None, request.app[CLOCK]())
    return web.Response(status=204)


@routes.route(
    "GET",
    "/api/v1/notification-settings/changes",
    summary="Who changed the notification settings, when, from what to what; newest first",
    tag="notifications",
    query=ChangesQuery,
    roles=ADMIN,
)
async def list_changes(request: web.Request) -> web.Response:
    criteria = read_query(request, ChangesQuery)
    async with request.app[POOL].acquire() as conn:
        rows = await queries.changes(conn, criteria.hotline, limit=criteria.limit)
    return json_response({"items": [dict(r) for r in rows]})
