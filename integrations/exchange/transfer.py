"""转办: an order that is not this hotline's business leaves for the platform that
handles it, in one action, and is final here.

An order of ours is passed on whole (the feed sends it as a ``transferred`` message to
the platform's transfer path; the acknowledgement gives its number there). An order a
platform sent us goes back to that platform (``returned``, with the reason). Either
way its clocks stop and its status is ``transferred``; what the platform answered is
in the order's exchange history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from hotline.deadlines import queries as deadline_queries
from hotline.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.orders import queries as order_queries
from hotline.orders.service import do_transition
from hotline.reference.cache import reference
from hotline.users.models import Actor
from integrations.exchange import queries


class TransferInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    platform: str = Field(min_length=1, max_length=32, description="the platform's code")
    reason: str = Field(min_length=1, max_length=500, description="why it is not ours")


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def order_content(conn: asyncpg.Connection, order: asyncpg.Record) -> dict[str, Any]:
    """What the platform needs to handle an order passed to it, by our names."""
    classification = await reference.classification_of_item(conn, order["service_item_code"])
    return {
        "our_number": order["number"],
        "description": order["description"],
        "caller_name": order["caller_name"],
        "caller_phone": order["caller_phone"],
        "classification": classification["code"] if classification is not None else None,
        "service_item": order["service_item_code"],
        "kind": order["kind"],
        "priority": order["priority"],
        "area": order["area_code"],
        "address": order["address"],
        "registered_at": _iso(order["created_at"]),
    }


async def do_transfer(
    conn: asyncpg.Connection,
    actor: Actor,
    order_id: int,
    body: TransferInput,
    now: dt.datetime,
) -> asyncpg.Record:
    """Pass the order to ``body.platform`` (or give a received order back to it); the
    order, now ``transferred``. The message to the platform goes after commit."""
    if not actor.is_centre:
        raise Forbidden("only the hotline centre transfers orders", code="not_centre")
    order = await order_queries.get_order(conn, order_id, for_update=True)
    if order is None or not actor.sees_hotline(order["hotline_code"]):
        raise NotFound("no such order")
    if order["service_item_code"] is None:
        # Only a draft can be unclassified, and a transferred order must be classified
        # (the platform is sent its classification): the agent picks the item first.
        raise InvalidInput(
            "the order cannot be transferred",
            code="invalid_transfer",
            fields={"service_item": "choose the draft's service item first"},
        )
    platform = await queries.get_platform(conn, body.platform)
    if platform is None or not platform["active"]:
        raise InvalidInput(
            "the order cannot be transferred",
            code="invalid_transfer",
            fields={"platform": "unknown or switched-off platform"},
        )
    exchange = await queries.exchange_of_order(conn, order_id)
    data: dict[str, Any] = {"platform": platform["code"], "reason": body.reason}
    if exchange is None:
        content = await order_content(conn, order)
        data["order"] = content
        await queries.insert_exchange_order(
            conn,
            {
                "order_id": order_id,
                "platform_code": platform["code"],
                "direction": "out",
                "classification_code": content["classification"],
                "received": content,
                "created_at": now,
            },
        )
    elif exchange["direction"] == "out" or exchange["platform_code"] != platform["code"]:
        raise Conflict(
            "the order was exchanged with {platform} already; it goes back only there",
            code="already_exchanged",
            platform=exchange["platform_code"],
        )
    await deadline_queries.cancel_open(conn, order_id)
    return await do_transition(conn, order, "transfer", actor, now, data=data)
