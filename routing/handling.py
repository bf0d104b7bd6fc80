"""What a unit does with a dispatch: sign for it (签收), return it (退单), note progress,
ask for more time (延期), hand in its part (协办) or complete the order (办结)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from hotline import i18n
from hotline.deadlines import queries as deadline_queries
from hotline.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.orders import queries as order_queries
from hotline.orders.service import do_transition, reaches_unit, record_event
from hotline.settings import Settings
from hotline.users.models import Actor
from hotline.workcal import WorkingCalendar
from routing import ladder, queries, suspensions
from routing.dispatch import withdraw_assisting

ReasonCode = Literal["not_our_duty", "wrong_area", "insufficient_information", "duplicate", "other"]


class ReturnInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason_code: ReasonCode
    reason_text: str = Field(default="", max_length=2000)


class NoteInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: str = Field(min_length=1, max_length=4000)


class ProgressInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: str = Field(min_length=1, max_length=4000)
    attachment_ids: list[int] = Field(
        default_factory=list, max_length=20, description="photos uploaded first (attachments)"
    )
    public: bool = Field(
        default=False,
        description="the citizen may read the text on the progress lookup (/track); photos never",
    )


class TimeRequestInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: Literal["extension", "suspension"] = "extension"
    reason: str = Field(min_length=1, max_length=2000)
    requested_due_at: dt.datetime


class CompleteInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reply: str = Field(min_length=1, max_length=8000)
    attachment_ids: list[int] = Field(default_factory=list, max_length=20)


async def access_dispatch_by_id(
    conn: asyncpg.Connection, actor: Actor, dispatch_id: int, *, for_update: bool = False
) -> asyncpg.Record:
    """A unit reaches only its own dispatches (and its branches'); others are 404."""
    dispatch = await queries.get_dispatch(conn, dispatch_id, for_update=for_update)
    if dispatch is not None and await reaches_unit(conn, actor, dispatch["enterprise_id"]):
        return dispatch
    raise NotFound("dispatch {dispatch_id} not found", dispatch_id=dispatch_id)


def _require_state(dispatch: asyncpg.Record, *states: str) -> None:
    if dispatch["state"] not in states:
        raise Conflict(
            "the dispatch is {state}; this needs it {needed}",
            code="dispatch_state",
            state=i18n.Term(dispatch["state"]),
            needed=i18n.Alternatives(i18n.Term(s) for s in states),
        )


async def _order_for(conn: asyncpg.Connection, dispatch: asyncpg.Record) -> asyncpg.Record:
    order = await order_queries.get_order(conn, dispatch["order_id"], for_update=True)
    assert order is not None
    return order


async def do_sign_for(
    conn: asyncpg.Connection, actor: Actor, dispatch_id: int, now: dt.datetime
) -> asyncpg.Record:
    dispatch = await access_dispatch_by_id(conn, actor, dispatch_id, for_update=True)
    _require_state(dispatch, "pending")
    order = await _order_for(conn, dispatch)
    await queries.set_dispatch_state(conn, dispatch_id, state="signed", now=now)
    await deadline_queries.cancel_dispatch_clock(conn, dispatch_id, ladder.SIGN_FOR)
    data = {
        "dispatch_id": dispatch_id,
        "enterprise_id": dispatch["enterprise_id"],
        "role": dispatch["role"],
        "late": bool(dispatch["sign_for_due_at"] and now > dispatch["sign_for_due_at"]),
    }
    if dispatch["role"] == "lead":
        return await do_transition(conn, order, "sign_for", actor, now, data=data)
    await record_event(conn, order["id"], "dispatch.signed", actor, now, data=data)
    return order


async def do_return(
    conn: asyncpg.Connection,
    actor: Actor,
    dispatch_id: int,
    body: ReturnInput,
    now: dt.datetime,
) -> asyncpg.Record:
    """退单: the lead unit sends it back before signing; the centre reviews. The order's
    resolution clock keeps running."""
    dispatch = await access_dispatch_by_id(conn, actor, dispatch_id, for_update=True)
    if dispatch["role"] != "lead":
        raise Forbidden("an assisting unit cannot return the order", code="not_lead")
    _require_state(dispatch, "pending")
    if body.reason_code == "other" and not body.reason_text:
        raise InvalidInput(
            "say why",
            code="invalid_return",
            fields={"reason_text": "needed when the reason is other"},
        )
    order = await _order_for(conn, dispatch)
    await queries.set_dispatch_state(conn, dispatch_id, state="returned", now=now)
    await deadline_queries.cancel_dispatch_clock(conn, dispatch_id, ladder.SIGN_FOR)
    returned = await queries.insert_return(
        conn,
        order_id=order["id"],
        dispatch_id=dispatch_id,
        enterprise_id=dispatch["enterprise_id"],
        reason_code=body.reason_code,
        reason_text=body.reason_text,
        returned_by=actor.label(),
        now=now,
    )
    return await do_transition(
        conn,
        order,
        "return",
        actor,
        now,
        changes={"bounce_count": order["bounce_count"] + 1},
        data={
            "return_id": returned["id"],
            "dispatch_id": dispatch_id,
            "enterprise_id": dispatch["enterprise_id"],
            "reason_code": body.reason_code,
            "reason_text": body.reason_text,
        },
    )


async def _check_attachments(conn: asyncpg.Connection, order_id: int, ids: list[int]) -> None:
    attached = await queries.attachment_ids_of_order(conn, order_id, ids)
    if len(attached) != len(set(ids)):
        raise InvalidInput(
            "an attachment does not belong to this order",
            code="invalid_attachment",
            fields={"attachment_ids": "unknown id"},
        )


async def do_add_note(
    conn: asyncpg.Connection,
    actor: Actor,
    dispatch_id: int,
    body: ProgressInput,
    now: dt.datetime,
) -> asyncpg.Record:
    """A progress record (办理进展): what was done so far, with photos from the site; an
    event on the order, so the centre and the order page see it. ``public``: its text
    shows on the citizen's progress lookup too (integrations/tracking)."""
    dispatch = await access_dispatch_by_id(conn, actor, dispatch_id)
    _require_state(dispatch, "pending", "signed")
    await _check_attachments(conn, dispatch["order_id"], body.attachment_ids)
    return await record_event(
        conn,
        dispatch["order_id"],
        "dispatch.note",
        actor,
        now,
        data={
            "dispatch_id": dispatch_id,
            "text": body.text,
            "attachment_ids": sorted(set(body.attachment_ids)),
            "public": body.public,
        },
    )


async def do_request_time(
    conn: asyncpg.Connection,
    actor: Actor,
    dispatch_id: int,
    body: TimeRequestInput,
    now: dt.datetime,
) -> asyncpg.Record:
    """延期/挂起 needs the centre's approval; until then the clock is unchanged. An
    extension names the new due; a suspension the moment the unit expects to resume."""
    dispatch = await access_dispatch_by_id(conn, actor, dispatch_id, for_update=True)
    if dispatch["role"] != "lead":
        raise Forbidden("only the lead unit asks for more time", code="not_lead")
    _require_state(dispatch, "signed")
    order = await _order_for(conn, dispatch)
    if body.requested_due_at.tzinfo is None:
        raise InvalidInput(
            "give the date with its time zone",
            code="invalid_time_request",
            fields={"requested_due_at": "needs a time zone offset"},
        )
    if await queries.open_suspension(conn, order["id"]) is not None:
        raise Conflict("the order's clock is suspended; resume it first", code="suspended")
    if body.kind == "suspension" and body.requested_due_at <= now:
        # A suspension's date is when the unit expects to resume: the clock stops instead.
        raise InvalidInput(
            "the expected end of the suspension must be in the future",
            code="invalid_time_request",
            fields={"requested_due_at": "not in the future"},
        )
    if (
        body.kind == "extension"
        and order["resolution_due_at"]
        and body.requested_due_at <= order["resolution_due_at"]
    ):
        raise InvalidInput(
            "the new due must be later than the current one",
            code="invalid_time_request",
            fields={"requested_due_at": "not after the current due"},
        )
    if await queries.pending_time_request_exists(conn, order["id"]):
        raise Conflict(
            "a request for more time is already waiting for the centre", code="time_request_pending"
        )
    request = await queries.insert_time_request(
        conn,
        {
            "order_id": order["id"],
            "dispatch_id": dispatch_id,
            "kind": body.kind,
            "reason": body.reason,
            "requested_due_at": body.requested_due_at,
            "requested_by": actor.label(),
            "now": now,
        },
    )
    await record_event(
        conn,
        order["id"],
        f"time_request.{body.kind}",
        actor,
        now,
        data={
            "time_request_id": request["id"],
            "reason": body.reason,
            "requested_due_at": body.requested_due_at.isoformat(),
        },
    )
    return request


async def do_submit_part(
    conn: asyncpg.Connection, actor: Actor, dispatch_id: int, text: str, now: dt.datetime
) -> asyncpg.Record:
    """协办: an assisting unit hands in its part; the lead unit completes the order."""
    dispatch = await access_dispatch_by_id(conn, actor, dispatch_id, for_update=True)
    if dispatch["role"] != "assisting":
        raise Forbidden("the lead unit completes the order instead", code="not_assisting")
    _require_state(dispatch, "signed")
    await queries.set_dispatch_state(conn, dispatch_id, state="completed", now=now, reply=text)
    return await record_event(
        conn,
        dispatch["order_id"],
        "dispatch.part",
        actor,
        now,
        data={"dispatch_id": dispatch_id, "text": text, "enterprise_id": dispatch["enterprise_id"]},
    )


async def do_complete(
    conn: asyncpg.Connection,
    actor: Actor,
    dispatch_id: int,
    body: CompleteInput,
    now: dt.datetime,
) -> asyncpg.Record:
    """办结: the lead unit replies with what it did; the clocks stop. A redo that owes an
    on-site visit (routing.visits) is refused until the visit is recorded."""
    dispatch = await access_dispatch_by_id(conn, actor, dispatch_id, for_update=True)
    if dispatch["role"] != "lead":
        raise Forbidden("an assisting unit hands in its part instead", code="not_lead")
    _require_state(dispatch, "signed")
    order = await _order_for(conn, dispatch)
    if await queries.pending_visit(conn, order["id"]) is not None:
        raise Conflict(
            "record the on-site visit the citizen's bad rating asked for before completing "
            "the order again",
            code="visit_required",
        )
    await _check_attachments(conn, order["id"], body.attachment_ids)
    late = bool(order["resolution_due_at"] and now > order["resolution_due_at"])
    await queries.set_dispatch_state(
        conn, dispatch_id, state="completed", now=now, reply=body.reply, on_time=not late
    )
    await deadline_queries.cancel_open(conn, order["id"])
    # Completed while suspended: on time (time was left), and the suspension ends here.
    await queries.end_suspension(conn, order["id"], now=now, by=actor.label())
    await withdraw_assisting(conn, order["id"], now=now)
    return await do_transition(
        conn,
        order,
        "complete",
        actor,
        now,
        changes={"reply": body.reply, "completed_at": now},
        data={
            "dispatch_id": dispatch_id,
            "reply": body.reply,
            "late": late,
            "attachment_ids": sorted(set(body.attachment_ids)),
        },
        facts={"dispatch_id": dispatch_id, "late": late},
    )


async def do_resume(
    conn: asyncpg.Connection,
    actor: Actor,
    dispatch_id: int,
    *,
    calendar: WorkingCalendar,
    settings: Settings,
    now: dt.datetime,
) -> asyncpg.Record:
    """The lead unit resumes its suspended order: the clock runs again with the time
    that was left (routing/suspensions.py)."""
    dispatch = await access_dispatch_by_id(conn, actor, dispatch_id, for_update=True)
    if dispatch["role"] != "lead":
        raise Forbidden("only the lead unit resumes the order", code="not_lead")
    _require_state(dispatch, "signed")
    order = await _order_for(conn, dispatch)
    await suspensions.resume(conn, order, actor, calendar=calendar, settings=settings, now=now)
    updated = await order_queries.get_order(conn, order["id"])
    assert updated is not None
    return updated
