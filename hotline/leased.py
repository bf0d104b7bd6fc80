"""Leases: the one way the relay claims due rows, and the one way a job sends a leased
row to the outside world.

Every table the relay drains (the outbox, deadlines, webhook deliveries, outbound
messages, callback attempts) has ``id``, ``state`` ('pending' until it is taken),
``due_at``, ``lease_until`` and ``attempts`` (times a relay claimed it). A claim takes due
rows whose lease is free or ran out (``FOR UPDATE SKIP LOCKED``: two relays never take
the same row) and gives them a lease; a job runs each. A table differs from another only
in the data of its ``Lease``.

Rows sent to the outside world (``send_leased``) are sent under a session-level advisory
lock on the row, so a row enqueued twice (a lease that ran out while the first job was
still sending) is still sent once; what comes of a failed send is a ``RetryPolicy``.
"""

# asyncpg has no type information: what its queries return is Any by nature.
# mypy: disable-error-code="no-any-return"

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg

# Table and state names go into SQL text (literals let the planner use the tables'
# partial indexes on state), so only plain names may be given.
_NAME = re.compile(r"^[a-z_]+$")


@dataclass(frozen=True)
class Lease:
    """How one table's rows are claimed.

    ``claimed_state``: the state of a claimed row; ``pending`` where the lease alone says
    a job is on its way (rows sent to the outside world, settled by their job).
    ``relay_clock``: due by the relay's clock (deadlines, whose lateness is measured
    against it), else by the database's, the clock the job uses to decide whether a
    row is due."""

    table: str
    claimed_state: str = "pending"
    relay_clock: bool = False

    def __post_init__(self) -> None:
        for name in (self.table, self.claimed_state):
            if not _NAME.match(name):
                raise ValueError(f"{name!r} is not a plain SQL name")


async def claim_due(
    conn: asyncpg.Connection, lease: Lease, *, now: dt.datetime, limit: int, lease_seconds: int
) -> list[tuple[int, int]]:
    """Lease due rows (pending, or claimed with their lease run out) to this relay, in
    the order they fell due; (id, claims) pairs."""
    states = (
        "('pending')"
        if lease.claimed_state == "pending"
        else f"('pending', '{lease.claimed_state}')"
    )
    rows = await conn.fetch(
        f"""
        WITH claimed AS (
            UPDATE {lease.table} SET state = '{lease.claimed_state}', attempts = attempts + 1,
                   lease_until = coalesce($1, now()) + make_interval(secs => $3)
             WHERE id IN (
                SELECT id FROM {lease.table}
                 WHERE due_at <= coalesce($1, now()) AND state IN {states}
                   AND (lease_until IS NULL OR lease_until < coalesce($1, now()))
                 ORDER BY due_at
                 LIMIT $2
                 FOR UPDATE SKIP LOCKED)
            RETURNING id, attempts, due_at)
        -- RETURNING keeps no order: hand rows on in the order they fell due.
        SELECT id, attempts FROM claimed ORDER BY due_at, id
        """,
        now if lease.relay_clock else None,
        limit,
        lease_seconds,
    )
    return [(r["id"], r["attempts"]) for r in rows]


async def release(conn: asyncpg.Connection, lease: Lease, ids: list[int]) -> None:
    """Hand claimed rows back at once (the queue could not take them)."""
    await conn.execute(
        f"UPDATE {lease.table} SET state = 'pending', lease_until = NULL "
        f"WHERE id = ANY($1::bigint[]) AND state = '{lease.claimed_state}'",
        ids,
    )


@dataclass(frozen=True)
class RetryPolicy:
    """After a failed attempt: wait ``first_wait``, doubling each time, at most
    ``longest_wait``; give up after ``max_attempts``."""

    max_attempts: int
    first_wait: dt.timedelta
    longest_wait: dt.timedelta = dt.timedelta.max

    def wait(self, tries: int) -> dt.timedelta:
        """The wait after the ``tries``-th failed attempt."""
        # The exponent is bounded so that a large count cannot overflow the timedelta.
        return min(self.first_wait * (1 << min(max(tries, 1) - 1, 16)), self.longest_wait)

    def retry_in(self, tries: int, *, permanent: bool = False) -> dt.timedelta | None:
        """The wait before the next attempt; None to give up (the failure is permanent,
        or the attempts are used up)."""
        if permanent or tries >= self.max_attempts:
            return None
        return self.wait(tries)


@contextlib.asynccontextmanager
async def sending_lock(conn: asyncpg.Connection, table: str, row_id: int) -> AsyncIterator[bool]:
    """Yields whether this connection holds the row's sending lock (False: another job is
    sending it right now).

    A session lock, not a transaction: it is held across the request to the outside
    world, which must not run inside a transaction, and it goes away with the connection
    if the worker dies."""
    key = f"{table}:{row_id}"
    held = bool(await conn.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", key))
    try:
        yield held
    finally:
        if held:
            await conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)


async def send_leased(
    conn: asyncpg.Connection,
    lease: Lease,
    row_id: int,
    *,
    load: Callable[[asyncpg.Connection, int], Awaitable[asyncpg.Record | None]],
    send: Callable[[asyncpg.Record], Awaitable[str]],
) -> str:
    """Send one leased row if it is still pending and due: under the row's sending lock,
    ``load`` re-reads it (with a ``due`` column by the database's clock) and ``send``
    sends and settles it, returning its new state; otherwise "skipped".

    Precondition: ``conn`` is not inside a transaction (none may stay open while the
    outside world is asked); ``send`` settles in transactions of its own."""
    async with sending_lock(conn, lease.table, row_id) as held:
        if not held:
            return "skipped"  # another worker is sending this very row right now
        row = await load(conn, row_id)
        # Not due: a stale job from an earlier claim; the backoff decides, not the queue.
        if row is None or row["state"] != "pending" or not row["due"]:
            return "skipped"
        return await send(row)
