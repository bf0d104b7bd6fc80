"""Waiting on the event itself, not for a while: PostgreSQL's view of a backend that
waits for a lock, or any condition checked again until it holds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg


async def waiting_on_a_lock(db: asyncpg.Pool | asyncpg.Connection, table: str) -> bool:
    """Whether some other backend of this database waits for a lock on ``table``."""
    return bool(
        await db.fetchval(
            """
            SELECT EXISTS (
              SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
               WHERE NOT l.granted AND a.datname = current_database()
                 AND (l.relation = $1::regclass OR a.query ILIKE '%' || $1 || '%'))
            """,
            table,
        )
    )


async def backend_waits(db: asyncpg.Pool | asyncpg.Connection, pid: int) -> bool:
    """Whether the backend ``pid`` waits for a lock (whatever it is: a row, a table, the
    end of another transaction)."""
    return bool(
        await db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted)", pid
        )
    )


async def until(check: Callable[[], Awaitable[bool]], what: str, attempts: int = 200) -> None:
    for _ in range(attempts):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting: {what}")
