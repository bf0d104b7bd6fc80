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


async def claim_due(
    conn: asyncpg.Connection, *, now: dt.datetime, limit: int, lease_seconds: int
) -> list[tuple[int, int]]:
    rows = await conn.fetch(
        """
        WITH claimed AS (
            UPDATE deadlines SET state = 'enqueued', attempts = attempts + 1,
               lease_until = $1 + make_interval(secs => $3)
         WHERE id IN (
            SELECT id FROM deadlines
             WHERE due_at <= $1
               AND (state = 'pending' OR (state = 'enqueued' AND lease_until < $1))
             ORDER BY due_at
             LIMIT $2
             FOR UPDATE SKIP LOCKED)
        RETURNING id, attempts, due_at)
        -- RETURNING keeps no order: hand rows on in the order they fell due.
        SELECT id, attempts FROM claimed ORDER BY due_at, id
        """,
        now,
        limit,
        lease_seconds,
    )
    return [(r["id"], r["attempts"]) for r in rows]


async def release(conn: asyncpg.Connection, ids: list[int]) -> None:
    await conn.execute(
        "UPDATE deadlines SET state = 'pending', lease_until = NULL "
        "WHERE id = ANY($1::bigint[]) AND state = 'enqueued'",
        ids,
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
