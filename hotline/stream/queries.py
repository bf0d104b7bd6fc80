"""SQL for the live stream of order events: how far it is safe to read, the events in a
range of ``seq`` with who may see them, and how far the publisher has got."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

# The shared advisory lock every insert into order_events takes before its seq
# (migration 0008_live; the same two numbers are written there).
STREAM_LOCK_CLASS = 0x686F746C  # "hotl"
STREAM_LOCK_ID = 1
# The session lock of the one publisher at a time (one bigint key, not the pair above).
PUBLISHER_LOCK = 0x686F746C_6C697665  # "hotllive"

# Dispatch states in which a unit is working on the order (and may need to call).
ACTIVE_DISPATCH_STATES = ("pending", "signed")


async def last_allocated_seq(conn: asyncpg.Connection) -> int:
    """The highest seq handed out so far, committed or not (read outside transactions:
    a sequence is not transactional)."""
    return await conn.fetchval(
        "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
        "FROM order_events_seq_seq"
    )


async def event_writers(conn: asyncpg.Connection) -> frozenset[str]:
    """The transactions (virtual ids) of this database that have taken a seq and not
    ended yet."""
    rows = await conn.fetch(
        f"""
        SELECT virtualtransaction FROM pg_locks
         WHERE locktype = 'advisory' AND granted
           AND classid = {STREAM_LOCK_CLASS} AND objid = {STREAM_LOCK_ID} AND objsubid = 2
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """
    )
    return frozenset(r["virtualtransaction"] for r in rows)


async def read_events(
    conn: asyncpg.Connection,
    *,
    after: int,
    upto: int,
    limit: int,
    scope: list[int] | None = None,
) -> list[dict[str, Any]]:
    """Events with ``after < seq <= upto``, oldest first, as plain data: the event, its
    order's number, hotline and status (the event's own, else the order's now), its
    owner (``owner_id``, the agent who registered it: 首问负责制), and the
    units with a dispatch on the order (``units``) and those working on it
    (``active_units``). With ``scope`` (an enterprise and its branches), only events of
    orders dispatched to one of those units."""
    scoped = (
        "AND EXISTS (SELECT 1 FROM dispatches s WHERE s.order_id = e.order_id "
        "AND s.enterprise_id = ANY($5::bigint[]))"
        if scope is not None
        else ""
    )
    rows = await conn.fetch(
        f"""
        SELECT e.seq, e.type, e.order_id, o.number, o.hotline_code AS hotline,
               coalesce(e.to_status, o.status) AS status, e.created_at AS at, e.actor,
               o.registered_by AS owner_id, e.data, coalesce(u.units, '{{}}') AS units,
               coalesce(u.active_units, '{{}}') AS active_units
          FROM order_events e
          JOIN work_orders o ON o.id = e.order_id
          LEFT JOIN LATERAL (
              SELECT array_agg(DISTINCT d.enterprise_id) AS units,
                     array_agg(DISTINCT d.enterprise_id)
                         FILTER (WHERE d.state = ANY($4::text[])) AS active_units
                FROM dispatches d WHERE d.order_id = e.order_id) u ON true
         WHERE e.seq > $1 AND e.seq <= $2 {scoped}
         ORDER BY e.seq
         LIMIT $3
        """,
        after,
        upto,
        limit,
        list(ACTIVE_DISPATCH_STATES),
        *([scope] if scope is not None else []),
    )
    return [{**dict(r), "at": r["at"].isoformat()} for r in rows]


async def first_event_at(conn: asyncpg.Connection, after: int) -> dt.datetime | None:
    """When the first event after ``after`` happened (None: there is none yet)."""
    return await conn.fetchval(
        "SELECT created_at FROM order_events WHERE seq > $1 ORDER BY seq LIMIT 1", after
    )


async def published_seq(conn: asyncpg.Connection) -> int:
    """How far the publisher has published (migration 0008 starts it where the history
    stood, so an upgraded system does not push its whole past)."""
    return await conn.fetchval("SELECT published_seq FROM live_cursor") or 0


async def save_published(conn: asyncpg.Connection, seq: int) -> None:
    await conn.execute(
        """
        INSERT INTO live_cursor (published_seq) VALUES ($1)
        ON CONFLICT (id) DO UPDATE SET published_seq = $1, updated_at = now()
        """,
        seq,
    )


async def try_lead(conn: asyncpg.Connection) -> bool:
    """Become the one publisher (a session lock, held until this connection closes)."""
    return await conn.fetchval("SELECT pg_try_advisory_lock($1)", PUBLISHER_LOCK)
