"""What routing does when the core announces something (outbox topics, deadlines)."""

from __future__ import annotations

from typing import Any

import asyncpg

from hotline.context import JobContext
from hotline.deadlines.handlers import kinds
from hotline.outbox.handlers import topics
from routing import ladder
from routing.dispatch import do_route_order, lock_order
from routing.outages import link_to_outage


async def on_order_registered(
    conn: asyncpg.Connection, payload: dict[str, Any], ctx: JobContext
) -> None:
    """A new order: join a running outage, or route it. A second delivery finds the
    order no longer ``registered`` and does nothing."""
    order = await lock_order(conn, payload["order_id"])
    if order["status"] != "registered":
        return
    now = ctx.clock()
    outage = await link_to_outage(conn, order, now)
    if outage is not None and outage["parent_order_id"] is not None:
        return  # merged into the outage's parent order
    calendar = await ctx.calendar.get(conn)
    await do_route_order(conn, order, calendar=calendar, settings=ctx.settings, now=now)


def subscribe() -> None:
    topics.subscribe("order.registered", on_order_registered)
    for kind, handler in ladder.HANDLERS.items():
        kinds.subscribe(kind, handler)
