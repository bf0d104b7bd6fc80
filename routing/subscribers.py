"""What routing does when the core announces something (outbox topics, deadlines): a new
order is routed, a reopened one redone by the rules of redo, the ladder's steps taken."""

from __future__ import annotations

from typing import Any

import asyncpg

from hotline import i18n
from hotline.context import JobContext
from hotline.deadlines.handlers import kinds
from hotline.orders.lifecycle import ORDER_REGISTERED, ORDER_REOPENED, Status, redo_by_same_unit
from hotline.outbox.handlers import topics
from routing import ladder, queries, suspensions, visits
from routing.dispatch import (
    do_dispatch,
    do_escalate,
    do_route_order,
    do_take_hard_case,
    lock_order,
)
from routing.outages import link_to_outage


async def on_order_registered(
    conn: asyncpg.Connection, payload: dict[str, Any], ctx: JobContext
) -> None:
    """A new order: a hard case (办不成事) straight to coordination; otherwise join a
    running outage, or route it. A second delivery finds the order no longer
    ``registered`` and does nothing."""
    order = await lock_order(conn, payload["order_id"])
    if order["status"] != "registered":
        return
    now = ctx.clock()
    if order["hard_case"]:
        # Merged into an outage's parent it would be lost among the others again.
        calendar = await ctx.calendar.get(conn)
        await do_take_hard_case(conn, order, calendar=calendar, settings=ctx.settings, now=now)
        return
    if await link_to_outage(conn, order, now):
        return  # merged into the outage's parent order
    calendar = await ctx.calendar.get(conn)
    await do_route_order(conn, order, calendar=calendar, settings=ctx.settings, now=now)


async def on_order_reopened(
    conn: asyncpg.Connection, payload: dict[str, Any], ctx: JobContext
) -> None:
    """A bad callback reopened the order (lifecycle.redo_by_same_unit): back to the lead
    unit that did the work, flagged 回访不满意 with the citizen's words, the ladder set
    again from the new resolution due; from the second redo on, or with no unit, to
    coordination. An item that asks for it gets an on-site visit (routing.visits). A
    second delivery finds the order moved on and does nothing."""
    order = await lock_order(conn, payload["order_id"])
    if order["status"] != Status.REOPENED or order["redo_count"] != payload["redo_count"]:
        return
    now = ctx.clock()
    unit = payload["enterprise_id"]
    calendar = await ctx.calendar.get(conn)
    redo_reason = (
        i18n.Text("Bad callback: {comment}", comment=payload["comment"])
        if payload["comment"]
        else i18n.Text("Bad callback")
    )
    # Whoever redoes it (the same unit, or the lead the centre names) owes the visit.
    await visits.open_visit_if_required(conn, order, reason=redo_reason, calendar=calendar, now=now)
    if not redo_by_same_unit(order["redo_count"], unit):
        times = order["redo_count"]
        reason = (
            i18n.Text("Bad callback (time {times}): {comment}", times=times, comment=comment)
            if (comment := payload["comment"])
            else i18n.Text("Bad callback (time {times})", times=times)
        )
        await do_escalate(conn, order, reason=reason, now=now, actor=None)
        return
    await ladder.reset_resolution_clock(
        conn, order, order["resolution_due_at"], calendar=calendar, settings=ctx.settings, now=now
    )
    await do_dispatch(
        conn,
        order,
        enterprise_id=unit,
        role="lead",
        reason=redo_reason,
        calendar=calendar,
        now=now,
        actor=None,
    )


async def on_suspension_due(
    conn: asyncpg.Connection, payload: dict[str, Any], ctx: JobContext
) -> None:
    """A suspension's expected end came and the unit has not resumed: the clock runs
    again by itself. A suspension already ended (resumed, completed) is left alone."""
    order = await lock_order(conn, payload["order_id"])
    suspension = await queries.open_suspension(conn, order["id"])
    if suspension is None or suspension["id"] != payload["suspension_id"]:
        return
    calendar = await ctx.calendar.get(conn)
    await suspensions.resume(
        conn, order, None, calendar=calendar, settings=ctx.settings, now=ctx.clock()
    )


def subscribe() -> None:
    topics.subscribe(ORDER_REGISTERED, on_order_registered)
    topics.subscribe(ORDER_REOPENED, on_order_reopened)
    topics.subscribe(suspensions.SUSPENSION_DUE, on_suspension_due)
    for kind, handler in ladder.HANDLERS.items():
        kinds.subscribe(kind, handler)
    kinds.subscribe(suspensions.SUSPENSION_END, suspensions.on_suspension_end)
    kinds.subscribe(visits.VISIT, visits.on_visit_due)
