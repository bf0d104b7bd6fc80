"""SQL of the day counts. A day is the local day of figure_settings' time zone; a
fact belongs to the day of its own time (an order to the day it was registered), so a
day's counts are final once its facts can no longer change."""

from __future__ import annotations

import datetime as dt

import asyncpg

ZONE = "(SELECT timezone FROM figure_settings)"

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
       AND o.created_at >= ($1::date::timestamp AT TIME ZONE {ZONE})
       AND o.created_at < (($1::date + 1)::timestamp AT TIME ZONE {ZONE})
     GROUP BY o.hotline_code, k.dimension, k.key, m.measure
"""


async def roll_day(conn: asyncpg.Connection, day: dt.date, now: dt.datetime) -> None:
    """The day's counts anew: its old rows go, the facts are counted again."""
    await conn.execute("DELETE FROM report_day_counts WHERE day = $1", day)
    await conn.execute(ROLL_ORDERS, day)
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
          FROM report_day_counts
         WHERE day >= $1 AND day < $2 AND dimension = $3 AND measure = $4
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
