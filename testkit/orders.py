"""Orders made the quick way for tests and benchmarks: a row standing in any status, as
if earlier moves had happened, with none of the use cases' checks, events or outbox rows
(production code always goes through ``hotline.orders.service``)."""

from __future__ import annotations

from typing import Any

import asyncpg

from hotline.orders.queries import ORDER_COLUMNS
from hotline.words import shared_words


async def insert_order(conn: asyncpg.Connection, values: dict[str, Any]) -> asyncpg.Record:
    """The row as given, with its words for the search as every write of an order
    leaves them (else the relay's backfill would find it, as an order of before them)."""
    columns = list(values)
    placeholders = [f"${i}" for i in range(1, len(columns) + 1)]
    texts = [values.get(name) or "" for name in ("description", "address", "caller_name")]
    columns.append("search_words")
    placeholders.append(f"to_tsvector('simple', ${len(columns)})")
    row = await conn.fetchrow(
        f"INSERT INTO work_orders AS o ({', '.join(columns)}) VALUES ({', '.join(placeholders)}) "
        f"RETURNING {ORDER_COLUMNS}",
        *values.values(),
        shared_words().for_index(*texts),
    )
    assert row is not None
    return row
