"""SQL of the periodic reports: the day counts of a period summed, the names of what they
count, the overdue and late orders, the stored reports and the schedule's runs."""

# asyncpg has no type information: what its queries return is Any by nature.
# mypy: disable-error-code="no-any-return"

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from hotline.board.queries import hour_of, kept_count, next_hour
from hotline.orders.queries import OPEN_PREDICATE
from reports.periodic.periods import Period

# The dimensions a report lists; the heat table's area × item and the streets are the
# hot-issue analysis's (docs/reports.md).
REPORT_DIMENSIONS = ["total", "channel", "kind", "item", "domain", "district", "unit", "agent"]


async def sums(
    conn: asyncpg.Connection, start: dt.date, end: dt.date, hotline_codes: list[str] | None
) -> list[asyncpg.Record]:
    """Each (dimension, measure, key)'s count over the days [start, end)."""
    return await conn.fetch(
        """
        SELECT dimension, measure, key, sum(n)::bigint AS n
          FROM report_counts($1, $2)
         WHERE dimension = ANY($3::text[])
           AND ($4::text[] IS NULL OR hotline_code = ANY($4::text[]))
         GROUP BY dimension, measure, key
        """,
        start,
        end,
        REPORT_DIMENSIONS,
        hotline_codes,
    )


async def daily_totals(
    conn: asyncpg.Connection, start: dt.date, end: dt.date, hotline_codes: list[str] | None
) -> list[asyncpg.Record]:
    """Each day's and measure's total over the days [start, end)."""
    return await conn.fetch(
        """
        SELECT day, measure, sum(n)::bigint AS n
          FROM report_day_counts
         WHERE day >= $1 AND day < $2 AND dimension = 'total'
           AND ($3::text[] IS NULL OR hotline_code = ANY($3::text[]))
         GROUP BY day, measure
         ORDER BY day, measure
        """,
        start,
        end,
        hotline_codes,
    )


async def rolled(conn: asyncpg.Connection, start: dt.date, end: dt.date) -> asyncpg.Record:
    """How many of the days [start, end) were rolled, and the oldest roll among them:
    the report's data is as of then."""
    return await conn.fetchrow(
        """
        SELECT count(*) AS days, min(rolled_at) AS as_of
          FROM report_days WHERE day >= $1 AND day < $2
        """,
        start,
        end,
    )


# Names of the keys of each dimension, in both languages (a stored report is read in
# either). Agents have one name.
_NAMES = {
    "item": "SELECT code AS key, name_zh, name_en FROM service_items WHERE code = ANY($1)",
    "district": "SELECT code AS key, name_zh, name_en FROM areas WHERE code = ANY($1)",
    "unit": ("SELECT id::text AS key, name_zh, name_en FROM enterprises WHERE id::text = ANY($1)"),
    "agent": (
        "SELECT id::text AS key, display_name AS name_zh, display_name AS name_en "
        "FROM users WHERE id::text = ANY($1)"
    ),
    "hotline": "SELECT code AS key, name_zh, name_en FROM hotlines WHERE code = ANY($1)",
}


async def names(
    conn: asyncpg.Connection, dimension: str, keys: list[str]
) -> dict[str, tuple[str, str]]:
    """(Chinese, English) name of each key of ``dimension`` that has names."""
    if dimension not in _NAMES or not keys:
        return {}
    rows = await conn.fetch(_NAMES[dimension], keys)
    return {r["key"]: (r["name_zh"], r["name_en"]) for r in rows}


async def hotline_codes(conn: asyncpg.Connection) -> list[str]:
    return [r["code"] for r in await conn.fetch("SELECT code FROM hotlines ORDER BY code")]


_LATE_COLUMNS = """o.id, o.number, o.hotline_code, o.service_item_code, o.lead_enterprise_id,
       o.status, o.created_at, o.resolution_due_at, o.completed_at,
       e.name_zh AS unit_name_zh, e.name_en AS unit_name_en,
       i.name_zh AS item_name_zh, i.name_en AS item_name_en"""
_LATE_JOINS = """LEFT JOIN enterprises e ON e.id = o.lead_enterprise_id
  LEFT JOIN service_items i ON i.code = o.service_item_code"""


# The kept counts' rows of the hotlines $2 (all when NULL): families 'due' and 'late'
# are kept per hotline (migration 0057).
_KEYS = "($2::text[] IS NULL OR key = ANY($2::text[]))"


async def overdue(
    conn: asyncpg.Connection,
    before: dt.datetime,
    hotline_codes: list[str] | None,
    limit: int,
) -> tuple[int, list[asyncpg.Record]]:
    """Orders still open and past their resolution due, which fell before ``before``
    (the period's end, or now): how many, and the ``limit`` longest overdue. The count
    is the kept counts' whole hours before ``before``'s and the orders of its minutes."""
    where = f"""o.{OPEN_PREDICATE} AND o.resolution_due_at < $1
                AND ($2::text[] IS NULL OR o.hotline_code = ANY($2::text[]))"""
    count = await conn.fetchval(
        f"""
        SELECT {kept_count("due", f"hour < $3 AND {_KEYS}")}
             + (SELECT count(*) FROM work_orders o WHERE {where} AND o.resolution_due_at >= $3)
        """,
        before,
        hotline_codes,
        hour_of(before),
    )
    rows = await conn.fetch(
        f"""
        SELECT {_LATE_COLUMNS} FROM work_orders o {_LATE_JOINS}
         WHERE {where}
         ORDER BY o.resolution_due_at, o.id
         LIMIT $3
        """,
        before,
        hotline_codes,
        limit,
    )
    return count, rows


async def completed_late(
    conn: asyncpg.Connection,
    start: dt.datetime,
    end: dt.datetime,
    hotline_codes: list[str] | None,
    limit: int,
) -> tuple[int, list[asyncpg.Record]]:
    """Orders completed in [start, end) after their resolution due (通报-worthy): how
    many, and the ``limit`` latest against their due. The count is the kept counts'
    whole hours of the period and the orders of the minutes at its ends."""
    first_hour = next_hour(start)
    last_hour = max(hour_of(end), first_hour)
    late = """o.completed_at > o.resolution_due_at
              AND ($2::text[] IS NULL OR o.hotline_code = ANY($2::text[]))"""
    count = await conn.fetchval(
        f"""
        SELECT {kept_count("late", f"hour >= $3 AND hour < $4 AND {_KEYS}")}
             + (SELECT count(*) FROM work_orders o
                 WHERE {late} AND o.completed_at >= $1 AND o.completed_at < least($3, $5))
             + (SELECT count(*) FROM work_orders o
                 WHERE {late} AND o.completed_at >= $4 AND o.completed_at < $5)
        """,
        start,
        hotline_codes,
        first_hour,
        last_hour,
        end,
    )
    # The latest ones chosen from an index alone, then only their rows read: a long
    # period's walk the late orders in order of lateness (migration 0056), a short one's
    # read its late orders by completion time and sort them (migration 0053).
    rows = await conn.fetch(
        f"""
        WITH latest AS (
            SELECT o.id, o.completed_at - o.resolution_due_at AS late
              FROM work_orders o
             WHERE {late} AND o.completed_at >= $1 AND o.completed_at < $3
             ORDER BY late DESC, o.id
             LIMIT $4)
        SELECT {_LATE_COLUMNS} FROM latest JOIN work_orders o ON o.id = latest.id {_LATE_JOINS}
         ORDER BY latest.late DESC, o.id
        """,
        start,
        hotline_codes,
        end,
        limit,
    )
    return count, rows


# ------------------------------------------------------------------ stored reports

REPORT_COLUMNS = """r.id, r.period_kind, r.first_day, r.last_day, r.scope, r.version,
       r.data_as_of, r.generated_at, r.generated_by, u.display_name AS generated_by_name"""


async def store(
    conn: asyncpg.Connection,
    *,
    kind: str,
    first: dt.date,
    last: dt.date,
    scope: str,
    document: dict[str, Any],
    data_as_of: dt.datetime | None,
    now: dt.datetime,
    user_id: int | None,
    only_first: bool,
) -> int | None:
    """A new version of the period's report for the scope; with ``only_first``, only
    if there is none yet (the schedule's, run twice, makes one). Returns its id, or
    None when one was there."""
    # Versions of one report are numbered under a lock on its key: two regenerations
    # at once get 2 and 3, not a unique violation.
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        f"periodic_reports:{kind}:{first}:{last}:{scope}",
    )
    return await conn.fetchval(
        """
        INSERT INTO periodic_reports (period_kind, first_day, last_day, scope, version,
                                      document, data_as_of, generated_at, generated_by)
        SELECT $1, $2, $3, $4, coalesce(max(version), 0) + 1, $5::jsonb, $6, $7, $8
          FROM periodic_reports
         WHERE period_kind = $1 AND first_day = $2 AND last_day = $3 AND scope = $4
        HAVING NOT $9 OR count(*) = 0
        RETURNING id
        """,
        kind,
        first,
        last,
        scope,
        document,
        data_as_of,
        now,
        user_id,
        only_first,
    )


async def report_exists(conn: asyncpg.Connection, period: Period, scope: str) -> bool:
    return await conn.fetchval(
        """
        SELECT EXISTS (SELECT 1 FROM periodic_reports
                        WHERE period_kind = $1 AND first_day = $2 AND last_day = $3
                          AND scope = $4)
        """,
        period.kind,
        period.first,
        period.last,
        scope,
    )


async def list_reports(
    conn: asyncpg.Connection, kind: str | None, scope: str | None, limit: int
) -> list[asyncpg.Record]:
    """The latest version of each stored report, newest period first."""
    return await conn.fetch(
        f"""
        SELECT {REPORT_COLUMNS}
          FROM (SELECT DISTINCT ON (period_kind, first_day, last_day, scope) *
                  FROM periodic_reports
                 WHERE ($1::text IS NULL OR period_kind = $1)
                   AND ($2::text IS NULL OR scope = $2)
                 ORDER BY period_kind, first_day, last_day, scope, version DESC) r
          LEFT JOIN users u ON u.id = r.generated_by
         ORDER BY r.first_day DESC, r.last_day DESC, r.period_kind, r.scope
         LIMIT $3
        """,
        kind,
        scope,
        limit,
    )


async def get_report(conn: asyncpg.Connection, report_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        SELECT {REPORT_COLUMNS}, r.document
          FROM periodic_reports r LEFT JOIN users u ON u.id = r.generated_by
         WHERE r.id = $1
        """,
        report_id,
    )


# ------------------------------------------------------------------ schedule's runs


async def insert_run(
    conn: asyncpg.Connection, kind: str, due_at: dt.datetime, now: dt.datetime
) -> None:
    """The kind's next run, unless one is waiting already."""
    await conn.execute(
        """
        INSERT INTO report_runs (kind, due_at, created_at) VALUES ($1, $2, $3)
        ON CONFLICT (kind) WHERE state IN ('pending', 'enqueued') DO NOTHING
        """,
        kind,
        due_at,
        now,
    )


async def get_run(conn: asyncpg.Connection, run_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, kind, state, due_at FROM report_runs WHERE id = $1", run_id
    )


async def finish_run(
    conn: asyncpg.Connection, run_id: int, state: str, now: dt.datetime, error: str | None
) -> None:
    await conn.execute(
        """
        UPDATE report_runs SET state = $2, finished_at = $3, error = $4, lease_until = NULL
         WHERE id = $1
        """,
        run_id,
        state,
        now,
        error,
    )
