"""SQL for the transactional outbox: work to do once the transaction that wanted it commits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg


async def insert(
    conn: asyncpg.Connection,
    *,
    topic: str,
    key: str,
    payload: dict[str, Any],
    due_at: dt.datetime | None = None,
) -> int | None:
    """Queue an effect under its natural key; the same key twice is one effect."""
    return await conn.fetchval(
        """
        INSERT INTO outbox (topic, key, payload, due_at)
        VALUES ($1, $2, $3, coalesce($4, now()))
        ON CONFLICT (key) DO NOTHING RETURNING id
        """,
        topic,
        key,
        payload,
        due_at,
    )


async def claim_due(
    conn: asyncpg.Connection, *, limit: int, lease_seconds: int
) -> list[tuple[int, int]]:
    """Take due rows, and rows whose lease ran out, for this relay alone."""
    rows = await conn.fetch(
        """
        WITH claimed AS (
            UPDATE outbox SET state = 'enqueued', attempts = attempts + 1,
               lease_until = now() + make_interval(secs => $2)
         WHERE id IN (
            SELECT id FROM outbox
             WHERE due_at <= now()
               AND (state = 'pending' OR (state = 'enqueued' AND lease_until < now()))
             ORDER BY due_at
             LIMIT $1
             FOR UPDATE SKIP LOCKED)
        RETURNING id, attempts, due_at)
        -- RETURNING keeps no order: hand rows on in the order they fell due.
        SELECT id, attempts FROM claimed ORDER BY due_at, id
        """,
        limit,
        lease_seconds,
    )
    return [(r["id"], r["attempts"]) for r in rows]


async def release(conn: asyncpg.Connection, ids: list[int]) -> None:
    """Hand claimed rows back at once (the queue could not take them)."""
    await conn.execute(
        "UPDATE outbox SET state = 'pending', lease_until = NULL "
        "WHERE id = ANY($1::bigint[]) AND state = 'enqueued'",
        ids,
    )


async def lock(conn: asyncpg.Connection, row_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM outbox WHERE id = $1 FOR UPDATE", row_id)


async def mark_done(conn: asyncpg.Connection, row_id: int) -> None:
    await conn.execute(
        "UPDATE outbox SET state = 'done', done_at = now(), lease_until = NULL WHERE id = $1",
        row_id,
    )


async def mark_failed_attempt(
    conn: asyncpg.Connection, row_id: int, *, error: str, retry_in: dt.timedelta | None
) -> None:
    """Back to pending after ``retry_in``, or failed for good when it is None."""
    await conn.execute(
        """
        UPDATE outbox SET last_error = $2, lease_until = NULL,
               state = CASE WHEN $3::interval IS NULL THEN 'failed' ELSE 'pending' END,
               due_at = CASE WHEN $3::interval IS NULL THEN due_at ELSE now() + $3 END
         WHERE id = $1
        """,
        row_id,
        error[:2000],
        retry_in,
    )
