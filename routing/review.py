"""The centre's decisions: on returns (审定), on requests for more time (延期审批), and
coordination of orders no unit takes (协调督办: lead and assisting units, a deadline)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hotline import i18n
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.orders import queries as order_queries
from hotline.orders.models import Priority
from hotline.orders.service import access_order_by_id, do_change_priority, record_event
from hotline.settings import Settings
from hotline.users.models import Actor
from hotline.vocabulary import RenamedFields, renamed
from hotline.workcal import WorkingCalendar
from routing import ladder, queries, suspensions
from routing.dispatch import do_dispatch, do_route_order, lock_order


class ReturnDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    decision: Literal["uphold", "overrule"]
    note: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _overrule_says_why(self) -> ReturnDecision:
        if self.decision == "overrule" and not self.note:
            raise ValueError("an overruled return needs a note for the unit")
        return self


class TimeDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    decision: Literal["approve", "reject"]
    note: str = Field(default="", max_length=2000)


class CoordinationInput(RenamedFields):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    lead: int = Field(validation_alias=renamed("lead_enterprise_id", "lead"))
    assisting: list[int] = Field(default_factory=list, max_length=20)
    due_at: dt.datetime
    note: str = Field(min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _lead_not_assisting(self) -> CoordinationInput:
        if self.lead in self.assisting or len(set(self.assisting)) != len(self.assisting):
            raise ValueError("each unit appears once: one lead, distinct assisting units")
        if self.due_at.tzinfo is None:
            raise ValueError("due_at needs a time zone offset")
        return self


class PriorityInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    priority: Priority


async def do_review_return(
    conn: asyncpg.Connection,
    actor: Actor,
    return_id: int,
    body: ReturnDecision,
    *,
    calendar: WorkingCalendar,
    settings: Settings,
    now: dt.datetime,
) -> asyncpg.Record:
    """Uphold: the order goes to the next responsible unit (units that returned it are
    skipped; none left → coordination). Overrule: it goes back to the same unit, forced."""
    missing = NotFound("return {return_id} not found", return_id=return_id)
    returned = await queries.get_return(conn, return_id, for_update=True)
    if returned is None:
        raise missing
    await access_order_by_id(conn, actor, returned["order_id"], hidden_as=missing)
    if returned["state"] != "pending":
        raise Conflict(
            "this return was already {state}",
            code="already_reviewed",
            state=i18n.Term(returned["state"]),
        )
    order = await lock_order(conn, returned["order_id"])
    state = "upheld" if body.decision == "uphold" else "overruled"
    # A trigger copies the decision onto the returned dispatch: the figures count the
    # return against the unit only once overruled (docs/callbacks.md, Figures).
    await queries.decide_return(
        conn, return_id, state=state, user_id=actor.user_id, now=now, note=body.note
    )
    await record_event(
        conn,
        order["id"],
        f"return.{state}",
        actor,
        now,
        data={
            "return_id": return_id,
            "note": body.note,
            "enterprise_id": returned["enterprise_id"],
        },
    )
    if body.decision == "uphold":
        return await do_route_order(
            conn, order, calendar=calendar, settings=settings, now=now, actor=actor
        )
    order, _ = await do_dispatch(
        conn,
        order,
        enterprise_id=returned["enterprise_id"],
        role="lead",
        reason=i18n.Text("The centre overruled the return: {note}", note=body.note),
        calendar=calendar,
        now=now,
        actor=actor,
        forced=True,
    )
    return order


async def do_decide_time_request(
    conn: asyncpg.Connection,
    actor: Actor,
    request_id: int,
    body: TimeDecision,
    *,
    calendar: WorkingCalendar,
    settings: Settings,
    now: dt.datetime,
) -> asyncpg.Record:
    """An approved extension moves the resolution due and is counted; an approved
    suspension stops the clock (routing/suspensions.py)."""
    missing = NotFound("time request {request_id} not found", request_id=request_id)
    request = await queries.get_time_request(conn, request_id, for_update=True)
    if request is None:
        raise missing
    await access_order_by_id(conn, actor, request["order_id"], hidden_as=missing)
    if request["state"] != "pending":
        raise Conflict(
            "this request was already {state}",
            code="already_decided",
            state=i18n.Term(request["state"]),
        )
    order = await lock_order(conn, request["order_id"])
    state = "approved" if body.decision == "approve" else "rejected"
    await queries.decide_time_request(
        conn, request_id, state=state, user_id=actor.user_id, now=now, note=body.note
    )
    if state == "approved" and request["kind"] == "suspension":
        await suspensions.suspend(conn, order, request, actor, calendar=calendar, now=now)
    elif state == "approved":
        await order_queries.move_resolution_due(
            conn,
            order["id"],
            request["requested_due_at"],
            count_extension=request["kind"] == "extension",
        )
        await ladder.reset_resolution_clock(
            conn, order, request["requested_due_at"], calendar=calendar, settings=settings, now=now
        )
    await record_event(
        conn,
        order["id"],
        f"time_request.{state}",
        actor,
        now,
        data={
            "time_request_id": request_id,
            "kind": request["kind"],
            "note": body.note,
            "due_at": request["requested_due_at"].isoformat(),
        },
    )
    return await lock_order(conn, order["id"])


async def do_coordinate(
    conn: asyncpg.Connection,
    actor: Actor,
    order_id: int,
    body: CoordinationInput,
    *,
    calendar: WorkingCalendar,
    settings: Settings,
    now: dt.datetime,
) -> asyncpg.Record:
    """Name the lead unit (主办) and assisting units (协办) of an order in coordination,
    with a coordinated deadline that replaces the resolution due."""
    await access_order_by_id(conn, actor, order_id)
    order = await lock_order(conn, order_id)
    if order["status"] != "escalated":
        raise Conflict(
            "only orders in coordination get a lead unit this way", code="not_in_coordination"
        )
    units = await queries.enterprises_by_id(conn, [body.lead, *body.assisting])
    missing = [str(i) for i in (body.lead, *body.assisting) if i not in units]
    if missing:
        raise InvalidInput(
            "unknown units",
            code="invalid_coordination",
            fields={"units": "unknown enterprise id(s): {missing}"},
            missing=", ".join(missing),
        )
    if body.due_at <= now:
        raise InvalidInput(
            "the coordinated deadline must be in the future",
            code="invalid_coordination",
            fields={"due_at": "in the past"},
        )
    await order_queries.move_resolution_due(conn, order_id, body.due_at, count_extension=False)
    await ladder.reset_resolution_clock(
        conn, order, body.due_at, calendar=calendar, settings=settings, now=now
    )
    await record_event(
        conn,
        order_id,
        "coordination.named",
        actor,
        now,
        data={
            "lead": body.lead,
            "assisting": body.assisting,
            "due_at": body.due_at.isoformat(),
            "note": body.note,
        },
    )
    reason = i18n.Text("Coordinated by the centre: {note}", note=body.note)
    order, _ = await do_dispatch(
        conn,
        order,
        enterprise_id=body.lead,
        role="lead",
        reason=reason,
        calendar=calendar,
        now=now,
        actor=actor,
        forced=True,
        due_at=body.due_at,
    )
    for unit in body.assisting:
        await do_dispatch(
            conn,
            order,
            enterprise_id=unit,
            role="assisting",
            reason=reason,
            calendar=calendar,
            now=now,
            actor=actor,
            due_at=body.due_at,
        )
    return order


async def do_set_priority(
    conn: asyncpg.Connection,
    actor: Actor,
    order_id: int,
    body: PriorityInput,
    *,
    calendar: WorkingCalendar,
    settings: Settings,
    now: dt.datetime,
) -> asyncpg.Record:
    """紧急 set or lifted after registration: the open deadlines are computed again on the
    new priority's limits (hotline.deadlines.limits), the ladder's with them."""
    await access_order_by_id(conn, actor, order_id)
    order = await lock_order(conn, order_id)
    if order["priority"] == body.priority:
        return order
    updated = await do_change_priority(conn, actor, order, body.priority, calendar, now)
    if updated["resolution_due_at"] != order["resolution_due_at"]:
        await ladder.reset_resolution_clock(
            conn,
            updated,
            updated["resolution_due_at"],
            calendar=calendar,
            settings=settings,
            now=now,
        )
    await ladder.reset_sign_for_clocks(conn, updated, calendar=calendar, now=now)
    return updated
