"""挂起: an approved suspension stops the order's resolution clock and its warnings;
resuming starts it again with the time that was left (docs/routing.md, "Suspensions").

While suspended the order has no resolution due (``resolution_due_at`` is null): it is
neither overdue nor due soon on the board, and the ladder has nothing pending for it."""

from __future__ import annotations

import datetime as dt

import asyncpg

from hotline.deadlines import queries as deadline_queries
from hotline.errors import Conflict
from hotline.orders import queries as order_queries
from hotline.orders.lifecycle import DONE, FINAL
from hotline.orders.service import record_event
from hotline.outbox import queries as outbox
from hotline.settings import Settings
from hotline.users.models import Actor
from hotline.workcal import WorkingCalendar
from routing import ladder, queries

# The suspension's expected end: if the unit has not resumed by then, the clock runs
# again by itself, so a suspension cannot outlast what the centre approved. A deadline
# (the relay's clock) whose handler hands the resumption to the outbox: resuming needs
# the working calendar, which the outbox's handlers have in their job context
# (routing/subscribers.py) and deadline handlers do not.
SUSPENSION_END = "suspension_end"
SUSPENSION_DUE = "order.suspension_due"


async def suspend(
    conn: asyncpg.Connection,
    order: asyncpg.Record,
    request: asyncpg.Record,
    actor: Actor,
    *,
    calendar: WorkingCalendar,
    now: dt.datetime,
) -> None:
    """The centre approved ``request`` (a suspension): stop the clock, keep what is left."""
    if order["status"] in FINAL | DONE:
        raise Conflict("the order is done; there is no clock to suspend", code="order_not_open")
    due = order["resolution_due_at"]
    if due is None or due <= now:
        # Nothing is left to keep: the order is late, and a suspension would hide it.
        raise Conflict("the order is past its due; its clock cannot be suspended", code="overdue")
    paused = await ladder.pause_resolution_clock(conn, order, calendar=calendar, now=now)
    dispatch = await queries.get_dispatch(conn, request["dispatch_id"])
    assert dispatch is not None
    row = await queries.insert_suspension(
        conn,
        {
            "order_id": order["id"],
            "dispatch_id": dispatch["id"],
            "enterprise_id": dispatch["enterprise_id"],
            "time_request_id": request["id"],
            "started_at": now,
            "resume_by": request["requested_due_at"],
            "remaining_seconds": paused.remaining_seconds,
            "remaining_unit": paused.unit,
            "warning_seconds": paused.warning_seconds,
        },
    )
    await order_queries.move_resolution_due(conn, order["id"], None, count_extension=False)
    await deadline_queries.insert(
        conn, order_id=order["id"], kind=SUSPENSION_END, due_at=row["resume_by"], now=now
    )
    await record_event(
        conn,
        order["id"],
        "clock.suspended",
        actor,
        now,
        data={
            "suspension_id": row["id"],
            "enterprise_id": dispatch["enterprise_id"],
            "remaining_seconds": float(paused.remaining_seconds),
            "remaining_unit": paused.unit,
            "resume_by": request["requested_due_at"].isoformat(),
        },
    )


async def resume(
    conn: asyncpg.Connection,
    order: asyncpg.Record,
    actor: Actor | None,
    *,
    calendar: WorkingCalendar,
    settings: Settings,
    now: dt.datetime,
) -> dt.datetime:
    """The clock runs again: due = now + the time that was left, in the same kind of
    time; the ladder's steps are set again from there. ``actor`` None: the system, at
    the suspension's expected end."""
    by = actor.label() if actor else "system"
    row = await queries.end_suspension(conn, order["id"], now=now, by=by)
    if row is None:
        raise Conflict("the order's clock is not suspended", code="not_suspended")
    await deadline_queries.cancel_open(conn, order["id"], [SUSPENSION_END])
    paused = ladder.Paused(row["remaining_seconds"], row["warning_seconds"], row["remaining_unit"])
    due = await ladder.resume_resolution_clock(
        conn, order["id"], paused, calendar=calendar, settings=settings, now=now
    )
    await order_queries.move_resolution_due(conn, order["id"], due, count_extension=False)
    await record_event(
        conn,
        order["id"],
        "clock.resumed",
        actor,
        now,
        data={
            "suspension_id": row["id"],
            "resolution_due_at": due.isoformat(),
            "suspended_seconds": (now - row["started_at"]).total_seconds(),
        },
    )
    return due


async def on_suspension_end(
    conn: asyncpg.Connection, deadline: asyncpg.Record, now: dt.datetime
) -> None:
    """The expected end came with the order still suspended: resume it through the
    outbox (its handler has the calendar), once per suspension."""
    suspension = await queries.open_suspension(conn, deadline["order_id"])
    if suspension is None:
        return
    await outbox.insert(
        conn,
        topic=SUSPENSION_DUE,
        key=f"{SUSPENSION_DUE}:{suspension['id']}",
        payload={"order_id": deadline["order_id"], "suspension_id": suspension["id"]},
    )
