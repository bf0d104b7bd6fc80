"""SQL for durable deadlines (timers kept in PostgreSQL, fired through the relay)."""

from __future__ import annotations

import datetime as dt

import asyncpg


async def insert(
    conn: asyncpg.Connection,
    *,
    order_id: int,
    kind: str,
    due_at: dt.datetime,
    dispatch_id: int | None = None,
    now: dt.datetime,
) -> int:
    return int(
        await conn.fetchval(
            """
            INSERT INTO deadlines (order_id, dispatch_id, kind, due_at, created_at)
            VALUES ($1, $2, $3, $4, $5) RETURNING id
            """,
            order_id,
            dispatch_id,
            kind,
            due_at,
            now,
        )
    )


async def lock(conn: asyncpg.Connection, deadline_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM deadlines WHERE id = $1 FOR UPDATE", deadline_id)


async def mark_fired(conn: asyncpg.Connection, deadline_id: int, now: dt.datetime) -> None:
    await conn.execute(
        "UPDATE deadlines SET state = 'fired', fired_at = $2, lease_until = NULL WHERE id = $1",
        deadline_id,
        now,
    )


async def cancel_open(
    conn: asyncpg.Connection, order_id: int, kinds: list[str] | None = None
) -> int:
    """Cancel the order's timers that have not fired (all of them, or only ``kinds``)."""
    result = await conn.execute(
        """
        UPDATE deadlines SET state = 'cancelled', lease_until = NULL
         WHERE order_id = $1 AND state IN ('pending', 'enqueued')
           AND ($2::text[] IS NULL OR kind = ANY($2::text[]))
        """,
        order_id,
        kinds,
    )
    return int(result.split()[-1])


async def cancel_dispatch_clock(conn: asyncpg.Connection, dispatch_id: int, kind: str) -> None:
    await conn.execute(
        "UPDATE deadlines SET state = 'cancelled', lease_until = NULL "
        "WHERE dispatch_id = $1 AND kind = $2 AND state IN ('pending', 'enqueued')",
        dispatch_id,
        kind,
    )
