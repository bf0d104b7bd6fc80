"""SQL for the notices (通报) drafted from a ranking (report_notices and the tables around
it, migration 0040), and the late orders a notice lists. The ranking itself reads the
callbacks' figures (callbacks.figures) and has no SQL of its own."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from hotline.orders.queries import OPEN_PREDICATE

# What a notice lists of an order: enough to find it, not the caller.
ORDER_FIELDS = """o.id AS order_id, o.number, o.service_item_code, o.address, o.status,
    o.resolution_due_at, o.completed_at"""


# $1 the units, [$2, $3) the period, $4 now, $5 the limit (late_orders).
LATE_ORDERS = f"""
    WITH late AS (
        SELECT o.id, 'open_overdue' AS reason
          FROM work_orders o
         WHERE o.lead_enterprise_id = ANY($1::bigint[]) AND o.{OPEN_PREDICATE}
           AND o.resolution_due_at < $4
        UNION
        SELECT d.order_id, 'completed_late'
          FROM dispatches d
         WHERE d.enterprise_id = ANY($1::bigint[]) AND d.role = 'lead'
           AND d.state = 'completed' AND d.completed_on_time IS NOT TRUE
           AND d.finished_at >= $2 AND d.finished_at < $3
    )
    SELECT DISTINCT ON (o.resolution_due_at, o.id) {ORDER_FIELDS}, l.reason
      FROM late l JOIN work_orders o ON o.id = l.id
     ORDER BY o.resolution_due_at, o.id, l.reason DESC
     LIMIT $5
    """


async def late_orders(
    conn: asyncpg.Connection,
    scope: list[int],
    since: dt.datetime,
    until: dt.datetime,
    now: dt.datetime,
    limit: int,
) -> list[asyncpg.Record]:
    """The orders of the units ``scope`` leads that are late: still open past their
    resolution due at ``now`` (the search's overdue test), or whose lead dispatch was
    completed late in [since, until) (the same mark the on-time rate counts; read through
    dispatches_completed_late_idx, migration 0040). Oldest due first, at most
    ``limit``."""
    return await conn.fetch(LATE_ORDERS, scope, since, until, now, limit)


async def insert_notice(
    conn: asyncpg.Connection,
    *,
    title: str,
    body: str,
    period: str,
    start: dt.date,
    end: dt.date,
    ranked_by: str,
    metric: str,
    user_id: int | None,
    now: dt.datetime,
) -> int:
    return int(
        await conn.fetchval(
            """
            INSERT INTO report_notices (title, body, period, period_start, period_end,
                                        ranked_by, metric, created_by, created_at,
                                        updated_by, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $9) RETURNING id
            """,
            title,
            body,
            period,
            start,
            end,
            ranked_by,
            metric,
            user_id,
            now,
        )
    )


async def insert_units(
    conn: asyncpg.Connection, notice_id: int, units: list[tuple[int, int | None, float | None]]
) -> None:
    """The notice's units in order: (unit, rank, value) each."""
    await conn.executemany(
        "INSERT INTO report_notice_units (notice_id, enterprise_id, position, rank, value) "
        "VALUES ($1, $2, $3, $4, $5)",
        [(notice_id, unit, i, rank, value) for i, (unit, rank, value) in enumerate(units, 1)],
    )


async def insert_orders(
    conn: asyncpg.Connection, notice_id: int, orders: list[tuple[int, int, str]]
) -> None:
    """The notice's orders: (order, unit, reason) each."""
    await conn.executemany(
        "INSERT INTO report_notice_orders (notice_id, order_id, enterprise_id, reason) "
        "VALUES ($1, $2, $3, $4)",
        [(notice_id, order, unit, reason) for order, unit, reason in orders],
    )


async def insert_change(
    conn: asyncpg.Connection,
    notice_id: int,
    action: str,
    *,
    user_id: int | None,
    enterprise_id: int | None = None,
    now: dt.datetime,
    changes: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO report_notice_changes (notice_id, action, user_id, enterprise_id, at, "
        "changes) VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
        notice_id,
        action,
        user_id,
        enterprise_id,
        now,
        changes or {},  # the pool's codec encodes it (hotline/db.py)
    )


async def lock_notice(conn: asyncpg.Connection, notice_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM report_notices WHERE id = $1 FOR UPDATE", notice_id)


async def update_text(
    conn: asyncpg.Connection,
    notice_id: int,
    *,
    title: str,
    body: str,
    user_id: int | None,
    now: dt.datetime,
) -> None:
    await conn.execute(
        "UPDATE report_notices SET title = $2, body = $3, updated_by = $4, updated_at = $5 "
        "WHERE id = $1",
        notice_id,
        title,
        body,
        user_id,
        now,
    )


async def delete_units(conn: asyncpg.Connection, notice_id: int, units: list[int]) -> None:
    """Drop the units ``units`` from a draft, with the orders listed under them."""
    await conn.execute(
        "DELETE FROM report_notice_orders WHERE notice_id = $1 AND enterprise_id = ANY($2)",
        notice_id,
        units,
    )
    await conn.execute(
        "DELETE FROM report_notice_units WHERE notice_id = $1 AND enterprise_id = ANY($2)",
        notice_id,
        units,
    )


async def renumber_units(conn: asyncpg.Connection, notice_id: int, units: list[int]) -> None:
    """The units' positions as ``units`` orders them."""
    await conn.execute(
        """
        UPDATE report_notice_units u SET position = p.position
          FROM unnest($2::bigint[]) WITH ORDINALITY AS p (enterprise_id, position)
         WHERE u.notice_id = $1 AND u.enterprise_id = p.enterprise_id
        """,
        notice_id,
        units,
    )


async def delete_orders(conn: asyncpg.Connection, notice_id: int, orders: list[int]) -> None:
    await conn.execute(
        "DELETE FROM report_notice_orders WHERE notice_id = $1 AND order_id = ANY($2)",
        notice_id,
        orders,
    )


async def publish(
    conn: asyncpg.Connection, notice_id: int, user_id: int | None, now: dt.datetime
) -> None:
    await conn.execute(
        "UPDATE report_notices SET state = 'published', published_by = $2, published_at = $3, "
        "updated_by = $2, updated_at = $3 WHERE id = $1",
        notice_id,
        user_id,
        now,
    )


async def mark_read(
    conn: asyncpg.Connection, notice_id: int, unit: int, user_id: int | None, now: dt.datetime
) -> bool:
    """Mark the notice read by ``unit``; False when it already was."""
    status = await conn.execute(
        "UPDATE report_notice_units SET read_at = $3, read_by = $4 "
        "WHERE notice_id = $1 AND enterprise_id = $2 AND read_at IS NULL",
        notice_id,
        unit,
        now,
        user_id,
    )
    return status != "UPDATE 0"


async def enterprises_exist(conn: asyncpg.Connection, ids: list[int]) -> set[int]:
    rows = await conn.fetch("SELECT id FROM enterprises WHERE id = ANY($1::bigint[])", ids)
    return {int(r["id"]) for r in rows}


async def order_leads(conn: asyncpg.Connection, ids: list[int]) -> dict[int, int | None]:
    """Each existing order's lead unit (None before dispatch)."""
    rows = await conn.fetch(
        "SELECT id, lead_enterprise_id FROM work_orders WHERE id = ANY($1::bigint[])", ids
    )
    return {int(r["id"]): r["lead_enterprise_id"] for r in rows}


# A notice as lists show it: its own columns, the names of who wrote and published it,
# and how many of its units have read it.
NOTICE_COLUMNS = """n.id, n.state, n.title, n.period, n.period_start, n.period_end,
    n.ranked_by, n.metric, n.created_at, n.updated_at, n.published_at,
    cu.display_name AS created_by_name, pu.display_name AS published_by_name,
    (SELECT count(*) FROM report_notice_units x WHERE x.notice_id = n.id) AS units,
    (SELECT count(*) FROM report_notice_units x WHERE x.notice_id = n.id
        AND x.read_at IS NOT NULL) AS units_read"""
NOTICE_FROM = """report_notices n JOIN users cu ON cu.id = n.created_by
    LEFT JOIN users pu ON pu.id = n.published_by"""


async def list_notices(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Every notice, newest first (the supervisors' list)."""
    return await conn.fetch(
        f"SELECT {NOTICE_COLUMNS} FROM {NOTICE_FROM} "
        "ORDER BY n.created_at DESC, n.id DESC LIMIT $1",
        limit,
    )


async def unit_notices(conn: asyncpg.Connection, unit: int, limit: int) -> list[asyncpg.Record]:
    """The published notices addressed to ``unit``, newest first, with its read mark."""
    return await conn.fetch(
        f"""
        SELECT {NOTICE_COLUMNS}, r.read_at
          FROM report_notice_units r JOIN {NOTICE_FROM} ON n.id = r.notice_id
         WHERE r.enterprise_id = $1 AND n.state = 'published'
         ORDER BY n.published_at DESC, n.id DESC LIMIT $2
        """,
        unit,
        limit,
    )


async def unread_count(conn: asyncpg.Connection, unit: int) -> int:
    return int(
        await conn.fetchval(
            """
            SELECT count(*) FROM report_notice_units r
              JOIN report_notices n ON n.id = r.notice_id
             WHERE r.enterprise_id = $1 AND n.state = 'published' AND r.read_at IS NULL
            """,
            unit,
        )
    )


async def get_notice(conn: asyncpg.Connection, notice_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {NOTICE_COLUMNS}, n.body FROM {NOTICE_FROM} WHERE n.id = $1", notice_id
    )


async def notice_units(conn: asyncpg.Connection, notice_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT r.enterprise_id, e.name_zh, e.name_en, r.position, r.rank, r.value,
               r.read_at, ru.display_name AS read_by_name
          FROM report_notice_units r JOIN enterprises e ON e.id = r.enterprise_id
          LEFT JOIN users ru ON ru.id = r.read_by
         WHERE r.notice_id = $1
         ORDER BY r.position
        """,
        notice_id,
    )


async def notice_orders(
    conn: asyncpg.Connection, notice_id: int, units: list[int] | None = None
) -> list[asyncpg.Record]:
    """The notice's orders (only those under ``units`` when given), by unit and due."""
    return await conn.fetch(
        f"""
        SELECT {ORDER_FIELDS}, r.enterprise_id, r.reason
          FROM report_notice_orders r JOIN work_orders o ON o.id = r.order_id
         WHERE r.notice_id = $1 AND ($2::bigint[] IS NULL OR r.enterprise_id = ANY($2))
         ORDER BY r.enterprise_id, o.resolution_due_at, o.id
        """,
        notice_id,
        units,
    )


async def notice_changes(conn: asyncpg.Connection, notice_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT c.action, c.at, c.changes, c.enterprise_id, u.display_name AS user_name
          FROM report_notice_changes c LEFT JOIN users u ON u.id = c.user_id
         WHERE c.notice_id = $1 ORDER BY c.id
        """,
        notice_id,
    )
