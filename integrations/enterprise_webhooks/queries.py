"""SQL for enterprise webhooks: configuration, deliveries and their attempts."""

# asyncpg has no type information: what its queries return is Any by nature.
# mypy: disable-error-code="no-any-return"

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

# ---------------------------------------------------------------- configuration


async def get_webhook(conn: asyncpg.Connection, enterprise_id: int) -> asyncpg.Record | None:
    """The enterprise's id, webhook URL and secret; None when there is no such enterprise."""
    return await conn.fetchrow(
        """
        SELECT e.id, w.url AS webhook_url, w.secret AS webhook_secret
          FROM enterprises e LEFT JOIN enterprise_webhooks w ON w.enterprise_id = e.id
         WHERE e.id = $1
        """,
        enterprise_id,
    )


async def set_webhook(
    conn: asyncpg.Connection, enterprise_id: int, *, url: str | None, secret: str | None
) -> bool:
    """Store (or, with None, remove) the URL and secret; False when there is no such enterprise."""
    if not await conn.fetchval(
        "SELECT EXISTS (SELECT FROM enterprises WHERE id = $1)", enterprise_id
    ):
        return False
    if url is None or secret is None:
        await conn.execute(
            "DELETE FROM enterprise_webhooks WHERE enterprise_id = $1", enterprise_id
        )
    else:
        await conn.execute(
            """
            INSERT INTO enterprise_webhooks (enterprise_id, url, secret) VALUES ($1, $2, $3)
            ON CONFLICT (enterprise_id) DO UPDATE
               SET url = EXCLUDED.url, secret = EXCLUDED.secret, updated_at = now()
            """,
            enterprise_id,
            url,
            secret,
        )
    return True


# ------------------------------------------------------------ making deliveries


async def dispatch_details(conn: asyncpg.Connection, dispatch_id: int) -> asyncpg.Record | None:
    """A dispatch with its order, service item name and the enterprise's webhook."""
    return await conn.fetchrow(
        """
        SELECT d.id AS dispatch_id, d.enterprise_id, d.role, d.sign_for_due_at, d.reason,
               o.id AS order_id, o.number, o.hotline_code, o.service_item_code,
               s.name_zh AS service_item_name, o.kind, o.priority, o.area_code, o.address,
               o.description, o.caller_name, o.caller_phone, o.resolution_due_at,
               wh.url AS webhook_url, wh.secret AS webhook_secret
          FROM dispatches d
          JOIN work_orders o ON o.id = d.order_id
          JOIN service_items s ON s.code = o.service_item_code
          LEFT JOIN enterprise_webhooks wh ON wh.enterprise_id = d.enterprise_id
         WHERE d.id = $1
        """,
        dispatch_id,
    )


async def insert_delivery(
    conn: asyncpg.Connection,
    *,
    effect_key: str,
    enterprise_id: int,
    url: str,
    event: str,
    payload: dict[str, Any],
) -> int | None:
    """One delivery per effect: the same key again inserts nothing and returns None."""
    return await conn.fetchval(
        """
        INSERT INTO webhook_deliveries (effect_key, enterprise_id, url, event, payload)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (effect_key) DO NOTHING RETURNING id
        """,
        effect_key,
        enterprise_id,
        url,
        event,
        payload,
    )


# ---------------------------------------------------------------------- the job


async def get_for_sending(conn: asyncpg.Connection, delivery_id: int) -> asyncpg.Record | None:
    """The delivery, whether it is due, how many attempts it has had, and the
    enterprise's webhook as configured now (the secret to sign with)."""
    return await conn.fetchrow(
        """
        SELECT w.*, w.due_at <= now() AS due,
               (SELECT count(*) FROM webhook_attempts a WHERE a.delivery_id = w.id) AS tries,
               wh.url AS webhook_url, wh.secret AS webhook_secret
          FROM webhook_deliveries w
          LEFT JOIN enterprise_webhooks wh ON wh.enterprise_id = w.enterprise_id
         WHERE w.id = $1
        """,
        delivery_id,
    )


async def insert_attempt(
    conn: asyncpg.Connection,
    delivery_id: int,
    *,
    status_code: int | None,
    error: str,
    duration_ms: int,
) -> None:
    await conn.execute(
        """
        INSERT INTO webhook_attempts (delivery_id, status_code, error, duration_ms)
        VALUES ($1, $2, $3, $4)
        """,
        delivery_id,
        status_code,
        error[:2000],
        duration_ms,
    )


async def settle(
    conn: asyncpg.Connection,
    delivery_id: int,
    *,
    state: str,
    url: str,
    retry_in: dt.timedelta | None,
) -> None:
    """After an attempt: ``delivered``, ``failed``, or ``pending`` again after ``retry_in``.

    ``url`` is where the attempt went (the enterprise's URL at send time)."""
    await conn.execute(
        """
        UPDATE webhook_deliveries
           SET state = $2, url = $3, lease_until = NULL,
               due_at = CASE WHEN $4::interval IS NULL THEN due_at ELSE now() + $4 END,
               delivered_at = CASE WHEN $2 = 'delivered' THEN now() END
         WHERE id = $1 AND state = 'pending'
        """,
        delivery_id,
        state,
        url,
        retry_in,
    )


# -------------------------------------------------------------------- reading


async def list_deliveries(
    conn: asyncpg.Connection, enterprise_id: int, *, limit: int
) -> list[asyncpg.Record]:
    """The enterprise's most recent deliveries, newest first."""
    return await conn.fetch(
        """
        SELECT id, effect_key, event, url, payload, state, due_at, created_at, delivered_at
          FROM webhook_deliveries
         WHERE enterprise_id = $1
         ORDER BY id DESC
         LIMIT $2
        """,
        enterprise_id,
        limit,
    )


async def list_attempts(conn: asyncpg.Connection, delivery_ids: list[int]) -> list[asyncpg.Record]:
    """The attempts of these deliveries, oldest first."""
    return await conn.fetch(
        """
        SELECT delivery_id, attempted_at, status_code, error, duration_ms
          FROM webhook_attempts
         WHERE delivery_id = ANY($1::bigint[])
         ORDER BY delivery_id, id
        """,
        delivery_ids,
    )
