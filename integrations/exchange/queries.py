"""SQL for the exchange with platforms: platforms, exchanged orders, messages and their
attempts, the requests platforms sent, the feed's cursor."""

# asyncpg has no type information: what its queries return is Any by nature.
# mypy: disable-error-code="no-any-return"

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

# ------------------------------------------------------------------- platforms

PLATFORM_COLUMNS = (
    "code, name_zh, name_en, hotline_code, base_url, contract, active, created_at, updated_at"
)


async def list_platforms(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every platform with its open messages: waiting or pending, and failed."""
    return await conn.fetch(
        f"""
        SELECT {PLATFORM_COLUMNS},
               (SELECT count(*) FROM exchange_messages m
                 WHERE m.platform_code = p.code AND m.state IN ('waiting', 'pending')) AS queued,
               (SELECT count(*) FROM exchange_messages m
                 WHERE m.platform_code = p.code AND m.state = 'failed') AS failed
          FROM exchange_platforms p
         ORDER BY code
        """
    )


async def active_platforms(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """The platforms an order can be passed to: switched on, code and names only."""
    return await conn.fetch(
        "SELECT code, name_zh, name_en FROM exchange_platforms WHERE active ORDER BY code"
    )


async def get_platform(conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM exchange_platforms WHERE code = $1", code)


async def platform_by_key(conn: asyncpg.Connection, key_hash: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM exchange_platforms WHERE key_hash = $1", key_hash)


async def insert_platform(conn: asyncpg.Connection, values: dict[str, Any]) -> asyncpg.Record:
    return await conn.fetchrow(
        f"""
        INSERT INTO exchange_platforms (code, name_zh, name_en, hotline_code, key_hash, secret,
                                        base_url, contract)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        RETURNING {PLATFORM_COLUMNS}
        """,
        values["code"],
        values["name_zh"],
        values["name_en"],
        values["hotline_code"],
        values["key_hash"],
        values["secret"],
        values["base_url"],
        values["contract"],
    )


async def update_platform(
    conn: asyncpg.Connection, code: str, values: dict[str, Any]
) -> asyncpg.Record | None:
    """Set the given columns (of name_zh, name_en, hotline_code, base_url, contract,
    active, key_hash, secret)."""
    allowed = ("name_zh", "name_en", "hotline_code", "base_url", "contract", "active")
    names = [n for n in (*allowed, "key_hash", "secret") if n in values]
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    return await conn.fetchrow(
        f"""
        UPDATE exchange_platforms SET {sets}, updated_at = now()
         WHERE code = $1
        RETURNING {PLATFORM_COLUMNS}
        """,
        code,
        *(values[n] for n in names),
    )


# ------------------------------------------------------------- exchanged orders


async def lock_platform_number(conn: asyncpg.Connection, platform: str, number: str) -> None:
    """Until commit: one request at a time registers a given platform number (two
    deliveries of one order arriving together make one order)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"exchange:{platform}:{number}"
    )


async def received_order(
    conn: asyncpg.Connection, platform: str, number: str
) -> asyncpg.Record | None:
    """The order received under the platform's ``number``, with our number."""
    return await conn.fetchrow(
        """
        SELECT x.*, o.number AS our_number, o.status
          FROM exchange_orders x JOIN work_orders o ON o.id = x.order_id
         WHERE x.platform_code = $1 AND x.platform_number = $2 AND x.direction = 'in'
        """,
        platform,
        number,
    )


async def insert_exchange_order(conn: asyncpg.Connection, values: dict[str, Any]) -> None:
    await conn.execute(
        """
        INSERT INTO exchange_orders (order_id, platform_code, direction, platform_number,
                                     classification_code, sign_for_due_at,
                                     resolution_due_at, body_hash, received, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        """,
        values["order_id"],
        values["platform_code"],
        values["direction"],
        values.get("platform_number"),
        values.get("classification_code"),
        values.get("sign_for_due_at"),
        values.get("resolution_due_at"),
        values.get("body_hash"),
        values.get("received", {}),
        values["created_at"],
    )


async def exchange_of_order(conn: asyncpg.Connection, order_id: int) -> asyncpg.Record | None:
    """The order's exchange (None: not exchanged), with its platform's names."""
    return await conn.fetchrow(
        """
        SELECT x.*, p.name_zh AS platform_name_zh, p.name_en AS platform_name_en
          FROM exchange_orders x JOIN exchange_platforms p ON p.code = x.platform_code
         WHERE x.order_id = $1
        """,
        order_id,
    )


async def set_platform_number(conn: asyncpg.Connection, order_id: int, number: str) -> None:
    """A transferred order's number at the platform, from its acknowledgement."""
    await conn.execute(
        "UPDATE exchange_orders SET platform_number = $2 WHERE order_id = $1 "
        "AND platform_number IS NULL",
        order_id,
        number,
    )


async def log_request(
    conn: asyncpg.Connection,
    *,
    platform: str | None,
    number: str | None,
    order_id: int | None,
    status: int,
    error: str,
    now: dt.datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO exchange_requests (platform_code, platform_number, order_id, status, error,
                                       received_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        platform,
        number,
        order_id,
        status,
        error[:2000],
        now,
    )


# ------------------------------------------------------------------ the feed


async def lock_cursor(conn: asyncpg.Connection) -> int:
    """The feed's position, locked until commit (one feeder at a time)."""
    return await conn.fetchval("SELECT seq FROM exchange_cursor FOR UPDATE")


async def save_cursor(conn: asyncpg.Connection, seq: int) -> None:
    await conn.execute("UPDATE exchange_cursor SET seq = $1, updated_at = now()", seq)


async def exchanged_events(
    conn: asyncpg.Connection, *, after: int, upto: int, limit: int
) -> list[asyncpg.Record]:
    """Events of exchanged orders with ``after < seq <= upto``, oldest first, with what
    a message about them says: the exchange, the order's numbers, classification and
    reply, and the unit that acted."""
    return await conn.fetch(
        """
        SELECT e.seq, e.type, e.order_id, e.data, e.created_at, e.actor,
               x.platform_code, x.direction, x.platform_number, x.classification_code,
               o.number AS our_number, o.reply, o.resolution_due_at,
               en.name_zh AS unit_name
          FROM order_events e
          JOIN exchange_orders x ON x.order_id = e.order_id
          JOIN work_orders o ON o.id = e.order_id
          LEFT JOIN dispatches d ON d.id = (e.data ->> 'dispatch_id')::bigint
          LEFT JOIN enterprises en ON en.id = d.enterprise_id
         WHERE e.seq > $1 AND e.seq <= $2
         ORDER BY e.seq
         LIMIT $3
        """,
        after,
        upto,
        limit,
    )


async def attachment_links(conn: asyncpg.Connection, ids: list[int]) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, filename, content_type FROM attachments WHERE id = ANY($1::bigint[]) "
        "ORDER BY id",
        ids,
    )


async def exchanged_attachment(
    conn: asyncpg.Connection, platform: str, attachment_id: int
) -> asyncpg.Record | None:
    """An attachment of an order exchanged with ``platform`` (None: no such one there)."""
    return await conn.fetchrow(
        """
        SELECT a.id, a.filename, a.content_type, a.storage_key
          FROM attachments a JOIN exchange_orders x ON x.order_id = a.order_id
         WHERE a.id = $1 AND x.platform_code = $2
        """,
        attachment_id,
        platform,
    )


async def lock_order_messages(conn: asyncpg.Connection, order_id: int) -> None:
    """Until commit: one transaction at a time adds to or moves an order's messages, so
    that a message added while the one before it is being settled is never left
    waiting behind a delivered one."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"exchange-order:{order_id}"
    )


async def insert_message(
    conn: asyncpg.Connection,
    *,
    order_id: int,
    platform: str,
    event: str,
    effect_key: str,
    payload: dict[str, Any],
) -> int | None:
    """The order's next message: 'pending' when nothing of the order's is still to go
    before it, else 'waiting'. The same effect again inserts nothing (None)."""
    return await conn.fetchval(
        """
        INSERT INTO exchange_messages (order_id, platform_code, seq, event, effect_key, payload,
                                       state)
        SELECT $1, $2, coalesce(max(seq), 0) + 1, $3, $4, $5,
               CASE WHEN bool_or(state <> 'delivered') THEN 'waiting' ELSE 'pending' END
          FROM exchange_messages WHERE order_id = $1
        ON CONFLICT (effect_key) DO NOTHING
        RETURNING id
        """,
        order_id,
        platform,
        event,
        effect_key,
        payload,
    )


# --------------------------------------------------------------- sending


async def get_for_sending(conn: asyncpg.Connection, message_id: int) -> asyncpg.Record | None:
    """The message, whether it is due, and its platform as configured now."""
    return await conn.fetchrow(
        """
        SELECT m.*, m.due_at <= now() AS due, p.base_url, p.secret, p.contract, p.active,
               x.platform_number
          FROM exchange_messages m
          JOIN exchange_platforms p ON p.code = m.platform_code
          JOIN exchange_orders x ON x.order_id = m.order_id
         WHERE m.id = $1
        """,
        message_id,
    )


async def insert_attempt(
    conn: asyncpg.Connection,
    message_id: int,
    *,
    status_code: int | None,
    error: str,
    duration_ms: int,
) -> None:
    await conn.execute(
        """
        INSERT INTO exchange_attempts (message_id, status_code, error, duration_ms)
        VALUES ($1, $2, $3, $4)
        """,
        message_id,
        status_code,
        error[:2000],
        duration_ms,
    )


async def settle(
    conn: asyncpg.Connection,
    message_id: int,
    *,
    state: str,
    retry_in: dt.timedelta | None,
    answer: Any,
) -> None:
    """After an attempt: ``delivered`` (with the platform's ``answer``), ``failed``, or
    ``pending`` again after ``retry_in``."""
    await conn.execute(
        """
        UPDATE exchange_messages
           SET state = $2, lease_until = NULL, tries = tries + 1,
               due_at = CASE WHEN $3::interval IS NULL THEN due_at ELSE now() + $3 END,
               delivered_at = CASE WHEN $2 = 'delivered' THEN now() END,
               answer = coalesce($4, answer)
         WHERE id = $1 AND state = 'pending'
        """,
        message_id,
        state,
        retry_in,
        answer,
    )


async def release_next(conn: asyncpg.Connection, order_id: int) -> None:
    """The order's first message still waiting becomes due now, if nothing before it is
    still to go."""
    await conn.execute(
        """
        UPDATE exchange_messages SET state = 'pending', due_at = now()
         WHERE id = (SELECT id FROM exchange_messages
                      WHERE order_id = $1 AND state <> 'delivered'
                      ORDER BY seq LIMIT 1)
           AND state = 'waiting'
        """,
        order_id,
    )


async def message_hotline(conn: asyncpg.Connection, message_id: int) -> str | None:
    """The hotline of the message's order (None: no such message)."""
    return await conn.fetchval(
        "SELECT o.hotline_code FROM exchange_messages m JOIN work_orders o ON o.id = m.order_id "
        "WHERE m.id = $1",
        message_id,
    )


async def retry_failed(conn: asyncpg.Connection, message_id: int) -> asyncpg.Record | None:
    """A failed message goes again now, with its attempts counted afresh."""
    return await conn.fetchrow(
        """
        UPDATE exchange_messages SET state = 'pending', due_at = now(), tries = 0,
               lease_until = NULL
         WHERE id = $1 AND state = 'failed'
        RETURNING id, order_id, platform_code
        """,
        message_id,
    )


# ------------------------------------------------------------------- reading


async def messages_of_order(conn: asyncpg.Connection, order_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT id, seq, event, effect_key, payload, state, tries, due_at, delivered_at, answer,
               created_at
          FROM exchange_messages WHERE order_id = $1 ORDER BY seq
        """,
        order_id,
    )


async def attempts_of(conn: asyncpg.Connection, message_ids: list[int]) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT message_id, attempted_at, status_code, error, duration_ms
          FROM exchange_attempts WHERE message_id = ANY($1::bigint[])
         ORDER BY message_id, id
        """,
        message_ids,
    )


async def requests_of_order(conn: asyncpg.Connection, order_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT status, error, received_at FROM exchange_requests WHERE order_id = $1 ORDER BY id",
        order_id,
    )


async def recent_requests(
    conn: asyncpg.Connection, platform: str, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT id, platform_number, order_id, status, error, received_at
          FROM exchange_requests WHERE platform_code = $1 ORDER BY id DESC LIMIT $2
        """,
        platform,
        limit,
    )


async def failed_messages(
    conn: asyncpg.Connection, limit: int, hotlines: list[str] | None
) -> list[asyncpg.Record]:
    """Messages that failed, newest first, with their orders' numbers (``hotlines``: of
    those hotlines' orders only)."""
    return await conn.fetch(
        """
        SELECT m.id, m.order_id, o.number, m.platform_code, m.event, m.seq, m.created_at,
               (SELECT a.status_code FROM exchange_attempts a WHERE a.message_id = m.id
                 ORDER BY a.id DESC LIMIT 1) AS last_status,
               (SELECT a.error FROM exchange_attempts a WHERE a.message_id = m.id
                 ORDER BY a.id DESC LIMIT 1) AS last_error
          FROM exchange_messages m JOIN work_orders o ON o.id = m.order_id
         WHERE m.state = 'failed' AND ($2::text[] IS NULL OR o.hotline_code = ANY($2))
         ORDER BY m.id DESC LIMIT $1
        """,
        limit,
        hotlines,
    )


async def platform_figures(
    conn: asyncpg.Connection,
    *,
    now: dt.datetime,
    today: dt.datetime,
    since: dt.datetime,
    open_statuses: list[str],
    hotlines: list[str] | None,
) -> list[asyncpg.Record]:
    """Per platform: orders received today, open, overdue (against the platform's due,
    else ours), completed since ``since`` and of those on time, orders transferred to
    it since ``since``, and its queued and failed messages."""
    return await conn.fetch(
        """
        SELECT p.code, p.name_zh, p.name_en, p.hotline_code,
               count(x.order_id) FILTER (WHERE x.direction = 'in' AND x.created_at >= $2)
                   AS received_today,
               count(x.order_id) FILTER (WHERE x.direction = 'in' AND o.status = ANY($4))
                   AS open,
               count(x.order_id) FILTER (
                   WHERE x.direction = 'in' AND o.status = ANY($4)
                     AND coalesce(x.resolution_due_at, o.resolution_due_at) < $1) AS overdue,
               count(x.order_id) FILTER (WHERE x.direction = 'in' AND o.completed_at >= $3)
                   AS completed,
               count(x.order_id) FILTER (
                   WHERE x.direction = 'in' AND o.completed_at >= $3
                     AND o.completed_at <= coalesce(x.resolution_due_at, o.resolution_due_at))
                   AS on_time,
               count(x.order_id) FILTER (WHERE x.direction = 'out' AND x.created_at >= $3)
                   AS transferred,
               (SELECT count(*) FROM exchange_messages m
                 WHERE m.platform_code = p.code AND m.state IN ('waiting', 'pending'))
                   AS queued_messages,
               (SELECT count(*) FROM exchange_messages m
                 WHERE m.platform_code = p.code AND m.state = 'failed') AS failed_messages
          FROM exchange_platforms p
          LEFT JOIN exchange_orders x ON x.platform_code = p.code
          LEFT JOIN work_orders o ON o.id = x.order_id
         WHERE p.active AND ($5::text[] IS NULL OR p.hotline_code = ANY($5))
         GROUP BY p.code
         ORDER BY p.code
        """,
        now,
        today,
        since,
        open_statuses,
        hotlines,
    )
