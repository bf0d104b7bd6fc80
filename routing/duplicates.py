"""重复件: orders about the same thing. Registration suggests them; an agent or a
supervisor merges a child into its parent, and every caller is still called back."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from hotline import i18n
from hotline.deadlines import queries as deadline_queries
from hotline.errors import Conflict, InvalidInput
from hotline.orders.lifecycle import DONE, FINAL
from hotline.orders.service import access_order_by_id, do_transition, record_event
from hotline.settings import Settings
from hotline.users.models import Actor
from routing import queries
from routing.dispatch import lock_order

_NOT_OPEN = sorted(s.value for s in FINAL | DONE)


async def find_duplicates(
    conn: asyncpg.Connection, order: asyncpg.Record, settings: Settings
) -> list[dict[str, Any]]:
    """Open orders registered within the window with the same item and area and a
    similar address, or from the same caller; each with why it matched."""
    rows = await queries.possible_duplicates(
        conn,
        order_id=order["id"],
        item_code=order["service_item_code"],
        area_code=order["area_code"],
        address=order["address"],
        citizen_id=order["citizen_id"],
        since=order["created_at"] - dt.timedelta(hours=settings.duplicate_window_hours),
        similarity=settings.duplicate_similarity,
        excluded_statuses=_NOT_OPEN,
    )
    found = []
    for row in rows:
        reasons = []
        if row["same_caller"]:
            reasons.append("same caller")
        if row["service_item_code"] == order["service_item_code"] and (
            row["address_similarity"] >= settings.duplicate_similarity
        ):
            reasons.append(f"same item and area, address {row['address_similarity']:.0%} alike")
        found.append(
            {
                "id": row["id"],
                "number": row["number"],
                "status": row["status"],
                "address": row["address"],
                "created_at": row["created_at"],
                "reasons": reasons,
            }
        )
    return found


async def do_merge(
    conn: asyncpg.Connection,
    actor: Actor | None,
    child_id: int,
    parent_id: int,
    now: dt.datetime,
    *,
    reason: str = "",
) -> asyncpg.Record:
    """Fold ``child_id`` into ``parent_id``: the child stops (clocks cancelled, open
    dispatches withdrawn) and points at the parent, whose history names the caller."""
    if child_id == parent_id:
        raise InvalidInput(
            "an order cannot be merged into itself",
            code="invalid_merge",
            fields={"parent_id": "same as the order"},
        )
    if actor is not None:
        await access_order_by_id(conn, actor, child_id)
        await access_order_by_id(conn, actor, parent_id)
    # Lock in id order so two merges of the same pair cannot deadlock.
    first, second = sorted((child_id, parent_id))
    locked = {first: await lock_order(conn, first), second: await lock_order(conn, second)}
    child, parent = locked[child_id], locked[parent_id]
    if parent["status"] in FINAL or parent["parent_id"] is not None:
        raise Conflict(
            "the parent must be an open order that is not itself merged", code="invalid_parent"
        )
    merged = await do_transition(
        conn,
        child,
        "merge",
        actor,
        now,
        changes={"parent_id": parent_id},
        data={"parent_id": parent_id, "parent_number": parent["number"], "reason": reason},
    )
    await deadline_queries.cancel_open(conn, child_id)
    await queries.withdraw_open_dispatches(
        conn, child_id, now, reason=i18n.Text("Merged into {number}", number=parent["number"])
    )
    await record_event(
        conn,
        parent_id,
        "order.child_merged",
        actor,
        now,
        data={
            "child_id": child_id,
            "child_number": child["number"],
            "caller_phone": child["caller_phone"],
            "caller_name": child["caller_name"],
            "reason": reason,
        },
    )
    return merged
