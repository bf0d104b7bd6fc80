"""All of the notifications' SQL: settings and their changes, the notices decided for
orders and the per-order count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

# ------------------------------------------------------------------------- settings


async def stored_settings(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every stored setting, by hotline, its default first, then by channel."""
    return await conn.fetch(
        """
        SELECT hotline_code, channel, config, updated_by, updated_at
          FROM notification_settings
         ORDER BY hotline_code, channel <> 'default', channel
        """
    )


async def setting_for(
    conn: asyncpg.Connection, hotline_code: str, channel: str
) -> dict[str, Any] | None:
    """The configuration that applies to an order of ``hotline_code`` that came in by
    ``channel``: the channel's own, else the hotline's default; None when neither is
    stored."""
    config: dict[str, Any] | None = await conn.fetchval(
        """
        SELECT config FROM notification_settings
         WHERE hotline_code = $1 AND channel IN ($2, 'default')
         ORDER BY channel = 'default' LIMIT 1
        """,
        hotline_code,
        channel,
    )
    return config


async def lock_setting(
    conn: asyncpg.Connection, hotline_code: str, channel: str
) -> dict[str, Any] | None:
    """The stored configuration of exactly this hotline and channel, locked until commit
    (two administrators saving at once are recorded one after the other)."""
    config: dict[str, Any] | None = await conn.fetchval(
        """
        SELECT config FROM notification_settings
         WHERE hotline_code = $1 AND channel = $2 FOR UPDATE
        """,
        hotline_code,
        channel,
    )
    return config


async def upsert_setting(
    conn: asyncpg.Connection,
    hotline_code: str,
    channel: str,
    config: dict[str, Any],
    *,
    user_id: int | None,
    actor: str,
    now: dt.datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO notification_settings
               (hotline_code, channel, config, updated_by_user_id, updated_by, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (hotline_code, channel) DO UPDATE
           SET config = EXCLUDED.config, updated_by_user_id = EXCLUDED.updated_by_user_id,
               updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at
        """,
        hotline_code,
        channel,
        config,
        user_id,
        actor,
        now,
    )


async def delete_setting(conn: asyncpg.Connection, hotline_code: str, channel: str) -> None:
    await conn.execute(
        "DELETE FROM notification_settings WHERE hotline_code = $1 AND channel = $2",
        hotline_code,
        channel,
    )


async def insert_change(
    conn: asyncpg.Connection,
    hotline_code: str,
    channel: str,
    *,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    user_id: int | None,
    actor: str,
    now: dt.datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO notification_setting_changes
               (hotline_code, channel, old_config, new_config, user_id, actor, changed_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        hotline_code,
        channel,
        old,
        new,
        user_id,
        actor,
        now,
    )


async def changes(
    conn: asyncpg.Connection, hotline_code: str | None, *, limit: int
) -> list[asyncpg.Record]:
    """Recent changes, newest first, of one hotline or of all."""
    return await conn.fetch(
        """
        SELECT id, hotline_code, channel, old_config, new_config, actor, changed_at
          FROM notification_setting_changes
         WHERE $1::text IS NULL OR hotline_code = $1
         ORDER BY id DESC LIMIT $2
        """,
        hotline_code,
        limit,
    )


# -------------------------------------------------------------------------- notices


async def claim_notice(
    conn: asyncpg.Connection, *, effect_key: str, order_id: int, kind: str, now: dt.datetime
) -> int | None:
    """The notice's row, new; None when the effect was decided before (a repeated outbox
    run). Held by this transaction until it commits: a second run of the same effect at
    the same time waits here, then finds it."""
    return await conn.fetchval(
        """
        INSERT INTO order_notifications (effect_key, order_id, kind, state, created_at)
        VALUES ($1, $2, $3, 'queued', $4)
        ON CONFLICT (effect_key) DO NOTHING RETURNING id
        """,
        effect_key,
        order_id,
        kind,
        now,
    )


async def settle_notice(
    conn: asyncpg.Connection,
    notice_id: int,
    *,
    state: str,
    reason: str = "",
    due_at: dt.datetime | None = None,
) -> None:
    await conn.execute(
        "UPDATE order_notifications SET state = $2, reason = $3, due_at = $4 WHERE id = $1",
        notice_id,
        state,
        reason,
        due_at,
    )


async def count_message(conn: asyncpg.Connection, order_id: int, cap: int) -> bool:
    """Count one more message of the order if it stays within ``cap``; False when the cap
    is reached. One statement: the row is locked by whichever transaction counts first,
    and the other's condition is checked again on the row it then sees."""
    counted = await conn.fetchval(
        """
        INSERT INTO order_notification_counts AS c (order_id, messages)
        SELECT $1, 1 WHERE $2 >= 1
        ON CONFLICT (order_id) DO UPDATE SET messages = c.messages + 1
         WHERE c.messages < $2
        RETURNING messages
        """,
        order_id,
        cap,
    )
    return counted is not None


async def mark_outcome(
    conn: asyncpg.Connection, effect_key: str, state: str
) -> asyncpg.Record | None:
    """The queued notice of ``effect_key`` is now ``state`` (sent or failed); its order
    and kind, or None when it is no queued notice."""
    return await conn.fetchrow(
        """
        UPDATE order_notifications SET state = $2
         WHERE effect_key = $1 AND state = 'queued'
        RETURNING order_id, kind
        """,
        effect_key,
        state,
    )


async def order_facts(conn: asyncpg.Connection, order_id: int) -> asyncpg.Record | None:
    """What a notice says and to whom: the order, its lead unit's name, its hotline's
    numbers and name."""
    return await conn.fetchrow(
        """
        SELECT o.id, o.number, o.hotline_code, o.channel, o.caller_phone, o.status,
               e.name_zh AS unit_name,
               h.number AS hotline_number, h.voice_number, h.name_zh AS hotline_name
          FROM work_orders o JOIN hotlines h ON h.code = o.hotline_code
          LEFT JOIN enterprises e ON e.id = o.lead_enterprise_id
         WHERE o.id = $1
        """,
        order_id,
    )


async def dispatch_unit(conn: asyncpg.Connection, dispatch_id: int) -> asyncpg.Record | None:
    """A dispatch's order, role and unit name."""
    return await conn.fetchrow(
        """
        SELECT d.order_id, d.role, e.name_zh AS unit_name
          FROM dispatches d JOIN enterprises e ON e.id = d.enterprise_id
         WHERE d.id = $1
        """,
        dispatch_id,
    )
