"""HTTP: configure an enterprise's webhook and see its recent deliveries.

Administrators may do this for any enterprise, an enterprise administrator only for its
own; another enterprise answers 404, as if it did not exist.
"""

from __future__ import annotations

import secrets
from typing import Any

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hotline.audit import record_change
from hotline.db import transaction
from hotline.errors import InvalidInput, NotFound
from hotline.users.models import Role
from integrations.enterprise_webhooks import queries
from integrations.enterprise_webhooks.addresses import RefusedDestination, check_destination
from web.api import Routes, json_response, path_int, read_body, read_query
from web.auth import require_actor
from web.keys import POOL, SETTINGS

routes = Routes()

WEBHOOK_ROLES = frozenset({Role.ADMIN, Role.ENTERPRISE_ADMIN})
WEBHOOK_PATH = r"/api/v1/enterprises/{enterprise_id:\d+}/webhook"


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    url: str = Field(min_length=1, max_length=2000, description="https URL of the receiver")


class DeliveryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=50, ge=1, le=200, description="how many, newest first")


def _enterprise_in_scope(request: web.Request) -> int:
    """The path's enterprise id, if the caller may manage that enterprise's webhook.

    Raises ``NotFound`` for an enterprise administrator asking about another enterprise."""
    actor = require_actor(request, WEBHOOK_ROLES)
    enterprise_id = path_int(request, "enterprise_id")
    if actor.role is Role.ENTERPRISE_ADMIN and actor.enterprise_id != enterprise_id:
        raise NotFound("no such enterprise")
    return enterprise_id


@routes.route(
    "PUT",
    WEBHOOK_PATH,
    summary="Set the enterprise's webhook URL; answers a new signing secret, shown only now",
    tag="webhooks",
    body=WebhookConfig,
    roles=WEBHOOK_ROLES,
)
async def put_webhook(request: web.Request) -> web.Response:
    enterprise_id = _enterprise_in_scope(request)
    body = await read_body(request, WebhookConfig)
    async with request.app[POOL].acquire() as conn:
        if await queries.get_webhook(conn, enterprise_id) is None:
            raise NotFound("no such enterprise")
    settings = request.app[SETTINGS]
    try:
        await check_destination(
            body.url,
            allow_private=settings.webhook_allow_private,
            ports=settings.webhook_port_ranges,
        )
    except RefusedDestination as exc:
        raise InvalidInput(
            "the webhook URL is not allowed", fields={"url": "{why}"}, why=str(exc)
        ) from exc
    # Every change of URL gets a new secret: the old receiver's secret says nothing
    # about the new one.
    secret = secrets.token_urlsafe(32)
    async with transaction(request.app[POOL]) as conn:
        before = await queries.get_webhook(conn, enterprise_id)
        if not await queries.set_webhook(conn, enterprise_id, url=body.url, secret=secret):
            raise NotFound("no such enterprise")  # removed meanwhile
        await _record(request, conn, enterprise_id, "set", before, body.url)
    return json_response({"url": body.url, "secret": secret})


@routes.route(
    "DELETE",
    WEBHOOK_PATH,
    summary="Remove the enterprise's webhook (pending deliveries then fail)",
    tag="webhooks",
    roles=WEBHOOK_ROLES,
    statuses={204: "removed"},
)
async def delete_webhook(request: web.Request) -> web.Response:
    enterprise_id = _enterprise_in_scope(request)
    async with transaction(request.app[POOL]) as conn:
        before = await queries.get_webhook(conn, enterprise_id)
        if not await queries.set_webhook(conn, enterprise_id, url=None, secret=None):
            raise NotFound("no such enterprise")
        await _record(request, conn, enterprise_id, "remove", before, None)
    return web.Response(status=204)


async def _record(
    request: web.Request,
    conn: asyncpg.Connection,
    enterprise_id: int,
    action: str,
    before: asyncpg.Record | None,
    url: str | None,
) -> None:
    """Note the change of URL among the administrators' changes (never the secret)."""
    await record_change(
        conn,
        user_id=require_actor(request).user_id,
        entity="webhook",
        key=str(enterprise_id),
        action=action,
        before={"url": before["webhook_url"] if before else None},
        after={"url": url},
    )


@routes.route(
    "GET",
    WEBHOOK_PATH,
    summary="The enterprise's webhook URL (null: none); the secret is never shown again",
    tag="webhooks",
    roles=WEBHOOK_ROLES,
)
async def get_webhook(request: web.Request) -> web.Response:
    enterprise_id = _enterprise_in_scope(request)
    async with request.app[POOL].acquire() as conn:
        row = await queries.get_webhook(conn, enterprise_id)
    if row is None:
        raise NotFound("no such enterprise")
    return json_response({"enterprise_id": enterprise_id, "url": row["webhook_url"]})


@routes.route(
    "GET",
    WEBHOOK_PATH + "/deliveries",
    summary="The enterprise's recent webhook deliveries with their attempts, newest first",
    tag="webhooks",
    query=DeliveryQuery,
    roles=WEBHOOK_ROLES,
)
async def list_deliveries(request: web.Request) -> web.Response:
    enterprise_id = _enterprise_in_scope(request)
    criteria = read_query(request, DeliveryQuery)
    async with request.app[POOL].acquire() as conn:
        if await queries.get_webhook(conn, enterprise_id) is None:
            raise NotFound("no such enterprise")
        deliveries = await queries.list_deliveries(conn, enterprise_id, limit=criteria.limit)
        attempts = await queries.list_attempts(conn, [d["id"] for d in deliveries])
    by_delivery: dict[int, list[dict[str, Any]]] = {}
    for attempt in attempts:
        item = dict(attempt)
        by_delivery.setdefault(item.pop("delivery_id"), []).append(item)
    return json_response(
        {"items": [{**dict(d), "attempts": by_delivery.get(d["id"], [])} for d in deliveries]}
    )
