"""重复件: orders about the same thing. Registration suggests them; an agent or a
supervisor merges a child into its parent, and every caller is still called back."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
from pydantic import ConfigDict, Field

from hotline import i18n
from hotline.callers.queries import citizen_by_phone
from hotline.deadlines import queries as deadline_queries
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.orders.lifecycle import DONE, FINAL
from hotline.orders.queries import get_order
from hotline.orders.service import (
    access_order_by_id,
    do_transition,
    hotline_scope,
    record_event,
)
from hotline.phones import normalize_phone
from hotline.reference.cache import reference
from hotline.settings import Settings
from hotline.users.models import Actor
from hotline.vocabulary import RenamedFields, renamed
from routing import queries
from routing.dispatch import lock_order
from routing.rules import area_chain

_NOT_OPEN = sorted(s.value for s in FINAL | DONE)
_UTILITIES = ("water", "gas", "heating")


class CandidateQuery(RenamedFields):
    """What the agent has typed so far of an order not registered yet."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    service_item: str = Field(
        min_length=1, max_length=32, validation_alias=renamed("service_item_code", "service_item")
    )
    area: str | None = Field(
        default=None, max_length=16, validation_alias=renamed("area_code", "area")
    )
    address: str = Field(default="", max_length=300)
    caller_phone: str | None = Field(default=None, max_length=32)


async def find_duplicates(
    conn: asyncpg.Connection, actor: Actor, order: asyncpg.Record, settings: Settings
) -> list[dict[str, Any]]:
    """Open orders ``actor`` may see registered within the window with the same item and
    area and a similar address, or from the same caller; each with why it matched."""
    return await _similar(
        conn,
        order_id=order["id"],
        item_code=order["service_item_code"],
        area_code=order["area_code"],
        address=order["address"],
        citizen_id=order["citizen_id"],
        since=order["created_at"] - dt.timedelta(hours=settings.duplicate_window_hours),
        settings=settings,
        hotlines=hotline_scope(actor),
    )


async def candidates_before_registration(
    conn: asyncpg.Connection,
    actor: Actor,
    query: CandidateQuery,
    settings: Settings,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """What an order about to be registered would duplicate, so that the agent merges
    it at once instead of registering one that is dispatched and then withdrawn: the
    running outage's parent order of the item's utility in the area first, then the
    open orders ``find_duplicates`` would find."""
    citizen = None
    if query.caller_phone:
        try:
            citizen = await citizen_by_phone(conn, normalize_phone(query.caller_phone))
        except InvalidInput:
            citizen = None  # the phone is still being typed
    found = await _similar(
        conn,
        order_id=None,
        item_code=query.service_item,
        area_code=query.area,
        address=query.address,
        citizen_id=citizen["id"] if citizen else None,
        since=now - dt.timedelta(hours=settings.duplicate_window_hours),
        settings=settings,
        hotlines=hotline_scope(actor),
    )
    outage = await running_outage(conn, query.service_item, query.area, now, lock=False)
    parent = await open_parent(conn, outage["parent_order_id"]) if outage else None
    if outage is None or parent is None or not actor.sees_hotline(parent["hotline_code"]):
        return found
    match = {"kind": "outage", "title": outage["title"]}
    same = next((f for f in found if f["id"] == parent["id"]), None)
    if same is not None:
        same["matches"].insert(0, match)
        same["reasons"].insert(0, f"outage: {outage['title']}")
        return [same, *(f for f in found if f is not same)]
    entry = _candidate(parent, [match], [f"outage: {outage['title']}"])
    return [entry, *found]


async def running_outage(
    conn: asyncpg.Connection,
    item_code: str | None,
    area_code: str | None,
    now: dt.datetime,
    *,
    lock: bool,
) -> asyncpg.Record | None:
    """The running outage of the item's utility (water, gas, heating) covering the area
    or its district, locked for linking if ``lock``."""
    item = await reference.item(conn, item_code) if item_code else None
    areas = await area_chain(conn, area_code)
    if item is None or item["domain"] not in _UTILITIES or not areas:
        return None
    return await queries.active_outage_for(
        conn, domain=item["domain"], areas=areas, at=now, for_update=lock
    )


async def open_parent(conn: asyncpg.Connection, order_id: int | None) -> asyncpg.Record | None:
    """The order at the end of ``order_id``'s merge chain, if its work is still to be
    done: merging into one completed or closed would leave the caller without a
    callback (``order.completed`` has been handled)."""
    root = await queries.merge_root(conn, order_id) if order_id is not None else None
    parent = await get_order(conn, root) if root is not None else None
    return parent if parent is not None and parent["status"] not in _NOT_OPEN else None


async def _similar(
    conn: asyncpg.Connection,
    *,
    order_id: int | None,
    item_code: str,
    area_code: str | None,
    address: str,
    citizen_id: int | None,
    since: dt.datetime,
    settings: Settings,
    hotlines: list[str] | None,
) -> list[dict[str, Any]]:
    rows = await queries.possible_duplicates(
        conn,
        order_id=order_id,
        item_code=item_code,
        area_code=area_code,
        address=address,
        citizen_id=citizen_id,
        since=since,
        similarity=settings.duplicate_similarity,
        excluded_statuses=_NOT_OPEN,
        hotlines=hotlines,
    )
    found = []
    for row in rows:
        # ``matches`` for the console to word; ``reasons`` as the API gave them before.
        matches: list[dict[str, Any]] = []
        reasons = []
        if row["same_caller"]:
            matches.append({"kind": "same_caller"})
            reasons.append("same caller")
        if row["service_item_code"] == item_code and (
            row["address_similarity"] >= settings.duplicate_similarity
        ):
            alike = round(float(row["address_similarity"]), 2)
            matches.append({"kind": "similar_address", "similarity": alike})
            reasons.append(f"same item and area, address {row['address_similarity']:.0%} alike")
        found.append(_candidate(row, matches, reasons))
    return found


def _candidate(
    row: asyncpg.Record, matches: list[dict[str, Any]], reasons: list[str]
) -> dict[str, Any]:
    return {
        "id": row["id"],
        "number": row["number"],
        "status": row["status"],
        "address": row["address"],
        "created_at": row["created_at"],
        "matches": matches,
        "reasons": reasons,
    }


async def do_merge(
    conn: asyncpg.Connection,
    actor: Actor | None,
    child_id: int,
    parent_id: int,
    now: dt.datetime,
    *,
    reason: str = "",
) -> asyncpg.Record:
    """Fold ``child_id`` into ``parent_id``, or into the order ``parent_id`` is itself
    merged into (to the end of the chain, as callers are called back from there): the
    child stops (clocks cancelled, open dispatches withdrawn) and points at the parent,
    whose history names the caller."""
    if actor is not None:
        await access_order_by_id(conn, actor, child_id)
        await access_order_by_id(conn, actor, parent_id)
    root = await queries.merge_root(conn, parent_id)
    if root is None:
        raise NotFound("order {order_id} not found", order_id=parent_id)
    if child_id == root:
        raise InvalidInput(
            "an order cannot be merged into itself",
            code="invalid_merge",
            fields={"parent_id": "same as the order, or merged into it"},
        )
    # Lock in id order so two merges of the same pair cannot deadlock.
    first, second = sorted((child_id, root))
    locked = {first: await lock_order(conn, first), second: await lock_order(conn, second)}
    child, parent = locked[child_id], locked[root]
    if parent["status"] in _NOT_OPEN or parent["parent_id"] is not None:
        # Done, closed or cancelled (its callers' callbacks are scheduled once, at its
        # completion), or merged meanwhile by another request.
        raise Conflict(
            "the parent must be an open order that is not itself merged", code="invalid_parent"
        )
    merged = await do_transition(
        conn,
        child,
        "merge",
        actor,
        now,
        changes={"parent_id": root},
        data={"parent_id": root, "parent_number": parent["number"], "reason": reason},
    )
    await deadline_queries.cancel_open(conn, child_id)
    await queries.withdraw_open_dispatches(
        conn, child_id, now, reason=i18n.Text("Merged into {number}", number=parent["number"])
    )
    await record_event(
        conn,
        root,
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
