"""SQL of exports: the requests (report_exports, this package's table) and the orders
source's rows."""

# asyncpg has no type information: what its queries return is Any by nature.
# mypy: disable-error-code="no-any-return"

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from hotline.orders.queries import NULLABLE_SORTS, SORT_COLUMNS, Search, search_conditions

# How many rows a cursor fetches per round trip: few enough to keep memory flat, enough
# that the round trips cost little.
PREFETCH = 2000

EXPORT_COLUMNS = """id, kind, format, params, requested_by, language, state, created_at,
    rows_done, rows_total, finished_at, expires_at, file_name, size_bytes, error"""


# ---------------------------------------------------------------- the orders source


def _placeholders() -> tuple[list[Any], Any]:
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    return args, arg


async def count_orders(conn: asyncpg.Connection, search: Search, now: dt.datetime) -> int:
    args, arg = _placeholders()
    where = search_conditions(search, now, arg)
    sql = "SELECT count(*) FROM work_orders o"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return int(await conn.fetchval(sql, *args))


def orders_statement(
    search: Search, *, now: dt.datetime, sort: str, descending: bool, english: bool
) -> tuple[str, list[Any]]:
    """Every order of ``search`` in the search's order (orders without the sort's key
    last, by id, as the pages list them) with the names the export shows."""
    args, arg = _placeholders()
    where = search_conditions(search, now, arg)
    key = f"o.{SORT_COLUMNS[sort]}"
    direction = " DESC" if descending else ""
    nulls = " NULLS LAST" if sort in NULLABLE_SORTS else ""
    language = "en" if english else "zh"
    sql = f"""
        SELECT o.number, o.hotline_code, o.created_at, o.channel, o.kind,
               si.name_{language} AS item_name, a.name_{language} AS area_name, o.address,
               o.description, o.caller_name, o.caller_phone, o.status, o.priority,
               le.name_{language} AS lead_name, o.resolution_due_at, o.completed_at,
               o.reply, o.callback_outcome AS rating, o.redo_count, o.hard_case
          FROM work_orders o
          LEFT JOIN service_items si ON si.code = o.service_item_code
          LEFT JOIN areas a ON a.code = o.area_code
          LEFT JOIN enterprises le ON le.id = o.lead_enterprise_id
    """
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {key}{direction}{nulls}, o.id{direction}"
    return sql, args


async def stream_orders(
    conn: asyncpg.Connection, statement: tuple[str, list[Any]]
) -> AsyncIterator[asyncpg.Record]:
    """The statement's rows through a server-side cursor: PREFETCH rows in memory at a
    time. ``conn`` must be inside a transaction."""
    sql, args = statement
    async for row in conn.cursor(sql, *args, prefetch=PREFETCH):
        yield row


# ---------------------------------------------------------------- the requests


async def insert_export(
    conn: asyncpg.Connection,
    *,
    kind: str,
    file_format: str,
    params: dict[str, Any],
    user_id: int,
    actor: dict[str, Any],
    language: str,
    now: dt.datetime,
) -> asyncpg.Record:
    return await conn.fetchrow(
        f"""
        INSERT INTO report_exports (kind, format, params, requested_by, actor, language,
                                    due_at, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
        RETURNING {EXPORT_COLUMNS}
        """,
        kind,
        file_format,
        params,
        user_id,
        actor,
        language,
        now,
    )


async def get_export(conn: asyncpg.Connection, export_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {EXPORT_COLUMNS}, actor, file_key, attempts FROM report_exports WHERE id = $1",
        export_id,
    )


async def list_exports(conn: asyncpg.Connection, user_id: int, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {EXPORT_COLUMNS} FROM report_exports WHERE requested_by = $1 "
        "ORDER BY id DESC LIMIT $2",
        user_id,
        limit,
    )


async def set_total(
    conn: asyncpg.Connection, export_id: int, total: int, lease: dt.timedelta
) -> None:
    await conn.execute(
        "UPDATE report_exports SET rows_total = $2, rows_done = 0, "
        "lease_until = now() + $3::interval WHERE id = $1",
        export_id,
        total,
        lease,
    )


async def set_progress(
    conn: asyncpg.Connection, export_id: int, rows_done: int, lease: dt.timedelta
) -> None:
    """How far the job got; its lease renewed, so that the relay does not queue the
    export again while it is being written."""
    await conn.execute(
        "UPDATE report_exports SET rows_done = $2, lease_until = now() + $3::interval "
        "WHERE id = $1",
        export_id,
        rows_done,
        lease,
    )


async def finish_export(
    conn: asyncpg.Connection,
    export_id: int,
    *,
    rows_done: int,
    file_key: str,
    file_name: str,
    size_bytes: int,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> None:
    await conn.execute(
        """
        UPDATE report_exports
           SET state = 'done', rows_done = $2, file_key = $3, file_name = $4,
               size_bytes = $5, finished_at = $6, expires_at = $7, lease_until = NULL
         WHERE id = $1
        """,
        export_id,
        rows_done,
        file_key,
        file_name,
        size_bytes,
        now,
        expires_at,
    )


async def fail_export(
    conn: asyncpg.Connection, export_id: int, error: str, now: dt.datetime
) -> None:
    await conn.execute(
        "UPDATE report_exports SET state = 'failed', error = $2, finished_at = $3, "
        "lease_until = NULL WHERE id = $1",
        export_id,
        error,
        now,
    )


async def expired_exports(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Done exports whose day is over (by the database's clock, as the relay's leases),
    oldest first."""
    return await conn.fetch(
        "SELECT id, file_key FROM report_exports WHERE state = 'done' AND expires_at <= now() "
        "ORDER BY expires_at LIMIT $1",
        limit,
    )


async def mark_expired(conn: asyncpg.Connection, ids: list[int]) -> None:
    await conn.execute(
        "UPDATE report_exports SET state = 'expired', file_key = NULL "
        "WHERE id = ANY($1::bigint[]) AND state = 'done'",
        ids,
    )
