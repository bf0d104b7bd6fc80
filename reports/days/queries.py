"""SQL of the day counts. A day is the local day of figure_settings' time zone; a
fact belongs to the day of its own time (an order to the day it was registered), so a
day's counts are final once its facts can no longer change."""

from __future__ import annotations

import datetime as dt

import asyncpg

ZONE = "(SELECT timezone FROM figure_settings)"


# The local day $1 as a range of instants, for a fact's time column.
def _on_day(column: str) -> str:
    return (
        f"{column} >= ($1::date::timestamp AT TIME ZONE {ZONE}) "
        f"AND {column} < (($1::date + 1)::timestamp AT TIME ZONE {ZONE})"
    )


# The order's keys under each dimension. An area is a district or one of its streets:
# a street counts toward its district too.
_DISTRICT = "CASE WHEN a.level = 'street' THEN a.parent_code ELSE a.code END"
ORDER_KEYS = f"""
    (VALUES ('total', ''),
            ('channel', o.channel),
            ('kind', o.kind),
            ('item', o.service_item_code),
            ('domain', i.domain),
            ('district', {_DISTRICT}),
            ('street', CASE WHEN a.level = 'street' THEN a.code END),
            ('area_item', ({_DISTRICT}) || '|' || o.service_item_code),
            ('unit', o.lead_enterprise_id::text),
            ('agent', o.registered_by::text)) AS k (dimension, key)
"""

# The orders registered on the day $1 (drafts are not orders yet), with their measures:
# registered, and of those resolved on the call (直接办结).
ROLL_ORDERS = f"""
    INSERT INTO report_day_counts (day, hotline_code, dimension, key, measure, n)
    SELECT $1::date, o.hotline_code, k.dimension, k.key, m.measure, count(*)
      FROM work_orders o
      LEFT JOIN service_items i ON i.code = o.service_item_code
      LEFT JOIN areas a ON a.code = o.area_code
     CROSS JOIN LATERAL {ORDER_KEYS}
     CROSS JOIN LATERAL (VALUES ('registered', true),
                                ('resolved_on_call', o.status = 'resolved_on_call'))
                     AS m (measure, yes)
     WHERE o.status <> 'draft' AND m.yes AND k.key IS NOT NULL
       AND {_on_day("o.created_at")}
     GROUP BY o.hotline_code, k.dimension, k.key, m.measure
"""


# Inbound calls offered to the agents on the day $1 (by the time they joined the queue;
# a call that never queued was not offered): per hotline, answered, abandoned (left the
# queue unanswered) and answered within 15 s; per agent who answered, calls handled,
# their handling seconds (answered to ended) and answers within 15 s.
ROLL_CALLS = f"""
    INSERT INTO report_day_counts (day, hotline_code, dimension, key, measure, n)
    SELECT $1::date, c.hotline_code, k.dimension, k.key, m.measure, sum(m.n)::bigint
      FROM calls c
     CROSS JOIN LATERAL (VALUES ('total', ''), ('agent', c.agent_user_id::text))
                     AS k (dimension, key)
     CROSS JOIN LATERAL (VALUES
            ('offered', k.dimension = 'total', 1),
            ('answered', c.answered_at IS NOT NULL, 1),
            ('abandoned', k.dimension = 'total' AND c.answered_at IS NULL
                          AND c.left_queue_at IS NOT NULL, 1),
            ('answered_15s', c.answered_at <= c.queued_at + interval '15 seconds', 1),
            ('handling_seconds', k.dimension = 'agent' AND c.ended_at IS NOT NULL,
             greatest(0, round(extract(epoch FROM c.ended_at - c.answered_at)))::bigint))
                     AS m (measure, yes, n)
     WHERE c.direction = 'inbound' AND c.hotline_code IS NOT NULL
       AND {_on_day("c.queued_at")} AND m.yes AND k.key IS NOT NULL
     GROUP BY c.hotline_code, k.dimension, k.key, m.measure
"""

# The order moves of the day $1, from the orders' history, per hotline and lead unit:
# dispatched (派单), returned by a unit (退单), sent to coordination (协调督办),
# reopened for a redo (重办). A move counts each time it happens.
ROLL_MOVES = f"""
    INSERT INTO report_day_counts (day, hotline_code, dimension, key, measure, n)
    SELECT $1::date, o.hotline_code, k.dimension, k.key, e.to_status, count(*)
      FROM order_events e
      JOIN work_orders o ON o.id = e.order_id
     CROSS JOIN LATERAL (VALUES ('total', ''), ('unit', o.lead_enterprise_id::text))
                     AS k (dimension, key)
     WHERE {_on_day("e.created_at")} AND k.key IS NOT NULL
       AND e.to_status IN ('dispatched', 'returned', 'escalated', 'reopened')
       AND e.from_status IS DISTINCT FROM e.to_status
     GROUP BY o.hotline_code, k.dimension, k.key, e.to_status
"""

# The seconds each agent spent in after-call work (话后处理) on the day $1, from the
# status history: a span runs from its change to the agent's next change (or now), cut
# to the day. A span is looked for from a day before: no after-call work lasts a day.
ROLL_AFTER_CALL = f"""
    INSERT INTO report_day_counts (day, hotline_code, dimension, key, measure, n)
    SELECT $1::date, coalesce(u.hotline_code, ''), 'agent', s.user_id::text,
           'after_call_seconds', round(sum(extract(epoch FROM
               least(coalesce(s.stop, $2), day_end) - greatest(s.start, day_start))))::bigint
      FROM (SELECT user_id, status, at AS start,
                   lead(at) OVER (PARTITION BY user_id ORDER BY at, id) AS stop
              FROM agent_status_changes
             WHERE at >= ($1::date - 1)::timestamp AT TIME ZONE {ZONE}
               AND at < ($1::date + 2)::timestamp AT TIME ZONE {ZONE}) s
      JOIN users u ON u.id = s.user_id
     CROSS JOIN LATERAL (SELECT $1::date::timestamp AT TIME ZONE {ZONE} AS day_start,
                                ($1::date + 1)::timestamp AT TIME ZONE {ZONE} AS day_end) d
     WHERE s.status = 'after_call' AND s.start < day_end
       AND coalesce(s.stop, $2) > day_start AND s.start < $2
     GROUP BY u.hotline_code, s.user_id
"""


# The day $1's rows added to its month's rows, times $2: -1 takes the day's old counts
# out before they are replaced, 1 puts the new ones in (migration 0055).
_ADD_TO_MONTH = """
    INSERT INTO report_month_counts (month, hotline_code, dimension, key, measure, n)
    SELECT date_trunc('month', $1::date::timestamp)::date, hotline_code, dimension, key,
           measure, $2::int * n
      FROM report_day_counts WHERE day = $1
        ON CONFLICT (month, hotline_code, dimension, measure, key)
        DO UPDATE SET n = report_month_counts.n + EXCLUDED.n
"""


async def lock_month(conn: asyncpg.Connection, day: dt.date) -> None:
    """Rolls of days of one month wait for each other until their transaction ends:
    each adds to the month's rows what it took from them, never from a day another
    roll is replacing meanwhile."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        f"report_month:{day.year}-{day.month}",
    )


async def roll_day(conn: asyncpg.Connection, day: dt.date, now: dt.datetime) -> None:
    """The day's counts anew: its old rows go, the facts of each family are counted
    again (orders, calls, order moves, after-call time), and the month's rows follow.
    The caller holds ``lock_month`` in the transaction."""
    await conn.execute(_ADD_TO_MONTH, day, -1)
    await conn.execute("DELETE FROM report_day_counts WHERE day = $1", day)
    await conn.execute(ROLL_ORDERS, day)
    await conn.execute(ROLL_CALLS, day)
    await conn.execute(ROLL_MOVES, day)
    await conn.execute(ROLL_AFTER_CALL, day, now)
    await conn.execute(_ADD_TO_MONTH, day, 1)
    await conn.execute(
        """
        DELETE FROM report_month_counts
         WHERE month = date_trunc('month', $1::date::timestamp)::date AND n = 0
        """,
        day,
    )
    await conn.execute(
        """
        INSERT INTO report_days (day, rolled_at) VALUES ($1, $2)
        ON CONFLICT (day) DO UPDATE SET rolled_at = EXCLUDED.rolled_at
        """,
        day,
        now,
    )


async def counts(
    conn: asyncpg.Connection,
    start: dt.date,
    end: dt.date,
    *,
    dimension: str,
    measure: str,
    hotline_codes: list[str] | None = None,
) -> list[asyncpg.Record]:
    """One dimension's counts of one measure per key over the days [start, end)."""
    return await conn.fetch(
        """
        SELECT key, sum(n)::bigint AS n
          FROM report_counts($1, $2)
         WHERE dimension = $3 AND measure = $4
           AND ($5::text[] IS NULL OR hotline_code = ANY($5::text[]))
         GROUP BY key
         ORDER BY n DESC, key
        """,
        start,
        end,
        dimension,
        measure,
        hotline_codes,
    )


async def daily_counts(
    conn: asyncpg.Connection,
    start: dt.date,
    end: dt.date,
    *,
    dimension: str,
    measure: str,
    hotline_codes: list[str] | None = None,
) -> list[asyncpg.Record]:
    """One dimension's counts of one measure per key and day over the days [start, end)."""
    return await conn.fetch(
        """
        SELECT day, key, sum(n)::bigint AS n
          FROM report_day_counts
         WHERE day >= $1 AND day < $2 AND dimension = $3 AND measure = $4
           AND ($5::text[] IS NULL OR hotline_code = ANY($5::text[]))
         GROUP BY day, key
         ORDER BY day, key
        """,
        start,
        end,
        dimension,
        measure,
        hotline_codes,
    )
