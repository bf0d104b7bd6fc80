"""Orders made the quick way for tests and benchmarks: a row standing in any status, as
if earlier moves had happened, with none of the use cases' checks, events or outbox rows
(production code always goes through ``hotline.orders.service``)."""

from __future__ import annotations

from typing import Any

import asyncpg

from hotline.orders.queries import ORDER_COLUMNS


async def insert_order(conn: asyncpg.Connection, values: dict[str, Any]) -> asyncpg.Record:
    columns = list(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    row = await conn.fetchrow(
        f"INSERT INTO work_orders AS o ({', '.join(columns)}) VALUES ({placeholders}) "
        f"RETURNING {ORDER_COLUMNS}",
        *values.values(),
    )
    assert row is not None
    return row
