"""SQL of the service-item classifier: model versions, training runs, and the orders it
learns from."""

# asyncpg has no type information: what its queries return is Any by nature.
# mypy: disable-error-code="no-any-return"

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

MODEL_FIGURES = """m.id, m.created_at, m.training_id, m.state, m.promoted_at, m.corpus_lines,
    m.order_lines, m.corrections, m.items, m.held_back, m.top1, m.top3, m.baseline_id,
    m.baseline_top1, m.baseline_top3, m.per_item, m.confusions, m.seconds"""

TRAINING_COLUMNS = """t.id, t.reason, t.requested_by, u.display_name AS requested_by_name,
    t.state, t.due_at, t.created_at, t.finished_at, t.model_id, t.error"""


async def training_orders(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every order an agent registered (the item is one an agent confirmed), with the
    item the console suggested first, if it recorded one."""
    return await conn.fetch(
        """
        SELECT description, service_item_code, suggested_item_code, hotline_code, channel
          FROM work_orders
         WHERE registered_by IS NOT NULL AND status <> 'merged'
         ORDER BY id
        """
    )


async def promoted_id(conn: asyncpg.Connection) -> int | None:
    return await conn.fetchval("SELECT id FROM suggest_models WHERE state = 'promoted'")


async def model_blob(conn: asyncpg.Connection, model_id: int, which: str) -> bytes | None:
    column = {"serving": "serving", "evaluated": "evaluated"}[which]
    return await conn.fetchval(f"SELECT {column} FROM suggest_models WHERE id = $1", model_id)


async def lock_promoted(conn: asyncpg.Connection) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, evaluated FROM suggest_models WHERE state = 'promoted' FOR UPDATE"
    )


async def insert_model(conn: asyncpg.Connection, values: dict[str, Any]) -> int:
    columns = ", ".join(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    return await conn.fetchval(
        f"INSERT INTO suggest_models ({columns}) VALUES ({placeholders}) RETURNING id",
        *values.values(),
    )


async def retire(conn: asyncpg.Connection, model_id: int) -> None:
    await conn.execute("UPDATE suggest_models SET state = 'retired' WHERE id = $1", model_id)


async def drop_old_models(conn: asyncpg.Connection, keep: int) -> None:
    """Empty the fitted models of all but the promoted version and the ``keep`` newest
    others (a version is some megabytes, a nightly run a version a day); their figures
    stay."""
    await conn.execute(
        """
        UPDATE suggest_models SET evaluated = '', serving = ''
         WHERE state <> 'promoted' AND octet_length(serving) > 0
           AND id NOT IN (SELECT id FROM suggest_models WHERE state <> 'promoted'
                           ORDER BY id DESC LIMIT $1)
        """,
        keep,
    )


async def list_models(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {MODEL_FIGURES} FROM suggest_models m ORDER BY m.id DESC LIMIT $1", limit
    )


async def lock_training(conn: asyncpg.Connection, training_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, reason, state FROM suggest_trainings WHERE id = $1 FOR UPDATE", training_id
    )


async def insert_training(
    conn: asyncpg.Connection, reason: str, requested_by: int | None, due_at: dt.datetime
) -> asyncpg.Record:
    """A waiting run, or the one already waiting for the same reason."""
    await conn.execute(
        """
        INSERT INTO suggest_trainings (reason, requested_by, due_at, created_at)
        VALUES ($1, $2, $3, now())
        ON CONFLICT (reason) WHERE state IN ('pending', 'enqueued') DO NOTHING
        """,
        reason,
        requested_by,
        due_at,
    )
    row = await conn.fetchrow(
        f"""
        SELECT {TRAINING_COLUMNS} FROM suggest_trainings t
          LEFT JOIN users u ON u.id = t.requested_by
         WHERE t.reason = $1 AND t.state IN ('pending', 'enqueued')
        """,
        reason,
    )
    assert row is not None
    return row


async def finish_training(
    conn: asyncpg.Connection,
    training_id: int,
    now: dt.datetime,
    *,
    model_id: int | None,
    error: str | None,
) -> None:
    await conn.execute(
        """
        UPDATE suggest_trainings
           SET state = CASE WHEN $4::text IS NULL THEN 'done' ELSE 'failed' END,
               finished_at = $2, model_id = $3, error = $4, lease_until = NULL
         WHERE id = $1
        """,
        training_id,
        now,
        model_id,
        error,
    )


async def list_trainings(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT {TRAINING_COLUMNS} FROM suggest_trainings t
          LEFT JOIN users u ON u.id = t.requested_by
         ORDER BY t.id DESC LIMIT $1
        """,
        limit,
    )


async def get_training(conn: asyncpg.Connection, training_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        SELECT {TRAINING_COLUMNS} FROM suggest_trainings t
          LEFT JOIN users u ON u.id = t.requested_by
         WHERE t.id = $1
        """,
        training_id,
    )
