"""SQL for work orders, their events and the dispatches that scope what a unit sees."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import asyncpg

from hotline.orders.lifecycle import OPEN

# The open orders as the predicates of work_orders_board_open_idx (migration 0009) and
# work_orders_open_created_idx (0044) and board_order_rows() (0013) list them; a query
# that states it this way, with constants the planner can compare, may read those
# indexes.
OPEN_LIST = "(" + ", ".join(f"'{s.value}'" for s in sorted(OPEN)) + ")"
OPEN_PREDICATE = f"status IN {OPEN_LIST}"

# Whether the order's call left a recorded message (the console plays it through the
# server, which fetches it from the carrier): read with every order, a lookup by key.
# A scalar subquery, not EXISTS: PostgreSQL may turn an EXISTS into a hashed subplan
# built from every call with a recording before the page's first row (240 ms at half
# a million calls, growing with them); a scalar one is looked up for each row shown.
HAS_RECORDING = """coalesce((SELECT c.recording_sid IS NOT NULL FROM calls c
    WHERE c.id = o.call_id), false) AS has_recording"""

ORDER_COLUMNS = f"""o.id, o.number, o.hotline_code, o.channel, o.kind, o.service_item_code,
    o.area_code, o.address, o.description, o.priority, o.status, o.citizen_id,
    o.caller_phone, o.caller_name, o.registered_by, o.client_request_id,
    o.lead_enterprise_id, o.parent_id, o.reply, o.redo_count, o.bounce_count,
    o.resolution_due_at, o.created_at, o.updated_at, o.completed_at, o.closed_at,
    o.call_id, o.media_url, {HAS_RECORDING},
    o.hard_case, o.tried_elsewhere, o.hard_case_due_at, o.suggested_item_code,
    o.callback_outcome AS rating, o.time_limits"""


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
    search_words: str,
) -> asyncpg.Record:
    """A new order, numbered for its hotline and local ``day``, of the citizen with the
    ``caller`` (E.164 phone, name; kept up to date, a blank name keeps the known one),
    with its ``search_words`` (hotline.words ``for_index``); its first event (of
    ``event_type``, with the number added to ``data``); and an outbox row on ``topic``
    with the order's id and the event's seq.

    One statement, because this is the busiest write there is (every call, SMS and
    form), and each round trip to the database is a large share of its cost."""
    columns = ", ".join(values)
    n = len(values)
    placeholders = ", ".join(f"${i}" for i in range(3, n + 3))
    type_, topic_, user, label, payload, phone, name, words = (
        f"${i}" for i in range(n + 3, n + 11)
    )
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
            INSERT INTO work_orders AS o (number, citizen_id, search_words, {columns})
            VALUES (next_order_number($1, $2), (SELECT id FROM c),
                    to_tsvector('simple', {words}::text), {placeholders})
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
        search_words,
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


# What each sort pages on (with id). Due and completion times may be missing: those
# orders are paged apart, after the others, by id (search_page's ``missing``).
SORT_COLUMNS = {
    "registered": "created_at",
    "due": "resolution_due_at",
    "completed": "completed_at",
    "number": "number",
    "updated": "updated_at",
}
NULLABLE_SORTS = frozenset({"due", "completed"})

# Went to the centre's coordination at least once (order_events_escalated_idx).
COORDINATED = """EXISTS (SELECT 1 FROM order_events ev
    WHERE ev.order_id = o.id AND ev.to_status = 'escalated')"""


@dataclass(frozen=True)
class Search:
    """An order search as SQL asks it: the criteria resolved (scope, times, what the
    text is), by hotline.orders.searching."""

    scope: list[int] | None = None  # the unit and its branches: orders dispatched to them
    hotlines: list[str] | None = None  # the actor's hotlines
    status: list[str] = field(default_factory=list)
    hotline: str | None = None
    domain: str | None = None
    service_item: str | None = None
    kind: str | None = None
    enterprise_id: int | None = None
    area: str | None = None
    channel: list[str] = field(default_factory=list)
    registered: tuple[dt.datetime | None, dt.datetime | None] = (None, None)  # [from, to)
    completed: tuple[dt.datetime | None, dt.datetime | None] = (None, None)
    overdue: bool | None = None
    rating: str | None = None
    redo: bool | None = None
    coordination: bool | None = None
    hard_case: bool | None = None
    phone: str | None = None  # E.164: that caller's orders
    number: str | None = None  # an order's whole number
    number_tail: str | None = None  # or its tail (the day and count), of any hotline
    tsquery: str | None = None  # the words, for to_tsquery('simple', ...)
    pattern: str | None = None  # the text as typed: orders without words yet


def search_conditions(search: Search, now: dt.datetime, arg: Callable[[Any], str]) -> list[str]:
    """The WHERE conditions of ``search`` on ``work_orders o``, their values through ``arg``
    (which returns each one's placeholder): a page's, and an export's over every order."""
    where: list[str] = []
    if search.scope is not None:
        where.append(
            "EXISTS (SELECT 1 FROM dispatches d WHERE d.order_id = o.id "
            f"AND d.enterprise_id = ANY({arg(search.scope)}::bigint[]))"
        )
    if search.hotlines is not None:
        where.append(f"o.hotline_code = ANY({arg(search.hotlines)}::text[])")
    if search.status:
        where.append(f"o.status = ANY({arg(search.status)}::text[])")
    if search.channel:
        where.append(f"o.channel = ANY({arg(search.channel)}::text[])")
    for column, value in (
        ("hotline_code", search.hotline),
        ("service_item_code", search.service_item),
        ("kind", search.kind),
        ("hard_case", search.hard_case),
    ):
        if value is not None:
            where.append(f"o.{column} = {arg(value)}")
    if search.domain:
        where.append(
            "o.service_item_code IN (SELECT i.code FROM service_items i "
            f"WHERE i.domain = {arg(search.domain)})"
        )
    if search.enterprise_id is not None:
        where.append(
            "EXISTS (SELECT 1 FROM dispatches d2 WHERE d2.order_id = o.id "
            f"AND d2.enterprise_id = {arg(search.enterprise_id)})"
        )
    if search.area:
        placeholder = arg(search.area)
        where.append(
            f"(o.area_code = {placeholder} OR o.area_code IN "
            f"(SELECT code FROM areas WHERE parent_code = {placeholder}))"
        )
    for column, (start, end) in (
        ("created_at", search.registered),
        ("completed_at", search.completed),
    ):
        if start is not None:
            where.append(f"o.{column} >= {arg(start)}")
        if end is not None:
            where.append(f"o.{column} < {arg(end)}")
    if search.overdue is not None:
        at = arg(now)
        # OPEN_PREDICATE as written, so that the planner may read the indexes of the
        # open orders: by due (the board's), newest first with their due (migration
        # 0044: a common word with overdue walks it and stops at its page).
        test = f"(o.resolution_due_at < {at} AND o.{OPEN_PREDICATE})"
        where.append(test if search.overdue else f"NOT coalesce({test}, false)")
    if search.rating is not None:
        # The latest lead dispatch's outcome, kept on the order (migration 0037).
        outcome = "IS NULL" if search.rating == "none" else f"= {arg(search.rating)}"
        where.append(f"o.callback_outcome {outcome}")
    if search.redo is not None:
        where.append("o.redo_count > 0" if search.redo else "o.redo_count = 0")
    if search.coordination is not None:
        where.append(COORDINATED if search.coordination else f"NOT {COORDINATED}")
    if search.phone is not None:
        where.append(f"o.caller_phone = {arg(search.phone)}")
    if search.number is not None:
        where.append(f"o.number = {arg(search.number)}")
    if search.number_tail is not None:
        # A few hotlines: as many lookups of work_orders' unique number index.
        where.append(
            f"o.number IN (SELECT h.code || '-' || {arg(search.number_tail)} FROM hotlines h)"
        )
    if search.pattern is not None:
        where.append(_text_condition(search, arg))
    return where


def _text_condition(search: Search, arg: Callable[[Any], str]) -> str:
    """The words (the GIN index on search_words); orders whose words the relay has not
    written yet (after the upgrade) by their text, through work_orders_unindexed_idx."""
    pattern = arg(f"%{escape_like(search.pattern or '')}%")
    unindexed = (
        f"(o.search_words IS NULL AND (o.description ILIKE {pattern} "
        f"OR o.address ILIKE {pattern} OR o.caller_name ILIKE {pattern}))"
    )
    if search.tsquery is None:  # nothing but stop words: the text as typed
        return (
            f"(o.description ILIKE {pattern} OR o.address ILIKE {pattern} "
            f"OR o.caller_name ILIKE {pattern})"
        )
    return f"(o.search_words @@ to_tsquery('simple', {arg(search.tsquery)}) OR {unindexed})"


async def plan_for_values(conn: asyncpg.Connection) -> None:
    """Until the transaction ends, each statement planned for its own values. A prepared
    statement's generic plan guesses a tsquery parameter rare (PostgreSQL's default), and
    for a common word it reads every order matched to sort them: 250 ms or two seconds
    at a million orders where the plan for the words walks an index and takes 1 to 10
    ms. PostgreSQL switches to the generic plan when it guesses it cheaper, which it does
    for some searches (a word with ``overdue``). Filters alone too: with its page size
    a parameter, the generic plan of a domain's orders sorts the whole table in
    parallel instead of walking the newest first. Planning each search costs about 1 ms."""
    await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")


async def search_page(
    conn: asyncpg.Connection,
    search: Search,
    *,
    now: dt.datetime,
    sort: str,
    descending: bool,
    after: tuple[Any, int] | None,
    missing: bool,
    limit: int,
    walk: int | None = None,
) -> list[asyncpg.Record]:
    """Up to ``limit`` orders of ``search`` in the order of ``sort``, after the cursor's
    (key, id): keyset paging, so deep pages stay fast. ``missing``: the orders without
    the sort's key instead (due, completed), by id in the same direction; they come after
    the others. ``walk``: only among the next ``walk`` orders of the sort that pass the
    other filters, the words tested on each (hotline.orders.searching says when)."""
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    words = walk is not None and search.pattern is not None
    where = search_conditions(
        replace(search, pattern=None, tsquery=None) if words else search, now, arg
    )
    key = f"o.{SORT_COLUMNS[sort]}"
    direction, beyond = (" DESC", "<") if descending else ("", ">")
    if missing:
        where.append(f"{key} IS NULL")
        if after is not None:
            where.append(f"o.id {beyond} {arg(after[1])}")
        order = f"o.id{direction}"
    else:
        if sort in NULLABLE_SORTS:
            where.append(f"{key} IS NOT NULL")
        if after is not None:
            where.append(f"({key}, o.id) {beyond} ({arg(after[0])}, {arg(after[1])})")
        order = f"{key}{direction}, o.id{direction}"
    rows = "work_orders o"
    if words:
        # A subquery with a LIMIT is planned on its own: a walk down the sort's index.
        inner = " WHERE " + " AND ".join(where) if where else ""
        rows = f"(SELECT * FROM work_orders o{inner} ORDER BY {order} LIMIT {arg(walk)}) o"
        where = [_text_condition(search, arg)]
    sql = (
        f"SELECT {ORDER_COLUMNS}, le.name_zh AS lead_name_zh, le.name_en AS lead_name_en "
        f"FROM {rows} LEFT JOIN enterprises le ON le.id = o.lead_enterprise_id"
    )
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {order} LIMIT {arg(limit)}"
    return await conn.fetch(sql, *args)


# ------------------------------------------------------------------ the orders' words


async def set_search_words(conn: asyncpg.Connection, order_id: int, words: str) -> None:
    """The order's words (hotline.words ``for_index``) after its texts changed."""
    await conn.execute(
        "UPDATE work_orders SET search_words = to_tsvector('simple', $2) WHERE id = $1",
        order_id,
        words,
    )


async def unindexed_orders(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Orders without words yet (written before migration 0035), the oldest first."""
    return await conn.fetch(
        "SELECT id, description, address, caller_name FROM work_orders "
        "WHERE search_words IS NULL ORDER BY id LIMIT $1",
        limit,
    )


async def fill_search_words(conn: asyncpg.Connection, words: list[tuple[int, str]]) -> None:
    """Each (order id, its words) written, unless a change of the order's texts wrote
    them meanwhile (from the texts as they are now)."""
    await conn.execute(
        """
        UPDATE work_orders o SET search_words = to_tsvector('simple', w.words)
          FROM unnest($1::bigint[], $2::text[]) AS w (id, words)
         WHERE o.id = w.id AND o.search_words IS NULL
        """,
        [i for i, _ in words],
        [w for _, w in words],
    )


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
