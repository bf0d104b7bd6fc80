"""The outbox handler that turns a dispatch into a webhook delivery row.

It runs inside the transaction that marks the outbox row done and only writes a row;
nothing is sent here. The delivery's unique effect key makes a repeated run (the outbox
job retried after a later failure) a no-op.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from hotline.context import JobContext
from hotline.outbox.handlers import topics
from integrations.enterprise_webhooks import queries

DISPATCH_CREATED = "dispatch.created"


def effect_key(event: str, subject_id: int) -> str:
    """The natural key of one effect, the same as the outbox key that caused it."""
    return f"{event}:{subject_id}"


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def dispatch_created_payload(row: asyncpg.Record, key: str) -> dict[str, Any]:
    """The JSON an enterprise receives for a new dispatch (``row``: ``dispatch_details``)."""
    return {
        "event": DISPATCH_CREATED,
        "delivery": key,
        "order": {
            "id": row["order_id"],
            "number": row["number"],
            "hotline": row["hotline_code"],
            "service_item": row["service_item_code"],
            "service_item_name": row["service_item_name"],
            "kind": row["kind"],
            "priority": row["priority"],
            "area": row["area_code"],
            "address": row["address"],
            "description": row["description"],
            "caller_name": row["caller_name"],
            "caller_phone": row["caller_phone"],
            "resolution_due_at": _iso(row["resolution_due_at"]),
        },
        "dispatch": {
            "id": row["dispatch_id"],
            "role": row["role"],
            "sign_for_due_at": _iso(row["sign_for_due_at"]),
            "reason": row["reason"],
        },
    }


async def on_dispatch_created(
    conn: asyncpg.Connection, payload: dict[str, Any], ctx: JobContext
) -> None:
    """Outbox handler for ``dispatch.created`` (payload: dispatch_id, order_id, enterprise_id).

    Inserts one pending delivery when the dispatch's enterprise has a webhook URL and
    secret; does nothing otherwise, or when the delivery already exists. Raises
    ``LookupError`` if the dispatch is missing (the outbox row then retries and fails
    visibly rather than dropping the effect)."""
    dispatch_id = int(payload["dispatch_id"])
    row = await queries.dispatch_details(conn, dispatch_id)
    if row is None:
        raise LookupError(f"dispatch {dispatch_id} does not exist")
    if not (row["webhook_url"] and row["webhook_secret"]):
        return
    key = effect_key(DISPATCH_CREATED, dispatch_id)
    await queries.insert_delivery(
        conn,
        effect_key=key,
        enterprise_id=row["enterprise_id"],
        url=row["webhook_url"],
        event=DISPATCH_CREATED,
        payload=dispatch_created_payload(row, key),
    )


def subscribe() -> None:
    """Hang the handler on its outbox topic (idempotent: the registry ignores a repeat)."""
    topics.subscribe(DISPATCH_CREATED, on_dispatch_created)
