"""What supervisors watch of the exchange: per platform, the orders it sent today and
those still open, those past the platform's own limits, the on-time rate against those
limits, and the messages it has not taken; and sending a failed message again."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from hotline.errors import Conflict, NotFound
from hotline.orders import queries as order_queries
from hotline.orders.lifecycle import OPEN
from hotline.orders.service import record_event
from hotline.users.models import Actor
from integrations.exchange import queries


async def figures(
    conn: asyncpg.Connection,
    now: dt.datetime,
    tz: ZoneInfo,
    days: int,
    *,
    hotlines: frozenset[str] | None,
) -> list[dict[str, Any]]:
    """Each platform's figures (``hotlines``: only the platforms of those hotlines). An
    order is on time when it was completed by the platform's due, or by ours when the
    platform gave none."""
    today = dt.datetime.combine(now.astimezone(tz).date(), dt.time(), tz)
    since = today - dt.timedelta(days=days - 1)
    rows = await queries.platform_figures(
        conn,
        now=now,
        today=today,
        since=since,
        open_statuses=sorted(s.value for s in OPEN),
        hotlines=sorted(hotlines) if hotlines is not None else None,
    )
    return [
        {
            **dict(row),
            "on_time_rate": round(row["on_time"] / row["completed"], 4)
            if row["completed"]
            else None,
        }
        for row in rows
    ]


async def do_retry(
    conn: asyncpg.Connection, actor: Actor, message_id: int, now: dt.datetime
) -> asyncpg.Record:
    """A failed message goes again (its order's later messages follow once it is
    delivered); noted on the order. Another hotline's message is not found, as its
    order is not."""
    message = await queries.get_message(conn, message_id)
    order = await order_queries.get_order(conn, message["order_id"]) if message else None
    if order is None or not actor.sees_hotline(order["hotline_code"]):
        raise NotFound("no such message")
    row = await queries.retry_failed(conn, message_id)
    if row is None:
        raise Conflict("only a failed message is sent again", code="not_failed")
    await record_event(
        conn,
        row["order_id"],
        "exchange.retried",
        actor,
        now,
        data={"platform": row["platform_code"], "message_id": message_id},
    )
    return row
