"""Connections to PostgreSQL: the pool, codecs, and the transaction helper."""

from __future__ import annotations

import contextvars
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from types import TracebackType

import asyncpg
import asyncpg.transaction

Connection = asyncpg.Connection
Pool = asyncpg.Pool


class Attempt:
    """One try at a unit of work (a web request): whether it has asked the database to
    commit. Work that lost its connection before any commit left nothing behind and can
    be tried again on a new connection; after a commit was asked for, the outcome is
    unknown and trying again could do it twice."""

    def __init__(self) -> None:
        self.committing = False


# A mutable holder rather than a flag: a task the unit of work starts gets a copy of the
# context, and its commits must still be seen.
_ATTEMPT: contextvars.ContextVar[Attempt | None] = contextvars.ContextVar(
    "hotline_db_attempt", default=None
)


@contextmanager
def attempt() -> Iterator[Attempt]:
    """Watch the commits of the code run inside (in this context and tasks it starts)."""
    watched = Attempt()
    token = _ATTEMPT.set(watched)
    try:
        yield watched
    finally:
        _ATTEMPT.reset(token)


def lost_connection(exc: BaseException) -> bool:
    """Whether ``exc`` is the database connection going away: the server terminated it or
    restarted (asyncpg's error, possibly the cause of what was raised next, such as a
    transaction's exit on the closed connection), or a new connection was refused."""
    if isinstance(exc, ConnectionError):  # only asyncpg's connect lets these through bare
        return True
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, _CONNECTION_GONE) or (
            isinstance(seen, asyncpg.InterfaceError) and "connection is closed" in str(seen)
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


_CONNECTION_GONE = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    # The server's goodbye to an idle connection arrives before the socket closes: asyncpg
    # cannot place that message, marks its protocol failed, and the next statement on the
    # connection, in the moment before the close is seen, fails with this.
    asyncpg.exceptions.InternalClientError,
)


class _Transaction(asyncpg.transaction.Transaction):  # type: ignore[misc]
    async def __aexit__(
        self,
        extype: type[BaseException] | None,
        ex: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        watched = _ATTEMPT.get()
        if extype is None and not self._nested and watched is not None:
            watched.committing = True
        await super().__aexit__(extype, ex, tb)


class _Connection(asyncpg.Connection):  # type: ignore[misc]
    # The database it talks to, read once when it opens: what is cached per process
    # (hotline/reference/cache.py) is kept per database, since one process (a test run,
    # a command) may work on several.
    database: str | None = None

    def transaction(
        self,
        *,
        isolation: str | None = None,
        readonly: bool = False,
        deferrable: bool = False,
    ) -> asyncpg.transaction.Transaction:
        # Same as asyncpg's, with a transaction that marks the attempt when it commits.
        self._check_open()
        return _Transaction(self, isolation, readonly, deferrable)


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
