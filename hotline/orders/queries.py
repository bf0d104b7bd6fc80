"""SQL for work orders, their events and the dispatches that scope what a unit sees."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from hotline.orders.lifecycle import OPEN

# The open orders as work_orders_board_open_idx's predicate (migration 0009) and
# board_order_rows() (migration 0013) list them; a query that states it this way, with
# constants the planner can compare, may read that index.
OPEN_LIST = "(" + ", ".join(f"'{s.value}'" for s in sorted(OPEN)) + ")"
OPEN_PREDICATE = f"status IN {OPEN_LIST}"

# An order list's sorts: the column each pages on (with id), and whether descending.
# Newest first, or the resolution due soonest (the most overdue) first.
SORTS = {"newest": ("created_at", True), "due": ("resolution_due_at", False)}

# Whether the order's call left a recorded message (the console plays it through the
# server, which fetches it from the carrier): read with every order, a lookup by key.
HAS_RECORDING = """EXISTS (SELECT 1 FROM calls c WHERE c.id = o.call_id
    AND c.recording_sid IS NOT NULL) AS has_recording"""

ORDER_COLUMNS = f"""o.id, o.number, o.hotline_code, o.channel, o.kind, o.service_item_code,
    o.area_code, o.address, o.description, o.priority, o.status, o.citizen_id,
    o.caller_phone, o.caller_name, o.registered_by, o.client_request_id,
    o.lead_enterprise_id, o.parent_id, o.reply, o.redo_count, o.bounce_count,
    o.resolution_due_at, o.created_at, o.updated_at, o.completed_at, o.closed_at,
    o.call_id, o.media_url, {HAS_RECORDING},
    o.hard_case, o.tried_elsewhere, o.hard_case_due_at, o.suggested_item_code"""


async def lock_client_request(conn: asyncpg.Connection, user_id: int, request_id: str) -> None:
    """Serialise registrations that carry the same client request id (until commit)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        f"order-request:{user_id}:{request_id}",
    )


async def find_by_client_request(
    conn: asyncpg.Connection, user_id: int, request_id: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {ORDER_COLUMNS} FROM work_orders o "
        "WHERE o.registered_by = $1 AND o.client_request_id = $2",
        user_id,
        request_id,
    )


async def insert_new_order(
    conn: asyncpg.Connection,
    values: dict[str, Any],
    *,
    caller: tuple[str, str] | None,
    day: dt.date,
    event_type: str,
    topic: str,
    actor_user_id: int | None,
    actor: str,
    data: dict[str, Any],
) -> asyncpg.Record:
    """A new order, numbered for its hotline and local ``day``, of the citizen with the
    ``caller`` (E.164 phone, name; kept up to date, a blank name keeps the known one);
    its first event (of ``event_type``, with the number added to ``data``); and an
    outbox row on ``topic`` with the order's id and the event's seq.

    One statement, because this is the busiest write there is (every call, SMS and
    form), and each round trip to the database is a large share of its cost."""
    columns = ", ".join(values)
    n = len(values)
    placeholders = ", ".join(f"${i}" for i in range(3, n + 3))
    type_, topic_, user, label, payload, phone, name = (f"${i}" for i in range(n + 3, n + 10))
    row = await conn.fetchrow(
        f"""
        WITH c AS (
            INSERT INTO citizens (phone, name)
            SELECT {phone}::text, {name}::text WHERE {phone}::text IS NOT NULL
            ON CONFLICT (phone) DO UPDATE
               SET name = coalesce(nullif(EXCLUDED.name, ''), citizens.name),
                   updated_at = now()
            RETURNING id
        ), o AS (
            INSERT INTO work_orders AS o (number, citizen_id, {columns})
            VALUES (next_order_number($1, $2), (SELECT id FROM c), {placeholders})
            RETURNING {ORDER_COLUMNS}
        ), e AS (
            INSERT INTO order_events (order_id, type, actor_user_id, actor, to_status,
                                      data, created_at)
            SELECT o.id, {type_}, {user}, {label}, o.status,
                   {payload}::jsonb || jsonb_build_object('number', o.number), o.created_at
              FROM o
            RETURNING seq, order_id
        ), outbox_row AS (
            INSERT INTO outbox (topic, key, payload)
            SELECT {topic_}, {topic_} || ':' || e.order_id,
                   jsonb_build_object('order_id', e.order_id, 'seq', e.seq)
              FROM e
        )
        SELECT * FROM o
        """,
        values["hotline_code"],
        day,
        *values.values(),
        event_type,
        topic,
        actor_user_id,
        actor,
        data,
        *(caller or (None, "")),
    )
    assert row is not None
    return row


async def call_exists(conn: asyncpg.Connection, call_id: int) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM calls WHERE id = $1)", call_id))


async def get_order(
    conn: asyncpg.Connection, order_id: int, *, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"SELECT {ORDER_COLUMNS} FROM work_orders o WHERE o.id = $1{lock}", order_id
    )


async def merged_callers(conn: asyncpg.Connection, order_id: int) -> list[asyncpg.Record]:
    """The orders still merged into ``order_id``, at any depth (an order merged before
    its own parent was), oldest first, locked: each is a caller of the same fault."""
    return await conn.fetch(
        f"""
        WITH RECURSIVE tree AS (
            SELECT id FROM work_orders WHERE parent_id = $1 AND status = 'merged'
            UNION
            SELECT w.id FROM work_orders w JOIN tree t ON w.parent_id = t.id
             WHERE w.status = 'merged'
        )
        SELECT {ORDER_COLUMNS} FROM work_orders o WHERE o.id IN (SELECT id FROM tree)
         ORDER BY o.id FOR UPDATE
        """,
        order_id,
    )


async def enterprise_scope(conn: asyncpg.Connection, enterprise_id: int) -> list[int]:
    """An enterprise and its branches: what its users may see."""
    rows = await conn.fetch(
        "SELECT id FROM enterprises WHERE id = $1 OR parent_id = $1", enterprise_id
    )
    return [r["id"] for r in rows]


async def is_dispatched_to(conn: asyncpg.Connection, order_id: int, scope: list[int]) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM dispatches WHERE order_id = $1 "
            "AND enterprise_id = ANY($2::bigint[]))",
            order_id,
            scope,
        )
    )


async def update_status(
    conn: asyncpg.Connection,
    order_id: int,
    *,
    current: str,
    target: str,
    now: dt.datetime,
    changes: dict[str, Any],
) -> asyncpg.Record | None:
    """Move the order only if it is still in ``current`` (another writer may have won)."""
    assignments = ["status = $3", "updated_at = $4"]
    args: list[Any] = [order_id, current, target, now]
    for column, value in changes.items():
        args.append(value)
        assignments.append(f"{column} = ${len(args)}")
    return await conn.fetchrow(
        f"UPDATE work_orders AS o SET {', '.join(assignments)} "
        f"WHERE o.id = $1 AND o.status = $2 RETURNING {ORDER_COLUMNS}",
        *args,
    )


async def insert_event(
    conn: asyncpg.Connection,
    *,
    order_id: int,
    type: str,
    actor_user_id: int | None,
    actor: str,
    from_status: str | None,
    to_status: str | None,
    data: dict[str, Any],
    now: dt.datetime,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO order_events (order_id, type, actor_user_id, actor, from_status,
                                  to_status, data, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        RETURNING seq, order_id, type, actor_user_id, actor, from_status, to_status, data,
                  created_at
        """,
        order_id,
        type,
        actor_user_id,
        actor,
        from_status,
        to_status,
        data,
        now,
    )
    assert row is not None
    return row


async def list_events(conn: asyncpg.Connection, order_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT seq, order_id, type, actor_user_id, actor, from_status, to_status, data, "
        "created_at FROM order_events WHERE order_id = $1 ORDER BY seq",
        order_id,
    )


async def list_deadlines(conn: asyncpg.Connection, order_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, kind, due_at, state, fired_at, dispatch_id FROM deadlines "
        "WHERE order_id = $1 ORDER BY due_at, id",
        order_id,
    )


async def list_dispatches(conn: asyncpg.Connection, order_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT d.id, d.enterprise_id, e.name_zh AS enterprise_name, d.role, d.state,
               d.sign_for_due_at, d.created_at, d.signed_at, d.finished_at,
               d.reason, d.withdrawn_reason, d.texts, d.rule_id, d.forced
          FROM dispatches d JOIN enterprises e ON e.id = d.enterprise_id
         WHERE d.order_id = $1 ORDER BY d.id
        """,
        order_id,
    )


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_orders(
    conn: asyncpg.Connection,
    *,
    now: dt.datetime,
    scope: list[int] | None,
    hotlines: list[str] | None,
    status: list[str],
    hotline: str | None,
    enterprise_id: int | None,
    service_item: str | None,
    area: str | None,
    overdue: bool | None,
    hard_case: bool | None,
    q: str | None,
    sort: str,
    after: tuple[dt.datetime, int] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Newest first (``sort`` "newest") or the resolution due soonest first ("due"),
    keyset-paged on (that time, id) so deep pages stay fast. The overdue orders by due
    time are the first entries of work_orders_board_open_idx, however many are open."""
    where: list[str] = []
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if scope is not None:
        where.append(
            "EXISTS (SELECT 1 FROM dispatches d WHERE d.order_id = o.id "
            f"AND d.enterprise_id = ANY({arg(scope)}::bigint[]))"
        )
    if hotlines is not None:
        where.append(f"o.hotline_code = ANY({arg(hotlines)}::text[])")
    if status:
        where.append(f"o.status = ANY({arg(status)}::text[])")
    if hotline:
        where.append(f"o.hotline_code = {arg(hotline)}")
    if enterprise_id is not None:
        where.append(
            "EXISTS (SELECT 1 FROM dispatches d2 WHERE d2.order_id = o.id "
            f"AND d2.enterprise_id = {arg(enterprise_id)})"
        )
    if service_item:
        where.append(f"o.service_item_code = {arg(service_item)}")
    if area:
        placeholder = arg(area)
        where.append(
            f"(o.area_code = {placeholder} OR o.area_code IN "
            f"(SELECT code FROM areas WHERE parent_code = {placeholder}))"
        )
    if overdue is not None:
        test = f"(o.resolution_due_at < {arg(now)} AND o.{OPEN_PREDICATE})"
        where.append(test if overdue else f"NOT coalesce({test}, false)")
    if hard_case is not None:
        where.append(f"o.hard_case = {arg(hard_case)}")
    if q:
        pattern = arg(f"%{escape_like(q)}%")
        where.append(
            f"(o.number ILIKE {pattern} OR o.description ILIKE {pattern} "
            f"OR o.address ILIKE {pattern} OR o.caller_phone ILIKE {pattern})"
        )
    column, descending = SORTS[sort]
    key = f"o.{column}"
    direction, beyond = (" DESC", "<") if descending else ("", ">")
    where.append(f"{key} IS NOT NULL")  # by deadline: only orders that have one
    if after is not None:
        where.append(f"({key}, o.id) {beyond} ({arg(after[0])}, {arg(after[1])})")
    sql = f"SELECT {ORDER_COLUMNS} FROM work_orders o"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {key}{direction}, o.id{direction} LIMIT {arg(limit)}"
    return await conn.fetch(sql, *args)


# ------------------------------------------------------------- the board's kept counts


async def fold_board_counts(conn: asyncpg.Connection, batch: int) -> int:
    """Up to ``batch`` of the writes' count changes folded into board_counts (migration
    0013); how many. Another process folding meanwhile makes this one return 0."""
    return int(await conn.fetchval("SELECT board_counts_fold($1)", batch))


async def rebuild_board_counts(conn: asyncpg.Connection) -> int:
    """The board's counts made again from the tables; the rows written."""
    return int(await conn.fetchval("SELECT board_counts_rebuild()"))


async def set_priority(
    conn: asyncpg.Connection,
    order_id: int,
    priority: str,
    resolution_due_at: dt.datetime,
    now: dt.datetime,
) -> asyncpg.Record:
    """A new priority and the resolution due that follows from it, unless a due someone
    agreed replaced the item's (an extension granted, a coordinated due: ``first_due_at``
    is set), which stays."""
    return await conn.fetchrow(
        f"""
        UPDATE work_orders AS o SET priority = $2, updated_at = $4,
               resolution_due_at = CASE WHEN o.first_due_at IS NULL THEN $3
                                        ELSE o.resolution_due_at END
         WHERE o.id = $1 RETURNING {ORDER_COLUMNS}
        """,
        order_id,
        priority,
        resolution_due_at,
        now,
    )


async def move_resolution_due(
    conn: asyncpg.Connection, order_id: int, due_at: dt.datetime | None, *, count_extension: bool
) -> None:
    """A new resolution due (a granted extension, the centre's own due when it
    coordinates, none while the clock is suspended, the due a resumption gives); the
    first one is kept for the figures."""
    await conn.execute(
        """
        UPDATE work_orders SET first_due_at = coalesce(first_due_at, resolution_due_at),
               resolution_due_at = $2,
               extension_count = extension_count + CASE WHEN $3 THEN 1 ELSE 0 END
         WHERE id = $1
        """,
        order_id,
        due_at,
        count_extension,
    )
