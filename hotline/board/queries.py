"""SQL for the consoles: agents' status, the live queue, an agent's own orders, the
supervisors' board. The board's counts are kept by the writes (migration 0013), so it
stays fast however many orders there are, open or closed."""

from __future__ import annotations

import datetime as dt

import asyncpg

from hotline.orders.queries import OPEN_LIST, OPEN_PREDICATE, ORDER_COLUMNS

# ---------------------------------------------------------------------- agent status


async def set_agent_status(
    conn: asyncpg.Connection, user_id: int, status: str, now: dt.datetime
) -> asyncpg.Record:
    """The agent's status from ``now``; setting the same status again keeps its start."""
    row = await conn.fetchrow(
        """
        INSERT INTO agent_status (user_id, status, since) VALUES ($1, $2, $3)
        ON CONFLICT (user_id) DO UPDATE
           SET status = EXCLUDED.status,
               since = CASE WHEN agent_status.status = EXCLUDED.status
                            THEN agent_status.since ELSE EXCLUDED.since END
        RETURNING user_id, status, since
        """,
        user_id,
        status,
        now,
    )
    assert row is not None
    return row


async def get_agent_status(conn: asyncpg.Connection, user_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT user_id, status, since FROM agent_status WHERE user_id = $1", user_id
    )


async def set_offline(
    conn: asyncpg.Connection, user_id: int, now: dt.datetime
) -> asyncpg.Record | None:
    """The agent offline from ``now`` (logged out); None when it already was, or never
    set a status."""
    return await conn.fetchrow(
        """
        UPDATE agent_status SET status = 'offline', since = $2, away_since = NULL
         WHERE user_id = $1 AND status <> 'offline'
        RETURNING user_id, status, since
        """,
        user_id,
        now,
    )


async def list_agents(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Active agents with their status (offline when they never set one)."""
    return await conn.fetch(
        """
        SELECT u.id, u.username, u.display_name, u.hotline_code,
               coalesce(s.status, 'offline') AS status, s.since
          FROM users u LEFT JOIN agent_status s ON s.user_id = u.id
         WHERE u.role = 'agent' AND u.active
         ORDER BY u.hotline_code NULLS LAST, u.display_name
        """
    )


# --------------------------------------------------------------------- presence
# Times here are the database's (now()): heartbeats from web processes on several hosts
# are compared with one another, so they must come from one clock.


async def renew_process(
    conn: asyncpg.Connection, process_id: str, connections: dict[str, int]
) -> None:
    """A web process's heartbeat: it is alive now and holds exactly ``connections``
    (sid → user id). Rewriting the set each time mends a connection whose row a failed
    write left behind or missed, and a process that a sweep took for dead."""
    await conn.execute(
        """
        INSERT INTO live_processes (id, seen_at) VALUES ($1, now())
        ON CONFLICT (id) DO UPDATE SET seen_at = EXCLUDED.seen_at
        """,
        process_id,
    )
    sids, users = list(connections), list(connections.values())
    # Not a connection recorded since this transaction began: the set was read after
    # it began, so such a connection opened meanwhile and is not in it yet.
    await conn.execute(
        """
        DELETE FROM live_connections
         WHERE process_id = $1 AND NOT (sid = ANY($2::text[])) AND connected_at < now()
        """,
        process_id,
        sids,
    )
    await conn.execute(
        """
        INSERT INTO live_connections (process_id, sid, user_id, connected_at)
        SELECT $1, sid, user_id, now()
          FROM unnest($2::text[], $3::bigint[]) AS c (sid, user_id)
          JOIN users u ON u.id = c.user_id
        ON CONFLICT (process_id, sid) DO NOTHING
        """,
        process_id,
        sids,
        users,
    )


async def add_connection(conn: asyncpg.Connection, process_id: str, sid: str, user_id: int) -> None:
    await conn.execute(
        """
        INSERT INTO live_processes (id, seen_at) VALUES ($1, now())
        ON CONFLICT (id) DO UPDATE SET seen_at = EXCLUDED.seen_at
        """,
        process_id,
    )
    await conn.execute(
        """
        INSERT INTO live_connections (process_id, sid, user_id, connected_at)
        VALUES ($1, $2, $3, now()) ON CONFLICT (process_id, sid) DO NOTHING
        """,
        process_id,
        sid,
        user_id,
    )


async def remove_connection(conn: asyncpg.Connection, process_id: str, sid: str) -> None:
    await conn.execute(
        "DELETE FROM live_connections WHERE process_id = $1 AND sid = $2", process_id, sid
    )


async def remove_process(conn: asyncpg.Connection, process_id: str) -> None:
    """A web process stopping: its connections go with it."""
    await conn.execute("DELETE FROM live_processes WHERE id = $1", process_id)


_CONNECTED = "EXISTS (SELECT 1 FROM live_connections c WHERE c.user_id = s.user_id)"


async def sweep_presence(
    conn: asyncpg.Connection, *, grace: dt.timedelta, expiry: dt.timedelta
) -> list[asyncpg.Record]:
    """Forget the connections of web processes silent for ``expiry``; note agents who
    are not offline and have no connection; set offline those without one for
    ``grace``. Returns the agents set offline. Two sweeps at once set each agent offline
    once: the second one's update finds the row already offline."""
    await conn.execute("DELETE FROM live_processes WHERE seen_at < now() - $1::interval", expiry)
    await conn.execute(
        f"UPDATE agent_status s SET away_since = NULL WHERE away_since IS NOT NULL AND {_CONNECTED}"
    )
    await conn.execute(
        f"""
        UPDATE agent_status s SET away_since = now()
         WHERE status <> 'offline' AND away_since IS NULL AND NOT {_CONNECTED}
        """
    )
    return await conn.fetch(
        f"""
        UPDATE agent_status s SET status = 'offline', since = now(), away_since = NULL
         WHERE status <> 'offline' AND away_since <= now() - $1::interval
           AND NOT {_CONNECTED}
        RETURNING user_id, status, since
        """,
        grace,
    )


# ------------------------------------------------------------------------ the queue


async def waiting_calls(
    conn: asyncpg.Connection, hotline_codes: list[str] | None
) -> list[asyncpg.Record]:
    """Callers waiting for an agent, longest first (the calls_waiting_idx predicate)."""
    return await conn.fetch(
        """
        SELECT id, hotline_code, from_phone, queued_at, menu_choice
          FROM calls
         WHERE agent_user_id IS NULL AND left_queue_at IS NULL AND queued_at IS NOT NULL
           AND status IN ('queued', 'ringing', 'in-progress')
           AND ($1::text[] IS NULL OR hotline_code = ANY($1::text[]))
         ORDER BY queued_at, id
         LIMIT 100
        """,
        hotline_codes,
    )


async def orders_registered_by(
    conn: asyncpg.Connection, user_id: int, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {ORDER_COLUMNS} FROM work_orders o WHERE o.registered_by = $1 "
        "ORDER BY o.created_at DESC LIMIT $2",
        user_id,
        limit,
    )


# ------------------------------------------------------------------------- the board


def kept_count(family: str, condition: str) -> str:
    """A count the writes keep (migration 0013): its folded rows and the changes not
    folded yet, read in the statement's one snapshot."""
    rows = f"family = '{family}' AND {condition}"
    return (
        "(SELECT coalesce(sum(n), 0)::bigint FROM ("
        f"SELECT n FROM board_counts WHERE {rows} "
        f"UNION ALL SELECT n FROM board_count_changes WHERE {rows}) kept)"
    )


def open_due_count(start: str, end: str) -> str:
    """Open orders due in [start, end), from work_orders_board_open_idx: the minutes at
    the ends of a period, which the kept counts have only by the hour."""
    return (
        f"(SELECT count(*) FROM work_orders WHERE {OPEN_PREDICATE} "
        f"AND resolution_due_at >= {start} AND resolution_due_at < {end})"
    )


# The board's numbers. The whole hours come from the kept counts, a few dozen rows
# whatever the volume; the minutes at the ends of a period from the orders' indexes:
# $1 the local day's start and $2 the next whole hour (registered today); $3 now, $4
# its hour, $5 the next whole hour; $6 soon and $7 its hour (due soon, overdue).
BOARD_COUNTERS = f"""
    SELECT
      {kept_count("registered", "hour >= $2")}
        + (SELECT count(*) FROM work_orders
            WHERE status <> 'draft' AND created_at >= $1 AND created_at < $2)
        AS registered_today,
      {kept_count("status", f"key IN {OPEN_LIST}")} AS open,
      {kept_count("due", "hour >= $5 AND hour < $7")}
        + {open_due_count("$3", "least($5, $6)")} + {open_due_count("greatest($7, $5)", "$6")}
        AS due_soon,
      {kept_count("due", "hour < $4")} + {open_due_count("$4", "$3")} AS overdue,
      {kept_count("status", "key = 'escalated'")} AS in_coordination,
      {kept_count("order_returns", "key = 'pending'")} AS returns_pending,
      {kept_count("time_requests", "key = 'pending'")} AS time_requests_pending,
      {kept_count("status", "key IN ('completed', 'callback')")} AS callbacks_due,
      {kept_count("status", "key = 'draft'")} AS drafts
    """


def hour_of(at: dt.datetime) -> dt.datetime:
    """The UTC hour ``at`` is in, as board_order_rows() buckets it."""
    return at.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def next_hour(at: dt.datetime) -> dt.datetime:
    """The first whole UTC hour at or after ``at``."""
    hour = hour_of(at)
    return hour if hour == at else hour + dt.timedelta(hours=1)


def board_counter_args(
    day_start: dt.datetime, now: dt.datetime, soon: dt.datetime
) -> tuple[dt.datetime, ...]:
    """BOARD_COUNTERS' parameters."""
    return (day_start, next_hour(day_start), now, hour_of(now), next_hour(now), soon, hour_of(soon))


async def board_counters(
    conn: asyncpg.Connection, *, day_start: dt.datetime, now: dt.datetime, soon: dt.datetime
) -> dict[str, int]:
    row = await conn.fetchrow(BOARD_COUNTERS, *board_counter_args(day_start, now, soon))
    assert row is not None
    return dict(row)
