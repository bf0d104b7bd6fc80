"""From an exchanged order's history to the messages its platform must see.

A relay chore (``exchange_chore``) reads the order event stream past its cursor, up to
the stream's horizon (hotline/stream/horizon.py: no event can still commit below it),
keeps the events of exchanged orders, and writes one message per event the platform
must see, in the transaction that moves the cursor: an event becomes a message once,
whichever relay reads it, and an order's messages are numbered in the order of its
events. Nothing is sent here (integrations/exchange/delivery.py sends).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import asyncpg

from hotline.relay import Chore
from hotline.stream.horizon import Horizon
from integrations.exchange import queries

ATTACHMENT_PATH = "/exchange/v1/{platform}/attachments/{attachment_id}"


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)


def _text(value: Any) -> str:
    """An event's text: plain, or stored in both languages (the platform reads Chinese)."""
    if isinstance(value, dict):
        return str(value.get("zh") or value.get("zh-CN") or next(iter(value.values()), ""))
    return "" if value is None else str(value)


def _transfer_order(data: dict[str, Any]) -> dict[str, Any]:
    return dict(data.get("order") or {})


# An event's type -> (the platform's event, what the message says beyond the common
# fields). Events not listed (the ladder's warnings, notes kept inside the centre, the
# centre's own moves) stay here.
Describe = Callable[[asyncpg.Record, dict[str, Any]], dict[str, Any] | None]


def _accepted(row: asyncpg.Record, data: dict[str, Any]) -> dict[str, Any] | None:
    return {"unit": row["unit_name"]}


def _progress(row: asyncpg.Record, data: dict[str, Any]) -> dict[str, Any] | None:
    if not data.get("public", True):
        return None  # a note the unit kept for the centre
    return {"unit": row["unit_name"], "text": _text(data.get("text")), "attachments": []}


def _time_requested(row: asyncpg.Record, data: dict[str, Any]) -> dict[str, Any]:
    kind = row["type"].split(".", 1)[1]
    return {
        "unit": row["unit_name"],
        "kind": kind,
        "reason": _text(data.get("reason")),
        "due_at": data.get("requested_due_at"),
    }


def _time_decided(row: asyncpg.Record, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": data.get("kind"),
        "decision": row["type"].split(".", 1)[1],
        "reason": _text(data.get("note")),
        "due_at": data.get("due_at"),
    }


def _completed(row: asyncpg.Record, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "unit": row["unit_name"],
        "text": _text(data.get("reply")) or (row["reply"] or ""),
        "attachments": [],
        "late": bool(data.get("late")),
    }


def _rated(row: asyncpg.Record, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "solved": data.get("solved"),
        "rating": data.get("rating"),
        "level": data.get("level") or None,
        "comment": _text(data.get("comment")),
    }


def _returned(row: asyncpg.Record, data: dict[str, Any]) -> dict[str, Any] | None:
    if row["direction"] == "out":
        return None  # an order of ours transferred: the transfer says it all
    return {"reason": _text(data.get("reason"))}


def _transferred(row: asyncpg.Record, data: dict[str, Any]) -> dict[str, Any] | None:
    if row["direction"] == "in":
        return None  # given back: ``_returned`` above
    return {"reason": _text(data.get("reason")), "order": _transfer_order(data)}


def _plain(row: asyncpg.Record, data: dict[str, Any]) -> dict[str, Any]:
    return {}


RULES: dict[str, tuple[str, Describe]] = {
    "order.sign_for": ("accepted", _accepted),
    "dispatch.note": ("progress", _progress),
    "time_request.extension": ("time_requested", _time_requested),
    "time_request.suspension": ("time_requested", _time_requested),
    "time_request.approved": ("time_decided", _time_decided),
    "time_request.rejected": ("time_decided", _time_decided),
    "order.complete": ("completed", _completed),
    "callback.answered": ("rated", _rated),
    "order.close": ("closed", _plain),
    "order.reopen": ("reopened", _plain),
}
# The same event type means "given back" for an order received, "passed on" for ours.
TRANSFER_RULES: dict[str, tuple[str, Describe]] = {
    "in": ("returned", _returned),
    "out": ("transferred", _transferred),
}


def message_of(row: asyncpg.Record) -> tuple[str, dict[str, Any]] | None:
    """The platform's event and message (by our names) for one event of an exchanged
    order; None when the platform is not told of it."""
    if row["type"] == "order.transfer":
        rule = TRANSFER_RULES[row["direction"]]
    elif row["type"] in RULES:
        rule = RULES[row["type"]]
    else:
        return None
    event, describe = rule
    # An event's data is an object; anything else (written by hand) says nothing more.
    data = row["data"] if isinstance(row["data"], dict) else {}
    said = describe(row, data)
    if said is None:
        return None
    key = f"event:{row['seq']}"
    return event, {
        "message": key,
        "event": event,
        "number": row["platform_number"],
        "our_number": row["our_number"],
        "at": _iso(row["created_at"]),
        "classification": row["classification_code"],
        **said,
    }


async def _with_attachments(
    conn: asyncpg.Connection, row: asyncpg.Record, message: dict[str, Any]
) -> dict[str, Any]:
    """The proof a completion or a progress note carries, as links the platform fetches
    with its own signature (integrations/exchange/views.py)."""
    data = row["data"] if isinstance(row["data"], dict) else {}
    ids = data.get("attachment_ids") or []
    if "attachments" not in message or not ids:
        return message
    return {
        **message,
        "attachments": [
            {
                "name": a["filename"],
                "content_type": a["content_type"],
                "url": ATTACHMENT_PATH.format(platform=row["platform_code"], attachment_id=a["id"]),
            }
            for a in await queries.attachment_links(conn, ids)
        ],
    }


async def feed_once(conn: asyncpg.Connection, safe: int, batch: int) -> int:
    """Turn the events up to ``safe`` past the cursor (at most ``batch`` of exchanged
    orders) into messages, and move the cursor, in one transaction; returns how many
    events of exchanged orders were read."""
    async with conn.transaction():
        cursor = await queries.lock_cursor(conn)
        if safe <= cursor:
            return 0
        rows = await queries.exchanged_events(conn, after=cursor, upto=safe, limit=batch)
        for row in rows:
            found = message_of(row)
            if found is None:
                continue
            event, message = found
            await queries.lock_order_messages(conn, row["order_id"])
            await queries.insert_message(
                conn,
                order_id=row["order_id"],
                platform=row["platform_code"],
                event=event,
                effect_key=message["message"],
                payload=await _with_attachments(conn, row, message),
            )
        # A full batch stops at its last event; otherwise every event up to ``safe``
        # has been seen.
        await queries.save_cursor(conn, rows[-1]["seq"] if len(rows) >= batch else safe)
        return len(rows)


class Feeder:
    """The chore's state in one relay: the stream's horizon, advanced on each pass."""

    def __init__(self) -> None:
        self.horizon: Horizon | None = None

    async def run(self, conn: asyncpg.Connection, batch: int) -> int:
        if self.horizon is None:
            self.horizon = Horizon(await conn.fetchval("SELECT seq FROM exchange_cursor"))
        safe = await self.horizon.advance(conn)
        return await feed_once(conn, safe, batch)


def exchange_chore() -> Chore:
    """The relay's chore that turns exchanged orders' events into messages."""
    return Chore("exchange_feed", Feeder().run, batch=500)
