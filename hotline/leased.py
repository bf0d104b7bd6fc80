"""Rows that one job at a time sends to the outside world: webhook deliveries, SMS and
calls, callback attempts.

Each such table has ``id``, ``state`` ('pending' until it is settled), ``due_at``,
``lease_until`` and ``attempts`` (times a relay claimed it). The relay leases due rows
and enqueues one job per row; the job takes a session-level advisory lock on the row
before it talks to the outside world, so a row enqueued twice (a lease that ran out
while the first job was still sending) is still sent once.
"""

# asyncpg has no type information: what its queries return is Any by nature.
# mypy: disable-error-code="no-any-return"

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg

from hotline.relay import Source

# Table names go into SQL text, so only these may be named.
TABLES = frozenset({"webhook_deliveries", "outbound_messages", "callback_attempts"})


def _table(name: str) -> str:
    if name not in TABLES:
        raise ValueError(f"{name!r} is not a leased table")
    return name


async def claim_due(
    conn: asyncpg.Connection, table: str, *, limit: int, lease_seconds: int
) -> list[tuple[int, int]]:
    """Lease due pending rows (lease free or run out) to this relay; (id, claims) pairs.

    The state stays ``pending``: the lease alone says a job is on its way. Time is the
    database's, the same clock the job uses to decide whether a row is due."""
    rows = await conn.fetch(
        f"""
        UPDATE {_table(table)} SET attempts = attempts + 1,
               lease_until = now() + make_interval(secs => $2)
         WHERE id IN (
            SELECT id FROM {table}
             WHERE state = 'pending' AND due_at <= now()
               AND (lease_until IS NULL OR lease_until < now())
             ORDER BY due_at
             LIMIT $1
             FOR UPDATE SKIP LOCKED)
        RETURNING id, attempts
        """,
        limit,
        lease_seconds,
    )
    return [(r["id"], r["attempts"]) for r in rows]


async def release(conn: asyncpg.Connection, table: str, ids: list[int]) -> None:
    """Hand claimed rows back at once (the queue could not take them)."""
    await conn.execute(
        f"UPDATE {_table(table)} SET lease_until = NULL "
        "WHERE id = ANY($1::bigint[]) AND state = 'pending'",
        ids,
    )


def source(name: str, table: str, job: Callable[[int], Any]) -> Source:
    """The relay's source for one leased table."""
    _table(table)
    return Source(
        name,
        lambda conn, now, limit, lease: claim_due(conn, table, limit=limit, lease_seconds=lease),
        lambda conn, ids: release(conn, table, ids),
        job,
    )


@contextlib.asynccontextmanager
async def sending_lock(conn: asyncpg.Connection, table: str, row_id: int) -> AsyncIterator[bool]:
    """Yields whether this connection holds the row's sending lock (False: another job is
    sending it right now).

    A session lock, not a transaction: it is held across the request to the outside
    world, which must not run inside a transaction, and it goes away with the connection
    if the worker dies."""
    key = f"{_table(table)}:{row_id}"
    held = bool(await conn.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", key))
    try:
        yield held
    finally:
        if held:
            await conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)
