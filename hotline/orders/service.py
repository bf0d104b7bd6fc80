"""Work orders: check_* validates and authorises, do_* changes state, access_* loads.

Every do_* runs inside the caller's transaction and writes the order, its event, its
deadlines and its outbox rows together; nothing leaves the database before commit. The
outbox rows are the ones the lifecycle declares for each move (lifecycle.ANNOUNCED).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from hotline import i18n
from hotline.deadlines import limits
from hotline.deadlines import queries as deadline_queries
from hotline.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.knowledge.service import record_answer
from hotline.orders import queries
from hotline.orders.lifecycle import (
    ANNOUNCED,
    BORN,
    OPEN,
    ORDER_DRAFTED,
    ORDER_REGISTERED,
    Announcement,
    Status,
    next_status,
)
from hotline.orders.models import ConfirmDraft, NewDraft, NewOrder
from hotline.orders.searching import index_words
from hotline.outbox import queries as outbox
from hotline.phones import normalize_phone
from hotline.reference import queries as ref
from hotline.reference.cache import reference
from hotline.users.models import Actor
from hotline.vocabulary import RenamedFields
from hotline.workcal import WorkingCalendar

# Deadline kinds the core sets at registration; the routing engine adds its own.
CLOCKS: tuple[limits.Clock, ...] = ("first_contact", "resolution")
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Registration:
    order: asyncpg.Record
    created: bool  # False when a retried request found the order it made before


async def record_event(
    conn: asyncpg.Connection,
    order_id: int,
    type: str,
    actor: Actor | None,
    now: dt.datetime,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    data: dict[str, Any] | None = None,
) -> asyncpg.Record:
    """Append to the order's history; ``actor`` None is the system itself. A value of
    ``data`` may be an ``i18n.Text``, read later in either language."""
    return await queries.insert_event(
        conn,
        order_id=order_id,
        type=type,
        actor_user_id=actor.user_id if actor else None,
        actor=actor.label() if actor else "system",
        from_status=from_status,
        to_status=to_status,
        data=i18n.store_texts(data or {}),
        now=now,
    )


def check_can_register(actor: Actor) -> None:
    if not actor.is_centre:
        raise Forbidden("only the hotline centre registers orders", code="not_centre")


async def _check_references(
    conn: asyncpg.Connection,
    order: NewOrder | NewDraft,
    *,
    message: str,
    code: str,
) -> tuple[asyncpg.Record | None, str | None]:
    """The service item (None when none is named) and the E.164 caller phone, or
    ``InvalidInput`` naming every field at fault: the hotline, an item unknown or
    retired, the area, the phone."""
    # A field at fault is named as the client sent it (an API body may use old names).
    name = order.sent_name if isinstance(order, RenamedFields) else str
    fields: dict[str, str | i18n.Text] = {}
    if await reference.hotline(conn, order.hotline) is None:
        fields[name("hotline")] = "unknown hotline"
    item = await reference.item(conn, order.service_item) if order.service_item else None
    if order.service_item and (item is None or not item["active"]):
        fields[name("service_item")] = "unknown or retired service item"
    if order.area and not _in_use(await reference.area(conn, order.area)):
        fields[name("area")] = "unknown or retired area"
    if order.call_id is not None and not await queries.call_exists(conn, order.call_id):
        fields["call_id"] = "unknown call"
    phone = None
    if order.caller_phone:
        try:
            phone = normalize_phone(order.caller_phone)
        except InvalidInput as exc:
            fields["caller_phone"] = exc.fields["phone"]
    if fields:
        raise InvalidInput(message, code=code, fields=fields)
    return item, phone


async def check_new_order(
    conn: asyncpg.Connection, new: NewOrder
) -> tuple[asyncpg.Record, str | None]:
    """Validate references; returns the service item and the E.164 caller phone."""
    item, phone = await _check_references(
        conn, new, message="the order cannot be registered", code="invalid_order"
    )
    assert item is not None, "a new order always names its service item"
    return item, phone


async def do_register_order(
    conn: asyncpg.Connection,
    actor: Actor,
    new: NewOrder,
    calendar: WorkingCalendar,
    now: dt.datetime,
    *,
    due_by: Mapping[str, dt.datetime] | None = None,
) -> Registration:
    """受理: the order, its first event, its clocks and an outbox row, in one transaction.

    ``due_by``: moments a clock must run out by at the latest (an order received from
    another platform keeps that platform's limits where they are the stricter); kept
    with the order's limits, so that its later clocks honour them too
    (hotline.deadlines.limits)."""
    check_can_register(actor)
    if new.client_request_id and actor.user_id is not None:
        await queries.lock_client_request(conn, actor.user_id, new.client_request_id)
        existing = await queries.find_by_client_request(conn, actor.user_id, new.client_request_id)
        if existing is not None:
            return Registration(existing, created=False)
    if not actor.sees_hotline(new.hotline):
        raise InvalidInput(
            "the order cannot be registered",
            code="invalid_order",
            fields={new.sent_name("hotline"): "not one of your hotlines"},
        )
    item, phone = await check_new_order(conn, new)
    kept = limits.snapshot(item, latest=due_by)
    due = clock_dues(kept, new.priority, calendar, now)
    order = await _insert_new(
        conn,
        actor,
        calendar.tz,
        now,
        ORDER_REGISTERED,
        _registration_data(item, new.priority, due),
        {
            "hotline_code": new.hotline,
            "channel": new.channel,
            "kind": new.kind or item["kind"],
            "service_item_code": item["code"],
            "area_code": new.area,
            "address": new.address,
            "description": new.description,
            "priority": new.priority,
            "hard_case": new.hard_case,
            "tried_elsewhere": new.tried_elsewhere if new.hard_case else "",
            "status": Status.REGISTERED.value,
            "caller_phone": phone,
            "caller_name": new.caller_name,
            "registered_by": actor.user_id,
            "client_request_id": new.client_request_id,
            "resolution_due_at": due["resolution"],
            "time_limits": kept,
            "call_id": new.call_id,
            "suggested_item_code": new.suggested_item,
        },
    )
    await _start_clocks(conn, order["id"], due, now)
    return Registration(order, created=True)


def _in_use(row: asyncpg.Record | None) -> bool:
    """A reference row a new order may name: it exists and is not retired."""
    return row is not None and bool(row["active"])


def clock_dues(
    item: limits.Limits, priority: str, calendar: WorkingCalendar, start: dt.datetime
) -> dict[str, dt.datetime]:
    """When each of the core's clocks runs out for an order of ``item`` and ``priority``
    started at ``start`` (hotline.deadlines.limits: urgent orders on natural hours)."""
    return {clock: limits.due_at(item, clock, priority, calendar, start) for clock in CLOCKS}


def _registration_data(
    item: asyncpg.Record, priority: str, due: dict[str, dt.datetime]
) -> dict[str, Any]:
    return {
        "service_item": item["code"],
        "service_item_name": item["name_zh"],
        "limits": "urgent" if limits.runs_urgent(item, priority) else "normal",
        "due": {clock: due_at.isoformat() for clock, due_at in due.items()},
    }


async def _insert_new(
    conn: asyncpg.Connection,
    actor: Actor | None,
    tz: ZoneInfo,
    now: dt.datetime,
    event_type: str,
    data: dict[str, Any],
    values: dict[str, Any],
) -> asyncpg.Record:
    """Insert an order with the next number of its hotline for the local day, of the
    citizen at ``values["caller_phone"]``, its first event (the number added to
    ``data``) and the outbox row its birth announces (lifecycle.BORN)."""
    phone = values["caller_phone"]
    words = await index_words(values["description"], values["address"], values["caller_name"])
    return await queries.insert_new_order(
        conn,
        {**values, "created_at": now, "updated_at": now},
        caller=(phone, values["caller_name"]) if phone else None,
        day=now.astimezone(tz).date(),
        event_type=event_type,
        topic=BORN[Status(values["status"])].topic,
        actor_user_id=actor.user_id if actor else None,
        actor=actor.label() if actor else "system",
        data=data,
        search_words=words,
    )


async def _start_clocks(
    conn: asyncpg.Connection, order_id: int, due: dict[str, dt.datetime], now: dt.datetime
) -> None:
    """The order is registered: its deadlines."""
    for clock, due_at in due.items():
        await deadline_queries.insert(conn, order_id=order_id, kind=clock, due_at=due_at, now=now)


async def do_register_draft(
    conn: asyncpg.Connection,
    draft: NewDraft,
    now: dt.datetime,
    *,
    tz: ZoneInfo = DEFAULT_TZ,
) -> asyncpg.Record:
    """A draft from a channel (SMS, a recorded message, Open311, the web form): numbered
    and kept, no clock yet; an agent confirms it (``do_confirm_draft``). The caller of
    this function deduplicates deliveries (MessageSid, RecordingSid...)."""
    item, phone = await _check_references(
        conn, draft, message="the report cannot be taken", code="invalid_draft"
    )
    # The agents' consoles learn of it live through the outbox row, once this commits.
    return await _insert_new(
        conn,
        None,
        tz,
        now,
        ORDER_DRAFTED,
        {"channel": draft.channel},
        {
            "hotline_code": draft.hotline,
            "channel": draft.channel,
            "kind": item["kind"] if item else None,
            "service_item_code": item["code"] if item else None,
            "area_code": draft.area,
            "address": draft.address,
            "description": draft.description,
            "status": Status.DRAFT.value,
            "caller_phone": phone,
            "caller_name": draft.caller_name,
            "media_url": draft.media_url,
            "latitude": draft.latitude,
            "longitude": draft.longitude,
            "reporter_email": draft.reporter_email,
            "call_id": draft.call_id,
            "hard_case": draft.hard_case,
            "tried_elsewhere": draft.tried_elsewhere if draft.hard_case else "",
        },
    )


async def do_confirm_draft(
    conn: asyncpg.Connection,
    actor: Actor,
    order_id: int,
    confirm: ConfirmDraft,
    calendar: WorkingCalendar,
    now: dt.datetime,
) -> asyncpg.Record:
    """An agent completes a draft: it is registered, its clocks start from the moment the
    citizen reached us (the draft's creation), and routing takes it."""
    check_can_register(actor)
    draft = await access_order_by_id(conn, actor, order_id, for_update=True)
    item = await ref.get_service_item(conn, confirm.service_item)
    fields: dict[str, str] = {}
    if item is None or not item["active"]:
        fields[confirm.sent_name("service_item")] = "unknown or retired service item"
    if confirm.area and not _in_use(await ref.get_area(conn, confirm.area)):
        fields[confirm.sent_name("area")] = "unknown or retired area"
    hard_case = draft["hard_case"] if confirm.hard_case is None else confirm.hard_case
    tried = draft["tried_elsewhere"] if confirm.tried_elsewhere is None else confirm.tried_elsewhere
    if hard_case and not tried:
        fields[confirm.sent_name("tried_elsewhere")] = "say where the citizen already tried"
    if fields:
        raise InvalidInput("the draft cannot be confirmed", code="invalid_order", fields=fields)
    assert item is not None
    due = clock_dues(item, confirm.priority, calendar, draft["created_at"])
    order = await do_transition(
        conn,
        draft,
        "confirm",
        actor,
        now,
        changes={
            "service_item_code": item["code"],
            "kind": confirm.kind or item["kind"],
            "area_code": confirm.area,
            "address": confirm.address if confirm.address is not None else draft["address"],
            "description": confirm.description or draft["description"],
            "caller_name": confirm.caller_name or draft["caller_name"],
            "priority": confirm.priority,
            "hard_case": hard_case,
            "tried_elsewhere": tried if hard_case else "",
            "registered_by": actor.user_id,
            "resolution_due_at": due["resolution"],
            "time_limits": limits.snapshot(item),
            "suggested_item_code": confirm.suggested_item,
        },
        data={"number": draft["number"], **_registration_data(item, confirm.priority, due)},
    )
    await _start_clocks(conn, order_id, due, now)
    texts = (order["description"], order["address"], order["caller_name"])
    if texts != (draft["description"], draft["address"], draft["caller_name"]):
        await queries.set_search_words(conn, order_id, await index_words(*texts))
    return order


async def do_change_priority(
    conn: asyncpg.Connection,
    actor: Actor,
    order: asyncpg.Record,
    priority: str,
    calendar: WorkingCalendar,
    now: dt.datetime,
) -> asyncpg.Record:
    """紧急 set or lifted on an open order the caller has locked: the core's clocks run
    again from registration on the limits of the new priority (the resolution due, unless
    an agreed one replaced it, and the first-contact deadline while it is open). The
    caller (routing) moves the sign-for and ladder deadlines that follow."""
    check_can_register(actor)
    if order["status"] not in OPEN:
        raise Conflict(
            "only an open order's priority can change (a draft takes it when confirmed)",
            code="order_not_open",
        )
    kept = limits.of_order(order)
    due = clock_dues(kept, priority, calendar, order["created_at"])
    updated = await queries.set_priority(conn, order["id"], priority, due["resolution"], now)
    if await deadline_queries.cancel_open(conn, order["id"], ["first_contact"]):
        await deadline_queries.insert(
            conn, order_id=order["id"], kind="first_contact", due_at=due["first_contact"], now=now
        )
    await record_event(
        conn,
        order["id"],
        "order.priority_changed",
        actor,
        now,
        data={
            "from": order["priority"],
            "to": priority,
            "limits": "urgent" if limits.runs_urgent(kept, priority) else "normal",
            # None while the order's clock is suspended (routing/suspensions.py).
            "resolution_due_at": updated["resolution_due_at"]
            and updated["resolution_due_at"].isoformat(),
        },
    )
    return updated


async def do_transition(
    conn: asyncpg.Connection,
    order: asyncpg.Record,
    action: str,
    actor: Actor | None,
    now: dt.datetime,
    *,
    changes: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    facts: dict[str, Any] | None = None,
) -> asyncpg.Record:
    """Move ``order`` by ``action`` (see lifecycle.TRANSITIONS), record the event and
    write what the move announces (lifecycle.ANNOUNCED) with ``facts``, the values its
    announcement names."""
    target = next_status(order["status"], action)
    updated = await queries.update_status(
        conn,
        order["id"],
        current=order["status"],
        target=target.value,
        now=now,
        changes=changes or {},
    )
    if updated is None:
        raise Conflict("the order changed meanwhile; reload it and try again", code="stale_order")
    event = await record_event(
        conn,
        order["id"],
        f"order.{action}",
        actor,
        now,
        from_status=order["status"],
        to_status=target.value,
        data=data,
    )
    await _announce(conn, ANNOUNCED.get(action), updated, event["seq"], facts or {})
    if action == "close":
        # The orders merged into it were the same fault: they close with it, each with
        # its event (and theirs with them).
        for child in await queries.merged_callers(conn, order["id"]):
            if child["parent_id"] == order["id"]:
                await do_transition(
                    conn,
                    child,
                    "close",
                    actor,
                    now,
                    changes={"closed_at": now},
                    data={"with_parent": order["number"]},
                )
    return updated


async def _announce(
    conn: asyncpg.Connection,
    announcement: Announcement | None,
    order: asyncpg.Record,
    seq: int,
    facts: dict[str, Any],
) -> None:
    named = announcement.facts if announcement else ()
    if sorted(facts) != sorted(named):
        raise TypeError(f"the move announces {sorted(named)}, not {sorted(facts)}")
    if announcement is None:
        return
    key = f"{announcement.topic}:{order['id']}"
    payload = {"order_id": order["id"], "seq": seq, **facts}
    if announcement.per_round:
        key += f":{order['redo_count']}"
        payload["redo_count"] = order["redo_count"]
    await outbox.insert(conn, topic=announcement.topic, key=key, payload=payload)


async def do_resolve_on_call(
    conn: asyncpg.Connection,
    actor: Actor,
    order_id: int,
    reply: str,
    now: dt.datetime,
    *,
    article: Mapping[str, Any] | None = None,
) -> asyncpg.Record:
    """直接办结: the agent answered it during the call; the clocks stop. ``article``: the
    knowledge base's article answered with ({id, version, title}, from
    ``knowledge.service.answering_article``): the event names it and the answer counts
    for the article's use."""
    check_can_register(actor)
    order = await access_order_by_id(conn, actor, order_id, for_update=True)
    reply = reply.strip()
    if not reply:
        raise InvalidInput(
            "say how it was resolved", code="invalid_reply", fields={"reply": "must not be blank"}
        )
    # Answered on the call is completed too: every completed order is called back.
    updated = await do_transition(
        conn,
        order,
        "resolve_on_call",
        actor,
        now,
        changes={"reply": reply, "completed_at": now},
        data={"reply": reply, **({"article": dict(article)} if article else {})},
        facts={"dispatch_id": None, "late": False},
    )
    await deadline_queries.cancel_open(conn, order_id)
    if article:
        await record_answer(
            conn,
            article,
            order_id=order_id,
            user_id=actor.user_id,
            hotline_code=order["hotline_code"],
            now=now,
        )
    return updated


async def access_order_by_id(
    conn: asyncpg.Connection,
    actor: Actor,
    order_id: int,
    *,
    for_update: bool = False,
    hidden_as: NotFound | None = None,
) -> asyncpg.Record:
    """The only way to load an order for someone: a centre user sees only its hotlines'
    orders, a unit only what was dispatched to it (or to its branches); anything else
    is 404, as if it did not exist.

    ``hidden_as``: the 404 when the order was reached through something else (an
    attachment, a photo), which must not name the order it belongs to."""
    not_found = hidden_as or NotFound("order {order_id} not found", order_id=order_id)
    order = await queries.get_order(conn, order_id, for_update=for_update)
    if order is None:
        raise not_found
    if actor.is_centre:
        if actor.sees_hotline(order["hotline_code"]):
            return order
    elif actor.enterprise_id is not None:
        scope = await queries.enterprise_scope(conn, actor.enterprise_id)
        if await queries.is_dispatched_to(conn, order_id, scope):
            return order
    raise not_found


def hotline_scope(actor: Actor) -> list[str] | None:
    """The hotlines a list of orders is limited to for ``actor`` (None: no limit), for
    the queries that filter ``hotline_code = ANY(...)``."""
    return None if actor.hotlines is None else sorted(actor.hotlines)


async def reaches_unit(conn: asyncpg.Connection, actor: Actor, enterprise_id: int) -> bool:
    """Whether ``actor`` works for the enterprise or for one it is a branch of: what a
    unit's user may act on (its dispatches, their ratings)."""
    if actor.enterprise_id is None:
        return False
    return enterprise_id in await queries.enterprise_scope(conn, actor.enterprise_id)


def pack_cursor(label: str, at: dt.datetime, row_id: int) -> str:
    """A keyset cursor on (a time, an id), naming the list it pages (``label``) so that a
    cursor of one list is refused by another."""
    raw = f"{label}|{at.isoformat()}|{row_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def unpack_cursor(cursor: str, label: str) -> tuple[dt.datetime, int]:
    try:
        given, key, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        if given != label:
            raise ValueError("a cursor of another list")
        return dt.datetime.fromisoformat(key), int(row_id)
    except ValueError as exc:
        raise InvalidInput(
            "the cursor is not one this server gave out for this list",
            code="invalid_cursor",
            fields={"cursor": "invalid"},
        ) from exc
