"""SQL behind the Prometheus gauges: counts computed when /metrics is scraped, each a
range of a partial index or the board's kept counts, so a scrape stays cheap however
large the tables grow."""

from __future__ import annotations

import asyncpg

from hotline.board.queries import kept_count, open_due_count
from hotline.orders.queries import OPEN_LIST

# The hour the database's clock is in, as the board's counts bucket it.
HOUR = "date_trunc('hour', now(), 'UTC')"


async def backlog_counts(
    conn: asyncpg.Connection, *, late_seconds: float, statement_seconds: float
) -> dict[str, int]:
    """Pending and late deadlines, pending and late outbox rows, open and overdue
    orders, the board's count changes the relay has not folded yet. ``late``: due more
    than ``late_seconds`` ago and still not carried out. Open and overdue orders are the
    board's counts (hotline.board.queries); other predicates are those of the partial
    indexes, word for word. A statement running past ``statement_seconds`` is
    cancelled on the server."""
    row = await conn.fetchrow(
        f"""
        SELECT
          (SELECT count(*) FROM deadlines
            WHERE state IN ('pending', 'enqueued')) AS deadlines_pending,
          (SELECT count(*) FROM deadlines WHERE state IN ('pending', 'enqueued')
              AND due_at < now() - make_interval(secs => $1)) AS deadlines_late,
          (SELECT count(*) FROM outbox
            WHERE state IN ('pending', 'enqueued')) AS outbox_pending,
          (SELECT count(*) FROM outbox WHERE state IN ('pending', 'enqueued')
              AND due_at < now() - make_interval(secs => $1)) AS outbox_late,
          {kept_count("status", f"key IN {OPEN_LIST}")} AS orders_open,
          {kept_count("due", f"hour < {HOUR}")} + {open_due_count(HOUR, "now()")}
              AS orders_overdue,
          (SELECT count(*) FROM board_count_changes) AS board_changes_pending,
          to_regclass('callback_attempts') IS NOT NULL AS has_callbacks
        """,
        late_seconds,
        timeout=statement_seconds,
    )
    assert row is not None
    return dict(row)


async def callbacks_due(conn: asyncpg.Connection, *, statement_seconds: float) -> int:
    """Callback attempts due and not yet placed (callback_attempts_due_idx)."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM callback_attempts WHERE state = 'pending' AND due_at <= now()",
            timeout=statement_seconds,
        )
    )
