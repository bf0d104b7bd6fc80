"""Where reports read, and how current it is.

Reports, rankings, hot issues and exports read from a streaming replica when
``HOTLINE_READ_DATABASE_URL`` is set (the web application's read pool, the job context's
``read_connection``), the primary otherwise. A replica replays the primary's WAL a little
behind it; a report says how far ("data as of …") with ``freshness``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

# On a replica: whether it has replayed all the WAL it received (then it is as current
# as its primary has told it to be), and the commit time of the last transaction it
# replayed (NULL until it has replayed one since it started).
FRESHNESS = """
    SELECT pg_is_in_recovery() AS replica,
           coalesce(pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), false) AS caught_up,
           pg_last_xact_replay_timestamp() AS replayed_at
    """


@dataclass(frozen=True)
class Freshness:
    """How current the data read on one connection is.

    ``replica``: the connection is to a server in recovery (a standby). ``as_of``: every
    transaction committed on the primary before this moment is visible; None when a
    replica behind its primary has replayed nothing since it started, so nobody can say.
    ``fallback``: a replica is configured but this connection is to a server that is not
    one (it could not be reached, and the reads went to the primary)."""

    replica: bool
    as_of: dt.datetime | None
    lag_seconds: float | None
    fallback: bool


async def freshness(
    conn: asyncpg.Connection, now: dt.datetime, *, replica_configured: bool
) -> Freshness:
    """How current what ``conn`` reads is at ``now``: the primary and a replica that has
    replayed everything it received are current; a replica behind is as of the last
    transaction it replayed."""
    row = await conn.fetchrow(FRESHNESS)
    assert row is not None
    if not row["replica"] or row["caught_up"]:
        as_of: dt.datetime | None = now
    else:
        as_of = row["replayed_at"]
    return Freshness(
        replica=row["replica"],
        as_of=as_of,
        # Never below zero: the primary's clock, which stamped the commit, may run ahead.
        lag_seconds=None if as_of is None else max(0.0, (now - as_of).total_seconds()),
        fallback=replica_configured and not row["replica"],
    )
