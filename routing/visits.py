"""On-site visits after a bad rating (上门回访).

For a service item that asks for it (``service_items.visit_after_bad_rating``, repairs by
default), a citizen's unsatisfied callback reopens the order and routing, redoing it,
opens a visit: the lead unit goes to the citizen, and records when, who, what it found,
photos and the citizen's confirmation (on site, by phone, or refused). Until it does, the
order cannot be completed again (409 ``visit_required``), so it cannot close again before
the visit and then a good callback: a callback that reaches nobody leaves it for a
supervisor, whose ruling closes it (and settles a visit still owed). The visit is due
within the item's first-contact limit from the redo, on the working calendar; a ladder
step (``visit``) alerts when it passes.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from hotline import i18n
from hotline.deadlines import queries as deadline_queries
from hotline.deadlines.limits import due_at as limit_due_at
from hotline.deadlines.limits import of_order
from hotline.errors import Conflict, Forbidden, InvalidInput
from hotline.orders import queries as order_queries
from hotline.orders.lifecycle import FINAL
from hotline.orders.service import record_event
from hotline.reference.cache import reference
from hotline.users.models import Actor
from hotline.workcal import WorkingCalendar
from routing import queries
from routing.handling import access_dispatch_by_id

VISIT = "visit"  # the deadline kind


class VisitInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    visited_at: dt.datetime
    visitors: str = Field(min_length=1, max_length=500)
    findings: str = Field(min_length=1, max_length=8000)
    # Photos of the site (the unit's proof files of this order); at least one.
    attachment_ids: list[int] = Field(min_length=1, max_length=20)
    citizen_confirmation: Literal["on_site", "by_phone", "refused"]


async def open_visit_if_required(
    conn: asyncpg.Connection,
    order: asyncpg.Record,
    *,
    reason: i18n.Text,
    calendar: WorkingCalendar,
    now: dt.datetime,
) -> asyncpg.Record | None:
    """A reopened order of an item that asks for a visit gets one for its round of work,
    with its deadline; once per round, however often the reopen is delivered."""
    item = await reference.item(conn, order["service_item_code"])
    assert item is not None
    if not item["visit_after_bad_rating"]:
        return None
    due = limit_due_at(of_order(order), "first_contact", order["priority"], calendar, now)
    visit = await queries.insert_visit(
        conn,
        order_id=order["id"],
        round=order["redo_count"],
        reason=reason.render(i18n.CHINESE),
        texts={"reason": reason.to_json()},
        due_at=due,
        now=now,
    )
    if visit is None:
        return None
    await deadline_queries.insert(conn, order_id=order["id"], kind=VISIT, due_at=due, now=now)
    await record_event(
        conn,
        order["id"],
        "visit.required",
        None,
        now,
        data={"visit_id": visit["id"], "due_at": due.isoformat(), "reason": reason},
    )
    return visit


async def do_record_visit(
    conn: asyncpg.Connection, actor: Actor, dispatch_id: int, body: VisitInput, now: dt.datetime
) -> asyncpg.Record:
    """The lead unit, having signed for the redo, records the visit it made."""
    dispatch = await access_dispatch_by_id(conn, actor, dispatch_id, for_update=True)
    if dispatch["role"] != "lead":
        raise Forbidden("the lead unit makes the on-site visit", code="not_lead")
    if dispatch["state"] != "signed":
        raise Conflict(
            "the dispatch is {state}; sign for it before recording the visit",
            code="dispatch_state",
            state=i18n.Term(dispatch["state"]),
        )
    order_id = dispatch["order_id"]
    visit = await queries.pending_visit(conn, order_id, for_update=True)
    if visit is None:
        raise Conflict("this order has no on-site visit to record", code="no_visit_pending")
    problems = {}
    if body.visited_at.tzinfo is None:
        problems["visited_at"] = "needs a time zone offset"
    elif not visit["created_at"] <= body.visited_at <= now:
        problems["visited_at"] = "between the bad rating and now"
    ids = sorted(set(body.attachment_ids))
    if len(await queries.attachment_ids_of_order(conn, order_id, ids)) != len(ids):
        problems["attachment_ids"] = "unknown id"
    if problems:
        raise InvalidInput("the visit record is not valid", code="invalid_visit", fields=problems)
    recorded = await queries.record_visit(
        conn,
        visit["id"],
        {
            "dispatch_id": dispatch_id,
            "enterprise_id": dispatch["enterprise_id"],
            "visited_at": body.visited_at,
            "visitors": body.visitors,
            "findings": body.findings,
            "attachment_ids": ids,
            "citizen_confirmation": body.citizen_confirmation,
            "recorded_by": actor.label(),
            "now": now,
        },
    )
    await deadline_queries.cancel_open(conn, order_id, [VISIT])
    await record_event(
        conn,
        order_id,
        "visit.recorded",
        actor,
        now,
        data={
            "visit_id": visit["id"],
            "dispatch_id": dispatch_id,
            "enterprise_id": dispatch["enterprise_id"],
            "visited_at": body.visited_at.isoformat(),
            "visitors": body.visitors,
            "findings": body.findings,
            "attachment_ids": ids,
            "citizen_confirmation": body.citizen_confirmation,
        },
    )
    return recorded


async def needs_good_callback(conn: asyncpg.Connection, order: asyncpg.Record) -> bool:
    """Whether the order's round of work made a visit: then only a good callback or a
    supervisor's ruling closes it, not a callback that reached nobody."""
    visit = await queries.round_visit(conn, order["id"], order["redo_count"])
    return visit is not None and visit["state"] == "recorded"


async def settle_by_ruling(
    conn: asyncpg.Connection, order_id: int, actor: Actor, ruling: str, now: dt.datetime
) -> None:
    """A supervisor's ruling closes the order: a visit still owed is settled by it (who,
    why), in the ruling's transaction."""
    visit = await queries.pending_visit(conn, order_id, for_update=True)
    if visit is None:
        return
    await queries.rule_visit(conn, visit["id"], ruled_by=actor.label(), ruling=ruling, now=now)
    await deadline_queries.cancel_open(conn, order_id, [VISIT])
    await record_event(
        conn, order_id, "visit.ruled", actor, now, data={"visit_id": visit["id"], "ruling": ruling}
    )


async def on_visit_due(
    conn: asyncpg.Connection, deadline: asyncpg.Record, now: dt.datetime
) -> None:
    """The visit's deadline passed unrecorded: the unit and the supervisors are alerted
    (the event is pushed live). Nothing happens once it was recorded or ruled."""
    order = await order_queries.get_order(conn, deadline["order_id"])
    visit = await queries.pending_visit(conn, deadline["order_id"])
    if order is None or visit is None or order["status"] in FINAL:
        return
    await record_event(
        conn,
        order["id"],
        "visit.overdue",
        None,
        now,
        data={
            "visit_id": visit["id"],
            "due_at": visit["due_at"].isoformat(),
            "enterprise_id": order["lead_enterprise_id"],
            "message": "上门回访超时",
        },
    )
