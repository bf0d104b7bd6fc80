"""Connections to PostgreSQL: the pool, codecs, the transaction helper, and where
reports read (a streaming replica, or the primary)."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from types import TracebackType
from typing import Any, TypeVar

import asyncpg
import asyncpg.transaction

from hotline.fallbacks import Fallback, Fallbacks

Connection = asyncpg.Connection
Pool = asyncpg.Pool

log = logging.getLogger(__name__)


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


T = TypeVar("T")
Work = Callable[[asyncpg.Connection], Awaitable[T]]


class SharedTransactions:
    """Runs units of work that arrive together in one transaction, each answered only
    after that transaction commits.

    For the busiest writes (Twilio's webhooks): each transaction costs a BEGIN, a
    COMMIT and a connection reset, three round trips as dear as the work's own, and
    under load they come in bursts. Up to ``flushers`` transactions run at once; what
    arrives meanwhile waits and goes into the next, at most ``max_batch`` units in one.
    A unit that fails would take the others' work down with it, so after a failure
    each unit of that transaction runs again alone: only its own caller gets its error.
    Units must be retryable (their transaction rolled back) and keep no lock order that
    another unit could reverse for long: a deadlock is one more failure, retried alone.
    """

    def __init__(self, pool: asyncpg.Pool, *, flushers: int = 4, max_batch: int = 32) -> None:
        self._pool = pool
        self._flushers = flushers
        self._max_batch = max_batch
        self._pending: list[tuple[Work[Any], asyncio.Future[Any]]] = []
        self._running: set[asyncio.Task[None]] = set()

    async def run(self, work: Work[T]) -> T:
        """``work(conn)`` inside a transaction shared with others; its result once that
        transaction committed, or its own error."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((work, future))
        if len(self._running) < self._flushers:
            # A context of its own: the shared transaction is no one request's, so no
            # request's ``attempt`` sees its commits. Its units must be replayable, since a
            # lost connection leaves each caller an error after an unknown outcome.
            task = asyncio.create_task(self._flush(), context=contextvars.Context())
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        # The caller going away (a client that hung up) does not stop the others' work.
        return await asyncio.shield(future)

    async def _flush(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                await self._together(batch)
            except BaseException as exc:  # shutdown: nobody waits for an answer forever
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                raise

    async def _together(self, batch: list[tuple[Work[Any], asyncio.Future[Any]]]) -> None:
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                results = [await work(conn) for work, _ in batch]
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exception=exc)
                return
            for work, future in batch:
                await self._alone(work, future)
            return
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result=result)

    async def _alone(self, work: Work[Any], future: asyncio.Future[Any]) -> None:
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                result = await work(conn)
        except Exception as exc:
            _settle(future, exception=exc)
        else:
            _settle(future, result=result)


def _settle(
    future: asyncio.Future[Any], *, result: Any = None, exception: Exception | None = None
) -> None:
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)


# ------------------------------------------------------------------ where reports read

# Reports, rankings, hot issues and exports may read from a streaming replica
# (HOTLINE_READ_DATABASE_URL, docs/deploy.md). A replica that cannot be reached must not
# stop a report from opening: its connections are opened on the primary instead (a
# fallback, counted and logged), and the pool tries the replica again this long after.
READ_CONNECT_SECONDS = 5.0
READ_RETRY_SECONDS = 30.0
_READ_FALLBACK = "reports_on_primary"
_READ_FALLBACK_MESSAGE = "reports read the primary: the read replica cannot be reached"


def read_fallback(fallbacks: Fallbacks) -> Fallback:
    """The fallback of reports' reads among a process's ``fallbacks`` (a web
    application's are exported as ``hotline_fallbacks_total``)."""
    return fallbacks.get(_READ_FALLBACK, _READ_FALLBACK_MESSAGE, log=log)


def unreachable(exc: BaseException) -> bool:
    """Whether opening a connection failed for want of a server that takes connections
    (refused, timed out, no route, starting up or shutting down), not because it refused
    our credentials or database: a mistake to show, not to hide."""
    return isinstance(exc, OSError) or lost_connection(exc)


async def _open_reading(
    url: str, primary: str, fallback: Fallback, **kwargs: Any
) -> tuple[asyncpg.Connection, bool]:
    """A connection to the replica at ``url``, or to the ``primary`` when it cannot be
    reached; and whether it fell back."""
    try:
        conn = await asyncpg.connect(url, timeout=READ_CONNECT_SECONDS, **kwargs)
    except Exception as exc:
        if not unreachable(exc):
            raise
        # Logged with the error, which names the host and port, never the password.
        fallback.happened(exc)
        return await asyncpg.connect(primary, **kwargs), True
    fallback.ended()
    return conn, False


class _ReadConnections:
    """The read pool's ``connect`` and ``setup`` hooks: each connection is opened on the
    replica, or on the primary while the replica cannot be reached; once
    ``retry_seconds`` have passed since the last fallback, the next acquire expires the
    pool's connections, so each is opened again (on the replica if it is back) the next
    time it is taken: a busy pool never idles long enough to drop them by itself."""

    def __init__(self, primary: str, fallback: Fallback, retry_seconds: float) -> None:
        self.primary = primary
        self.fallback = fallback
        self.retry_seconds = retry_seconds
        self.pool: asyncpg.Pool | None = None
        self.fell_back_at: float | None = None

    async def connect(self, dsn: str, **kwargs: Any) -> asyncpg.Connection:
        conn, fell_back = await _open_reading(dsn, self.primary, self.fallback, **kwargs)
        if fell_back:
            self.fell_back_at = time.monotonic()
        return conn

    async def setup(self, conn: asyncpg.Connection) -> None:
        del conn  # the hook is given the connection taken; it is served as it is
        if self.fell_back_at is None or self.pool is None:
            return
        if time.monotonic() - self.fell_back_at >= self.retry_seconds:
            self.fell_back_at = None
            await self.pool.expire_connections()


async def create_read_pool(
    url: str,
    primary: str,
    fallback: Fallback,
    *,
    min_size: int = 1,
    max_size: int = 10,
    retry_seconds: float = READ_RETRY_SECONDS,
) -> asyncpg.Pool:
    """The pool reports read from: connections to the replica at ``url``, opened on the
    ``primary`` instead while the replica cannot be reached (each time ``fallback``)."""
    hooks = _ReadConnections(primary, fallback, retry_seconds)
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        connection_class=_Connection,
        connect=hooks.connect,
        setup=hooks.setup,
    )
    assert pool is not None
    hooks.pool = pool
    return pool


async def connect_for_reading(
    url: str | None, primary: str, fallback: Fallback
) -> asyncpg.Connection:
    """One connection (a job, a command) to where reports read: the replica at ``url``;
    the ``primary`` when ``url`` is unset or the replica cannot be reached."""
    if url is None:
        return await connect(primary)
    conn, _ = await _open_reading(url, primary, fallback, connection_class=_Connection)
    await _init_connection(conn)
    return conn
