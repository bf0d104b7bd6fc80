"""What administrators changed (admin_changes, migration 0047): one row per change of
one thing, with who, when, and its state before and after. Written in the change's own
transaction, so a change and its record commit together or not at all."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg


def _document(state: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if state is None else dict(state)


async def record_change(
    conn: asyncpg.Connection,
    *,
    user_id: int | None,
    entity: str,
    key: str,
    action: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Note a change of ``entity`` ``key`` (leave secrets out of ``before``/``after``)."""
    await conn.execute(
        """
        INSERT INTO admin_changes (user_id, entity, entity_key, action, before, after)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        user_id,
        entity,
        key,
        action,
        _document(before),
        _document(after),
    )


async def list_changes(
    conn: asyncpg.Connection,
    *,
    entity: str | None = None,
    key: str | None = None,
    limit: int = 100,
) -> list[asyncpg.Record]:
    """The latest changes, newest first, of one entity (and key) or of all."""
    return list(
        await conn.fetch(
            """
        SELECT c.id, c.at, c.user_id, u.username, c.entity, c.entity_key, c.action,
               c.before, c.after
          FROM admin_changes c LEFT JOIN users u ON u.id = c.user_id
         WHERE ($1::text IS NULL OR c.entity = $1) AND ($2::text IS NULL OR c.entity_key = $2)
         ORDER BY c.at DESC, c.id DESC
         LIMIT $3
        """,
            entity,
            key,
            limit,
        )
    )
