"""SQL of the progress lookup: the order a citizen names, its public history, a phone's
open orders, one-time codes and grants (tables ``tracking_codes``, ``tracking_grants``).

Only ``order_to_verify`` reads the caller's phone, to compare it; the public rows select
no caller column, so what is shown cannot leak one by a mapping mistake.
"""

from __future__ import annotations

import datetime as dt

import asyncpg

_PUBLIC_ORDER = """
    SELECT o.id, o.number, o.status, o.channel, o.hotline_code, o.service_item_code,
           s.name_zh AS service_name_zh, s.name_en AS service_name_en,
           h.name_zh AS hotline_zh, h.name_en AS hotline_en, h.number AS hotline_number,
           e.name_zh AS agency_zh, e.name_en AS agency_en,
           o.created_at, o.updated_at, o.resolution_due_at, o.completed_at, o.reply,
           o.parent_id, p.number AS parent_number,
           (SELECT min(d.sign_for_due_at) FROM dispatches d
             WHERE d.order_id = o.id AND d.role = 'lead' AND d.state = 'pending')
               AS sign_for_due_at
      FROM work_orders o
      JOIN hotlines h ON h.code = o.hotline_code
      LEFT JOIN service_items s ON s.code = o.service_item_code
      LEFT JOIN enterprises e ON e.id = o.lead_enterprise_id
      LEFT JOIN work_orders p ON p.id = o.parent_id
"""


async def order_to_verify(conn: asyncpg.Connection, number: str) -> asyncpg.Record | None:
    """The order numbered ``number`` with the phone it was reported from (to compare,
    never to show), or None. One indexed read whether or not the number exists."""
    return await conn.fetchrow(
        "SELECT id, caller_phone, hotline_code FROM work_orders WHERE number = $1", number
    )


async def number_of(conn: asyncpg.Connection, order_id: int) -> str | None:
    return await conn.fetchval("SELECT number FROM work_orders WHERE id = $1", order_id)


async def public_order(conn: asyncpg.Connection, order_id: int) -> asyncpg.Record | None:
    """What the public may know of an order once its reporter is known."""
    return await conn.fetchrow(_PUBLIC_ORDER + " WHERE o.id = $1", order_id)


async def open_orders_of_phone(
    conn: asyncpg.Connection, phone: str, *, final: list[str], limit: int
) -> list[asyncpg.Record]:
    """The orders reported from ``phone`` (E.164) that are not final, newest first."""
    return await conn.fetch(
        _PUBLIC_ORDER + " WHERE o.caller_phone = $1 AND o.status <> ALL($2::text[]) "
        "ORDER BY o.created_at DESC, o.id DESC LIMIT $3",
        phone,
        final,
        limit,
    )


async def public_events(
    conn: asyncpg.Connection, order_id: int, types: list[str]
) -> list[asyncpg.Record]:
    """The order's events of ``types``, oldest first, each with the names of the
    enterprise it names (``enterprise_id`` in its data, or the dispatch it names). A
    progress note only when its unit marked it public, an approved time request only
    when it extended the due."""
    return await conn.fetch(
        """
        SELECT e.seq, e.type, e.created_at, e.data, u.name_zh AS unit_zh, u.name_en AS unit_en
          FROM order_events e
          LEFT JOIN dispatches d ON d.id = (e.data ->> 'dispatch_id')::bigint
          LEFT JOIN enterprises u
                 ON u.id = coalesce((e.data ->> 'enterprise_id')::bigint, d.enterprise_id)
         WHERE e.order_id = $1 AND e.type = ANY($2::text[])
           AND (e.type <> 'dispatch.note' OR (e.data ->> 'public')::boolean IS TRUE)
           AND (e.type <> 'time_request.approved' OR e.data ->> 'kind' = 'extension')
         ORDER BY e.seq
        """,
        order_id,
        types,
    )


# ----------------------------------------------------------------- codes


async def insert_code(
    conn: asyncpg.Connection,
    *,
    order_id: int,
    salt: bytes,
    code_hash: bytes,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> int:
    """A new code for the order; the order's codes that have expired go (they can no
    longer be used, and nothing else removes them)."""
    await conn.execute(
        "DELETE FROM tracking_codes WHERE order_id = $1 AND expires_at < $2", order_id, now
    )
    return int(
        await conn.fetchval(
            "INSERT INTO tracking_codes (order_id, salt, code_hash, created_at, expires_at) "
            "VALUES ($1, $2, $3, $4, $5) RETURNING id",
            order_id,
            salt,
            code_hash,
            now,
            expires_at,
        )
    )


async def live_code(
    conn: asyncpg.Connection, order_id: int, *, now: dt.datetime, max_attempts: int
) -> asyncpg.Record | None:
    """The order's newest code still usable (unused, unexpired, attempts left), locked."""
    return await conn.fetchrow(
        """
        SELECT id, salt, code_hash, attempts FROM tracking_codes
         WHERE order_id = $1 AND used_at IS NULL AND expires_at > $2 AND attempts < $3
         ORDER BY created_at DESC, id DESC LIMIT 1
           FOR UPDATE
        """,
        order_id,
        now,
        max_attempts,
    )


async def count_attempt(
    conn: asyncpg.Connection, code_id: int, *, used_at: dt.datetime | None
) -> None:
    """One more attempt on the code; ``used_at`` set when it was the right one."""
    await conn.execute(
        "UPDATE tracking_codes SET attempts = attempts + 1, used_at = $2 WHERE id = $1",
        code_id,
        used_at,
    )


# ---------------------------------------------------------------- grants


async def insert_grant(
    conn: asyncpg.Connection,
    *,
    token_hash: bytes,
    order_id: int,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> None:
    """A new grant; expired grants go with it (a short indexed delete)."""
    await conn.execute("DELETE FROM tracking_grants WHERE expires_at < $1", now)
    await conn.execute(
        "INSERT INTO tracking_grants (token_hash, order_id, created_at, expires_at) "
        "VALUES ($1, $2, $3, $4)",
        token_hash,
        order_id,
        now,
        expires_at,
    )


async def granted_order(
    conn: asyncpg.Connection, token_hash: bytes, now: dt.datetime
) -> int | None:
    """The order a live grant is for, or None."""
    return await conn.fetchval(
        "SELECT order_id FROM tracking_grants WHERE token_hash = $1 AND expires_at > $2",
        token_hash,
        now,
    )
