"""SQL for what the centre knows of a caller."""

from __future__ import annotations

import asyncpg


async def citizen_by_phone(conn: asyncpg.Connection, phone: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT c.id, c.phone, c.name, c.special_needs, c.key_account, c.area_code, c.address,
               c.created_at, u.display_name AS representative, e.name_zh AS representative_unit
          FROM citizens c
          LEFT JOIN users u ON u.id = c.representative_user_id
          LEFT JOIN enterprises e ON e.id = u.enterprise_id
         WHERE c.phone = $1
        """,
        phone,
    )


async def orders_of_citizen(
    conn: asyncpg.Connection, citizen_id: int, limit: int
) -> list[asyncpg.Record]:
    """The caller's orders, newest first, each with its owner (首问负责人): the agent who
    registered it, or confirmed it from a draft."""
    return await conn.fetch(
        """
        SELECT o.id, o.number, o.status, o.hotline_code, o.service_item_code,
               si.name_zh AS item_name, o.description, o.address, o.created_at,
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
