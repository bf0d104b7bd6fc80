"""SQL for what the centre knows of a caller, and the profile's changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

_CITIZEN = """
        SELECT c.id, c.phone, c.name, c.special_needs, c.key_account, c.area_code, c.address,
               c.preferred_language, c.notes, c.created_at, c.updated_at,
               u.username AS representative_username, u.display_name AS representative,
               e.name_zh AS representative_unit
          FROM citizens c
          LEFT JOIN users u ON u.id = c.representative_user_id
          LEFT JOIN enterprises e ON e.id = u.enterprise_id
         WHERE c.phone = $1"""


async def citizen_by_phone(
    conn: asyncpg.Connection, phone: str, *, for_update: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(_CITIZEN + (" FOR UPDATE OF c" if for_update else ""), phone)


async def insert_citizen(conn: asyncpg.Connection, phone: str) -> None:
    """A profile for a number the centre had not heard from (a race inserts it once)."""
    await conn.execute(
        "INSERT INTO citizens (phone) VALUES ($1) ON CONFLICT (phone) DO NOTHING", phone
    )


async def update_citizen(
    conn: asyncpg.Connection, citizen_id: int, values: dict[str, Any], now: dt.datetime
) -> None:
    """Set ``values`` (column: value; the columns are the service's, never a client's)."""
    assignments = [f"{column} = ${i}" for i, column in enumerate(values, start=3)]
    await conn.execute(
        f"UPDATE citizens SET updated_at = $2, {', '.join(assignments)} WHERE id = $1",
        citizen_id,
        now,
        *values.values(),
    )


async def insert_changes(
    conn: asyncpg.Connection,
    citizen_id: int,
    changes: list[tuple[str, str, str]],
    *,
    user_id: int | None,
    actor: str,
    now: dt.datetime,
) -> None:
    await conn.executemany(
        """
        INSERT INTO citizen_changes (citizen_id, field, old_value, new_value, user_id, actor,
                                     changed_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        [(citizen_id, field, old, new, user_id, actor, now) for field, old, new in changes],
    )


async def citizen_changes(
    conn: asyncpg.Connection, citizen_id: int, limit: int
) -> list[asyncpg.Record]:
    """The profile's changes, newest first."""
    return await conn.fetch(
        """
        SELECT id, field, old_value, new_value, actor, changed_at
          FROM citizen_changes WHERE citizen_id = $1
         ORDER BY id DESC LIMIT $2
        """,
        citizen_id,
        limit,
    )


async def representative(conn: asyncpg.Connection, username: str) -> asyncpg.Record | None:
    """An active enterprise user (客户代表) by name."""
    return await conn.fetchrow(
        """
        SELECT id, username FROM users
         WHERE lower(username) = lower($1) AND active
           AND role IN ('enterprise_user', 'enterprise_admin')
        """,
        username,
    )


async def orders_of_citizen(
    conn: asyncpg.Connection, citizen_id: int, limit: int
) -> list[asyncpg.Record]:
    """The caller's orders, newest first, each with its owner (首问负责人): the agent who
    registered it, or confirmed it from a draft."""
    return await conn.fetch(
        """
        SELECT o.id, o.number, o.status, o.hotline_code, o.service_item_code,
               si.name_zh AS item_name, o.description, o.area_code, o.address, o.created_at,
               o.resolution_due_at, o.completed_at, o.redo_count,
               o.registered_by AS owner_id, u.display_name AS owner_name
          FROM work_orders o LEFT JOIN service_items si ON si.code = o.service_item_code
          LEFT JOIN users u ON u.id = o.registered_by
         WHERE o.citizen_id = $1
         ORDER BY o.created_at DESC LIMIT $2
        """,
        citizen_id,
        limit,
    )


async def recent_contacts(
    conn: asyncpg.Connection, citizen_id: int, limit: int
) -> list[asyncpg.Record]:
    """Calls and SMS of the caller, newest first."""
    return await conn.fetch(
        """
        (SELECT 'call' AS channel, call_sid AS sid, hotline_code, status AS detail, created_at
           FROM calls WHERE citizen_id = $1)
        UNION ALL
        (SELECT 'sms', message_sid, hotline_code, left(body, 200), created_at
           FROM sms_messages WHERE citizen_id = $1)
        ORDER BY created_at DESC LIMIT $2
        """,
        citizen_id,
        limit,
    )


async def search_citizens(
    conn: asyncpg.Connection, *, text: str | None, flag: str | None, limit: int
) -> list[asyncpg.Record]:
    """Callers whose number or name holds ``text``, with ``flag`` (special_needs,
    key_account, representative, notes), last changed first: the administrators' list."""
    return await conn.fetch(
        """
        SELECT c.id, c.phone, c.name, c.special_needs, c.key_account, c.preferred_language,
               c.notes, c.updated_at, u.username AS representative_username,
               u.display_name AS representative
          FROM citizens c LEFT JOIN users u ON u.id = c.representative_user_id
         WHERE ($1::text IS NULL OR strpos(c.phone, $1) > 0 OR strpos(c.name, $1) > 0)
           AND ($2::text IS NULL
                OR ($2 = 'special_needs' AND c.special_needs)
                OR ($2 = 'key_account' AND c.key_account)
                OR ($2 = 'representative' AND c.representative_user_id IS NOT NULL)
                OR ($2 = 'notes' AND c.notes <> ''))
         ORDER BY c.updated_at DESC, c.id DESC
         LIMIT $3
        """,
        text,
        flag,
        limit,
    )
