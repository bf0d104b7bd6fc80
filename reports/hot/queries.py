"""SQL of the hot issues: each day's repeat keys and words (rolled with the day counts),
and the lists of a period read from them; the orders reopened more than once read from
the orders by a partial index of their own (migration 0043)."""

from __future__ import annotations

import datetime as dt

import asyncpg

from reports.days.queries import ZONE

# An address shorter than this, once normalised (无, 不详, 小区), names no place.
MIN_ADDRESS_KEY = 4

_DAY = f"""
       o.created_at >= ($1::date::timestamp AT TIME ZONE {ZONE})
   AND o.created_at < (($1::date + 1)::timestamp AT TIME ZONE {ZONE})
   AND o.status <> 'draft'
"""


async def roll_repeats(conn: asyncpg.Connection, day: dt.date) -> None:
    """The day's orders counted per hotline under each address and caller, anew."""
    await conn.execute("DELETE FROM report_day_repeats WHERE day = $1", day)
    await conn.execute(
        f"""
        INSERT INTO report_day_repeats (day, hotline_code, kind, key, n, label, area_code)
        SELECT $1::date, o.hotline_code, k.kind, k.key, count(*),
               (array_agg(o.address ORDER BY o.id DESC))[1],
               (array_agg(o.area_code ORDER BY o.id DESC))[1]
          FROM work_orders o
         CROSS JOIN LATERAL (VALUES ('address', address_key(o.address)),
                                    ('caller', o.caller_phone)) AS k (kind, key)
         WHERE {_DAY}
           AND k.key IS NOT NULL
           AND (k.kind <> 'address' OR length(k.key) >= {MIN_ADDRESS_KEY})
         GROUP BY o.hotline_code, k.kind, k.key
        """,
        day,
    )


async def day_descriptions(conn: asyncpg.Connection, day: dt.date) -> list[asyncpg.Record]:
    """The descriptions of the orders registered on the day, with their hotline."""
    return await conn.fetch(
        f"SELECT o.hotline_code, o.description FROM work_orders o WHERE {_DAY}", day
    )


async def replace_words(
    conn: asyncpg.Connection, day: dt.date, counted: dict[str, list[tuple[str, int]]]
) -> None:
    """The day's words per hotline, anew."""
    await conn.execute("DELETE FROM report_day_words WHERE day = $1", day)
    rows = [(hotline, word, n) for hotline, pairs in counted.items() for word, n in pairs]
    await conn.execute(
        """
        INSERT INTO report_day_words (day, hotline_code, word, n)
        SELECT $1, h, w, n FROM unnest($2::text[], $3::text[], $4::bigint[]) AS t (h, w, n)
        """,
        day,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
    )


async def rolled_days(conn: asyncpg.Connection, start: dt.date, end: dt.date) -> set[dt.date]:
    """The days in [start, end) whose counts have been rolled."""
    rows = await conn.fetch("SELECT day FROM report_days WHERE day >= $1 AND day < $2", start, end)
    return {r["day"] for r in rows}


async def repeats(
    conn: asyncpg.Connection,
    start: dt.date,
    end: dt.date,
    *,
    kind: str,
    min_orders: int,
    limit: int,
    hotline_codes: list[str] | None,
) -> list[asyncpg.Record]:
    """The addresses or callers with at least ``min_orders`` orders over the days
    [start, end), most first: on how many days, the latest address as typed and area."""
    return await conn.fetch(
        """
        SELECT key, sum(n)::bigint AS orders, count(DISTINCT day)::int AS days,
               (array_agg(label ORDER BY day DESC))[1] AS label,
               (array_agg(area_code ORDER BY day DESC))[1] AS area_code
          FROM report_day_repeats
         WHERE day >= $1 AND day < $2 AND kind = $3
           AND ($4::text[] IS NULL OR hotline_code = ANY($4::text[]))
         GROUP BY key
        HAVING sum(n) >= $5
         ORDER BY orders DESC, days DESC, key
         LIMIT $6
        """,
        start,
        end,
        kind,
        hotline_codes,
        min_orders,
        limit,
    )


async def words(
    conn: asyncpg.Connection,
    start: dt.date,
    end: dt.date,
    previous_start: dt.date,
    *,
    limit: int,
    hotline_codes: list[str] | None,
) -> list[asyncpg.Record]:
    """The period's most frequent words with their count over the period before it,
    [previous_start, start)."""
    return await conn.fetch(
        """
        WITH counted AS (
            SELECT word,
                   sum(n) FILTER (WHERE day >= $2)::bigint AS n,
                   coalesce(sum(n) FILTER (WHERE day < $2), 0)::bigint AS previous
              FROM report_day_words
             WHERE day >= $1 AND day < $3
               AND ($4::text[] IS NULL OR hotline_code = ANY($4::text[]))
             GROUP BY word
        )
        SELECT word, n, previous FROM counted WHERE n > 0
         ORDER BY n DESC, word
         LIMIT $5
        """,
        previous_start,
        start,
        end,
        hotline_codes,
        limit,
    )


async def reopened(
    conn: asyncpg.Connection,
    start: dt.date,
    end: dt.date,
    *,
    limit: int,
    hotline_codes: list[str] | None,
) -> list[asyncpg.Record]:
    """The orders registered over the days [start, end) and reopened twice or more,
    most reopened first."""
    return await conn.fetch(
        f"""
        SELECT o.id, o.number, o.hotline_code, o.service_item_code, o.area_code, o.address,
               o.status, o.redo_count, o.lead_enterprise_id, o.created_at
          FROM work_orders o
         WHERE o.redo_count >= 2
           AND o.created_at >= ($1::date::timestamp AT TIME ZONE {ZONE})
           AND o.created_at < ($2::date::timestamp AT TIME ZONE {ZONE})
           AND o.status <> 'draft'
           AND ($3::text[] IS NULL OR o.hotline_code = ANY($3::text[]))
         ORDER BY o.redo_count DESC, o.created_at DESC, o.id DESC
         LIMIT $4
        """,
        start,
        end,
        hotline_codes,
        limit,
    )
