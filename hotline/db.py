"""Connections to PostgreSQL: the pool, codecs, and the transaction helper."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

Connection = asyncpg.Connection
Pool = asyncpg.Pool


class _Connection(asyncpg.Connection):  # type: ignore[misc]
    # The database it talks to, read once when it opens: what is cached per process
    # (hotline/reference/cache.py) is kept per database, since one process (a test run,
    # a command) may work on several.
    database: str | None = None


async def database_of(conn: asyncpg.Connection) -> str:
    """The database ``conn`` talks to: known for this module's connections, asked of the
    server for any other."""
    known = getattr(conn, "database", None)
    return str(known if known is not None else await conn.fetchval("SELECT current_database()"))


async def _init_connection(conn: asyncpg.Connection) -> None:
    conn.database = await conn.fetchval("SELECT current_database()")
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name,
            encoder=lambda v: json.dumps(v, ensure_ascii=False, default=str),
            decoder=json.loads,
            schema="pg_catalog",
        )


async def connect(url: str) -> asyncpg.Connection:
    """One connection with the project's codecs (for jobs and commands)."""
    conn = await asyncpg.connect(url, connection_class=_Connection)
    await _init_connection(conn)
    return conn


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        connection_class=_Connection,
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """One use case, one transaction: yields a connection inside it."""
    async with pool.acquire() as conn, conn.transaction():
        yield conn
