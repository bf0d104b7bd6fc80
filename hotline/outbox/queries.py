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
