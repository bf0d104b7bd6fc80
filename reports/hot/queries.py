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


# An order repeats its key when the key has another order within this many days: a
# month's repeats are exact (any two orders of one month are that close), a longer
# period's leave out keys whose orders are all further apart than that.
REPEAT_WINDOW = 31


# What the day $1's roll changed in its repeat rows (its rows now, less those it had
# before, kept in repeats_before) added to its month's rows, per hotline and across them
# (''), migration 0055. Only the keys whose counts changed are written: a day rolled
# again every few minutes changes few.
_ADD_TO_MONTH = """
    INSERT INTO report_month_repeats (month, kind, hotline_code, key_hash, n)
    SELECT date_trunc('month', $1::date::timestamp)::date, r.kind, h.code, r.key_hash,
           sum(r.n)
      FROM (SELECT kind, hotline_code, key_hash, n FROM report_day_repeats WHERE day = $1
            UNION ALL
            SELECT kind, hotline_code, key_hash, -n FROM repeats_before) r
     CROSS JOIN LATERAL (VALUES (r.hotline_code), ('')) AS h (code)
     GROUP BY r.kind, h.code, r.key_hash
    HAVING sum(r.n) <> 0
        ON CONFLICT (kind, month, hotline_code, key_hash)
        DO UPDATE SET n = report_month_repeats.n + EXCLUDED.n
"""


async def roll_repeats(conn: asyncpg.Connection, day: dt.date) -> None:
    """The day's orders counted per hotline under each address and caller, anew, each
    row marked repeated when its key has another order within REPEAT_WINDOW days; the
    rows of those neighbours are marked too (whichever day is rolled first). The
    month's rows follow (under reports.days.queries.lock_month)."""
    await conn.execute(
        "CREATE TEMP TABLE repeats_before (kind text, hotline_code text, key_hash bigint,"
        " n integer)"
    )
    await conn.execute(
        "INSERT INTO repeats_before SELECT kind, hotline_code, key_hash, n"
        " FROM report_day_repeats WHERE day = $1",
        day,
    )
    await conn.execute("DELETE FROM report_day_repeats WHERE day = $1", day)
    await conn.execute(
        f"""
        INSERT INTO report_day_repeats
               (day, hotline_code, kind, key_hash, key, n, label, area_code)
        SELECT $1::date, o.hotline_code, k.kind, hashtextextended(k.key, 0), k.key, count(*),
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
    await conn.execute(_ADD_TO_MONTH, day)
    await conn.execute("DROP TABLE repeats_before")
    # The day's keys with another order near: two on the day (any hotline), or a row of
    # another day within the window; both sides are marked.
    await conn.execute(
        """
        WITH today AS (
            SELECT kind, key_hash, sum(n) AS n FROM report_day_repeats
             WHERE day = $1 GROUP BY kind, key_hash
        ), near AS (
            SELECT t.kind, t.key_hash FROM today t
             WHERE t.n >= 2
                OR EXISTS (SELECT 1 FROM report_day_repeats r
                            WHERE r.kind = t.kind AND r.key_hash = t.key_hash
                              AND r.day BETWEEN $1::date - $2::int AND $1::date + $2::int
                              AND r.day <> $1)
        )
        UPDATE report_day_repeats r SET repeated = true
          FROM near
         WHERE r.kind = near.kind AND r.key_hash = near.key_hash
           AND r.day BETWEEN $1::date - $2::int AND $1::date + $2::int AND NOT r.repeated
        """,
        day,
        REPEAT_WINDOW,
    )


async def day_descriptions(conn: asyncpg.Connection, day: dt.date) -> list[asyncpg.Record]:
    """The descriptions of the orders registered on the day, with their hotline, each
    text once with the number of orders that carry it (the same words repeated by a
    wave of callers are cut once)."""
    return await conn.fetch(
        f"""
        SELECT o.hotline_code, o.description, count(*)::int AS n
          FROM work_orders o WHERE {_DAY}
         GROUP BY o.hotline_code, o.description
        """,
        day,
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
        SELECT $1, h, w, n FROM unnest($2::text[], $3::text[], $4::int[]) AS t (h, w, n)
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


# The keys a period's repeats list, with their orders: summed from the day rows marked
# repeated ($1, $2 the days [start, end)) …
_REPEATED_DAYS = """
    SELECT key_hash, sum(n) AS orders
      FROM report_day_repeats
     WHERE kind = $3 AND day >= $1 AND day < $2 AND repeated
       AND ($4::text[] IS NULL OR hotline_code = ANY($4::text[]))
     GROUP BY key_hash
    HAVING sum(n) >= $5
     ORDER BY orders DESC, key_hash
     LIMIT $6
"""
# … or, for one calendar month ($1 its first day) of all hotlines or one, the month's
# rows with that many orders, the most first, from their partial index (its predicate
# written out: a prepared statement's generic plan cannot tell $5 >= 2).
_REPEATED_MONTH = """
    SELECT key_hash, n AS orders
      FROM report_month_repeats
     WHERE kind = $3 AND month = $1 AND hotline_code = coalesce(($4::text[])[1], '')
       AND n >= 2 AND n >= $5
     ORDER BY n DESC, key_hash
     LIMIT $6
"""


async def repeats(
    conn: asyncpg.Connection,
    start: dt.date,
    end: dt.date,
    *,
    kind: str,
    min_orders: int,
    limit: int,
    hotline_codes: list[str] | None,
    whole_month: bool = False,
) -> list[asyncpg.Record]:
    """The addresses or callers with at least ``min_orders`` (2 or more) orders over
    the days [start, end) (of those within REPEAT_WINDOW days of another), most first:
    on how many days, the latest address as typed and area. With ``whole_month`` (the
    days are a calendar month, of every hotline or one) the keys come from the month's
    rows; else the sums group the keys' hashes of the repeated day rows, read from their
    index alone. Only the keys listed are looked up again."""
    if whole_month and hotline_codes is not None and len(hotline_codes) != 1:
        raise ValueError("a month's repeat rows are of every hotline or of one")
    return await conn.fetch(
        f"""
        WITH found AS ({_REPEATED_MONTH if whole_month else _REPEATED_DAYS})
        SELECT d.key, f.orders, d.days, d.label, d.area_code
          FROM found f
         CROSS JOIN LATERAL (
               SELECT min(r.key) AS key,
                      count(DISTINCT r.day)::int AS days,
                      (array_agg(r.label ORDER BY r.day DESC))[1] AS label,
                      (array_agg(r.area_code ORDER BY r.day DESC))[1] AS area_code
                 FROM report_day_repeats r
                WHERE r.kind = $3 AND r.key_hash = f.key_hash AND r.day >= $1 AND r.day < $2
                  AND r.repeated AND ($4::text[] IS NULL OR r.hotline_code = ANY($4::text[]))) d
         ORDER BY f.orders DESC, d.key
        """,
        start,
        end,
        kind,
        hotline_codes,
        min_orders,
        limit,
    )


async def period_totals(
    conn: asyncpg.Connection,
    dimension: str,
    periods: list[tuple[dt.date, dt.date]],
    *,
    hotline_codes: list[str] | None,
    keys: list[str] | None = None,
) -> list[asyncpg.Record]:
    """A dimension's registered orders per key over each of the ``periods`` (the days
    [start, end)), its index in the list as ``period``, summed in the database from
    month rows where a period holds whole months (report_counts); only ``keys`` when
    given."""
    # The keys hashed once (a semi-join), not each row compared with every key asked:
    # an array parameter's = ANY is a list walked per row.
    key_clause = (
        "AND c.key IN (SELECT unnest($5::text[]))" if keys is not None else "AND $5::text[] IS NULL"
    )
    return await conn.fetch(
        f"""
        SELECT c.key, p.i::int - 1 AS period, sum(c.n)::bigint AS n
          FROM unnest($1::date[], $2::date[]) WITH ORDINALITY AS p (start, stop, i)
         CROSS JOIN LATERAL report_counts(p.start, p.stop) c
         WHERE c.dimension = $3 AND c.measure = 'registered'
           AND ($4::text[] IS NULL OR c.hotline_code = ANY($4::text[]))
           {key_clause}
         GROUP BY 1, 2
        """,
        [start for start, _ in periods],
        [end for _, end in periods],
        dimension,
        hotline_codes,
        keys,
    )


async def key_days(
    conn: asyncpg.Connection,
    dimension: str,
    key: str,
    start: dt.date,
    end: dt.date,
    *,
    hotline_codes: list[str] | None,
) -> dict[dt.date, int]:
    """One key's registered orders per day over the days [start, end)."""
    rows = await conn.fetch(
        """
        SELECT day, sum(n)::bigint AS n
          FROM report_day_counts
         WHERE dimension = $1 AND measure = 'registered' AND key = $2
           AND day >= $3 AND day < $4
           AND ($5::text[] IS NULL OR hotline_code = ANY($5::text[]))
         GROUP BY day
        """,
        dimension,
        key,
        start,
        end,
        hotline_codes,
    )
    return {r["day"]: r["n"] for r in rows}


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
