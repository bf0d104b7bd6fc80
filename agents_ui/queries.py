"""SQL for the consoles: agents' status, the live queue, an agent's own orders, the
supervisors' board. Each count reads one index (see migration 0009), so the board stays
fast however many closed orders pile up behind it."""

from __future__ import annotations

import datetime as dt

import asyncpg

from hotline.orders.queries import ORDER_COLUMNS

# Work left to do: the predicate of work_orders_board_open_idx, word for word, so the
# planner can use that index (it matches predicates textually).
OPEN_PREDICATE = (
    "status IN ('registered', 'dispatching', 'dispatched', 'returned', 'escalated', "
    "'in_progress', 'reopened')"
)

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


# ------------------------------------------------------------------------ the queue


async def waiting_calls(conn: asyncpg.Connection, hotline_code: str | None) -> list[asyncpg.Record]:
    """Callers waiting for an agent, longest first (the calls_waiting_idx predicate)."""
    return await conn.fetch(
        """
        SELECT id, hotline_code, from_phone, queued_at, menu_choice
          FROM calls
         WHERE agent_user_id IS NULL AND left_queue_at IS NULL AND queued_at IS NOT NULL
           AND status IN ('queued', 'ringing', 'in-progress')
           AND ($1::text IS NULL OR hotline_code = $1)
         ORDER BY queued_at, id
         LIMIT 100
        """,
        hotline_code,
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


# The board's numbers, each from one index: registered since $1 (the local day's start);
# open; open and due before $3 (soon); overdue at $2 (now); in coordination; returns and
# time requests awaiting review; completed orders awaiting their callback (回访); drafts.
BOARD_COUNTERS = f"""
    SELECT
      (SELECT count(*) FROM work_orders
        WHERE status <> 'draft' AND created_at >= $1) AS registered_today,
      (SELECT count(*) FROM work_orders WHERE {OPEN_PREDICATE}) AS open,
      (SELECT count(*) FROM work_orders WHERE {OPEN_PREDICATE}
          AND resolution_due_at >= $2 AND resolution_due_at < $3) AS due_soon,
      (SELECT count(*) FROM work_orders WHERE {OPEN_PREDICATE}
          AND resolution_due_at < $2) AS overdue,
      (SELECT count(*) FROM work_orders WHERE status = 'escalated') AS in_coordination,
      (SELECT count(*) FROM order_returns WHERE state = 'pending') AS returns_pending,
      (SELECT count(*) FROM time_requests WHERE state = 'pending') AS time_requests_pending,
      (SELECT count(*) FROM work_orders
        WHERE status IN ('completed', 'callback')) AS callbacks_due,
      (SELECT count(*) FROM work_orders WHERE status = 'draft') AS drafts
    """


async def board_counters(
    conn: asyncpg.Connection, *, day_start: dt.datetime, now: dt.datetime, soon: dt.datetime
) -> dict[str, int]:
    row = await conn.fetchrow(BOARD_COUNTERS, day_start, now, soon)
    assert row is not None
    return dict(row)
