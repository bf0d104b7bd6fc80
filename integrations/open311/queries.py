"""SQL for Open311 clients and the public view of work orders.

The public row selects no caller column (phone, name, email, citizen): what is not
read cannot be leaked by a mapping mistake.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

PUBLIC_ORDER_COLUMNS = """o.number, o.channel, o.status, o.service_item_code,
    s.name_zh AS service_name_zh, s.name_en AS service_name_en, o.description, o.address,
    o.latitude, o.longitude, o.media_url, e.name_zh AS agency_zh, e.name_en AS agency_en,
    o.created_at, o.updated_at, o.resolution_due_at"""

_PUBLIC_FROM = """work_orders o
    LEFT JOIN service_items s ON s.code = o.service_item_code
    LEFT JOIN enterprises e ON e.id = o.lead_enterprise_id"""


# ------------------------------------------------------------------- clients


async def insert_client(
    conn: asyncpg.Connection, *, name: str, key_hash: bytes, now: dt.datetime
) -> asyncpg.Record:
    return await conn.fetchrow(
        "INSERT INTO open311_clients (name, key_hash, created_at) VALUES ($1, $2, $3) "
        "RETURNING id, name, created_at, revoked_at",
        name,
        key_hash,
        now,
    )


async def find_active_client(conn: asyncpg.Connection, key_hash: bytes) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, name FROM open311_clients WHERE key_hash = $1 AND revoked_at IS NULL",
        key_hash,
    )


async def revoke_client(conn: asyncpg.Connection, client_id: int, now: dt.datetime) -> bool:
    """False when there is no such client; revoking twice keeps the first moment."""
    found = await conn.fetchval(
        "UPDATE open311_clients SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 "
        "RETURNING id",
        client_id,
        now,
    )
    return found is not None


# ------------------------------------------------------------ public orders


async def orders_by_number(
    conn: asyncpg.Connection, numbers: list[str], *, limit: int
) -> list[asyncpg.Record]:
    """Any channel's orders with these numbers, newest first."""
    return await conn.fetch(
        f"SELECT {PUBLIC_ORDER_COLUMNS} FROM {_PUBLIC_FROM} "
        "WHERE o.number = ANY($1::text[]) ORDER BY o.created_at DESC, o.id DESC LIMIT $2",
        numbers,
        limit,
    )


async def search_orders(
    conn: asyncpg.Connection,
    *,
    channel: str,
    service_codes: list[str],
    start: dt.datetime,
    end: dt.datetime,
    closed_statuses: list[str],
    closed: bool | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Orders of ``channel`` requested in [start, end], newest first; ``closed`` None
    takes both open and closed ones."""
    where = ["o.channel = $1", "o.created_at >= $2", "o.created_at <= $3"]
    args: list[Any] = [channel, start, end]
    if service_codes:
        args.append(service_codes)
        where.append(f"o.service_item_code = ANY(${len(args)}::text[])")
    if closed is not None:
        args += [closed_statuses, closed]
        where.append(f"(o.status = ANY(${len(args) - 1}::text[])) = ${len(args)}")
    args.append(limit)
    return await conn.fetch(
        f"SELECT {PUBLIC_ORDER_COLUMNS} FROM {_PUBLIC_FROM} WHERE {' AND '.join(where)} "
        f"ORDER BY o.created_at DESC, o.id DESC LIMIT ${len(args)}",
        *args,
    )


async def order_id_by_media_url(conn: asyncpg.Connection, media_url: str) -> int | None:
    """The order a stored photo belongs to (a scan: photos are looked at rarely)."""
    return await conn.fetchval("SELECT id FROM work_orders WHERE media_url = $1", media_url)
