"""HTTP: configure an enterprise's webhook and see its recent deliveries.

Administrators may do this for any enterprise, an enterprise administrator only for its
own; another enterprise answers 404, as if it did not exist.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

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
    async with request.app[POOL].acquire() as conn:
        if not await queries.set_webhook(conn, enterprise_id, url=body.url, secret=secret):
            raise NotFound("no such enterprise")  # removed meanwhile
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
    async with request.app[POOL].acquire() as conn:
        if not await queries.set_webhook(conn, enterprise_id, url=None, secret=None):
            raise NotFound("no such enterprise")
    return web.Response(status=204)


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
