"""Dispatch (派单): from a registered, returned or reopened order to a unit, or to
coordination when no unit is left.

Everything here runs inside the caller's transaction: the dispatch row, its sign-for
deadline, the order's move and event, and the outbox row that tells the unit's system.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from hotline import i18n
from hotline.deadlines import queries as deadline_queries
from hotline.deadlines.limits import due_at as limit_due_at
from hotline.deadlines.limits import of_order
from hotline.orders import queries as order_queries
from hotline.orders.service import do_transition, record_event
from hotline.outbox import queries as outbox
from hotline.reference.cache import reference
from hotline.settings import Settings
from hotline.users.models import Actor
from hotline.workcal import WorkingCalendar
from routing import ladder, queries
from routing.rules import rank_candidates

DISPATCH_CREATED = "dispatch.created"


async def do_dispatch(
    conn: asyncpg.Connection,
    order: asyncpg.Record,
    *,
    enterprise_id: int,
    role: str,
    reason: i18n.Text,
    calendar: WorkingCalendar,
    now: dt.datetime,
    actor: Actor | None,
    rule_id: int | None = None,
    forced: bool = False,
    due_at: dt.datetime | None = None,
) -> tuple[asyncpg.Record, asyncpg.Record]:
    """Send ``order`` to one unit; returns the (possibly moved) order and the dispatch.

    A lead dispatch moves the order to ``dispatched``; an assisting one leaves its status
    alone. Either way the unit must sign for it within the item's sign-for limit (its
    urgent one, in natural hours, for an urgent order)."""
    sign_for_due = limit_due_at(of_order(order), "sign_for", order["priority"], calendar, now)
    dispatch = await queries.insert_dispatch(
        conn,
        order_id=order["id"],
        enterprise_id=enterprise_id,
        role=role,
        sign_for_due_at=sign_for_due,
        now=now,
        rule_id=rule_id,
        reason=reason,
        forced=forced,
        due_at=due_at,
    )
    await deadline_queries.insert(
        conn,
        order_id=order["id"],
        dispatch_id=dispatch["id"],
        kind=ladder.SIGN_FOR,
        due_at=sign_for_due,
        now=now,
    )
    unit = await reference.enterprises(conn, [enterprise_id])
    data: dict[str, Any] = {
        "dispatch_id": dispatch["id"],
        "enterprise_id": enterprise_id,
        "enterprise": i18n.Text("{unit}", unit=i18n.Name.of(unit[enterprise_id])),
        "role": role,
        "reason": reason,
        "forced": forced,
        "sign_for_due_at": sign_for_due.isoformat(),
    }
    if role == "lead":
        order = await do_transition(
            conn,
            order,
            "dispatch",
            actor,
            now,
            changes={"lead_enterprise_id": enterprise_id},
            data=data,
        )
    else:
        await record_event(conn, order["id"], "dispatch.assisting", actor, now, data=data)
    await outbox.insert(
        conn,
        topic=DISPATCH_CREATED,
        key=f"{DISPATCH_CREATED}:{dispatch['id']}",
        payload={
            "dispatch_id": dispatch["id"],
            "order_id": order["id"],
            "enterprise_id": enterprise_id,
        },
    )
    return order, dispatch


async def do_escalate(
    conn: asyncpg.Connection,
    order: asyncpg.Record,
    *,
    reason: i18n.Text,
    now: dt.datetime,
    actor: Actor | None,
    changes: dict[str, Any] | None = None,
) -> asyncpg.Record:
    """协调督办: no unit takes it; the order waits in the coordination queue.
    ``changes``: columns the move sets too (and records in its event)."""
    withdrawn = await queries.withdraw_open_dispatches(
        conn,
        order["id"],
        now,
        reason=i18n.Text("To the centre for coordination: {reason}", reason=reason),
    )
    changes = changes or {}
    return await do_transition(
        conn,
        order,
        "escalate",
        actor,
        now,
        changes=changes,
        data={
            "reason": reason,
            "withdrawn_dispatches": len(withdrawn),
            **{column: _json_value(value) for column, value in changes.items()},
        },
    )


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def hard_case_due(
    order: asyncpg.Record, *, calendar: WorkingCalendar, settings: Settings
) -> dt.datetime:
    """A hard case's limit: the configured working days from registration (counted from
    when the citizen reached us, as every clock of the order), or the item's own
    resolution due when that comes first; a hard case is never slower than a usual one."""
    limit = calendar.add(order["created_at"], settings.hard_case_working_days, "working_days")
    item_due: dt.datetime = order["resolution_due_at"]
    return min(item_due, limit)


async def do_take_hard_case(
    conn: asyncpg.Connection,
    order: asyncpg.Record,
    *,
    calendar: WorkingCalendar,
    settings: Settings,
    now: dt.datetime,
) -> asyncpg.Record:
    """办不成事: no rule, outage or unit ranking; straight to coordination, due on the
    hard-case limit, which also becomes its resolution due (the ladder runs on it)."""
    due = hard_case_due(order, calendar=calendar, settings=settings)
    await order_queries.move_resolution_due(conn, order["id"], due, count_extension=False)
    await ladder.reset_resolution_clock(
        conn, order, due, calendar=calendar, settings=settings, now=now
    )
    return await do_escalate(
        conn,
        order,
        reason=i18n.Text(
            "Hard case, already tried elsewhere: {tried}", tried=order["tried_elsewhere"]
        ),
        now=now,
        actor=None,
        changes={"hard_case_due_at": due},
    )


# The reason an assisting dispatch left open at completion is withdrawn with (migration
# 0021 gives the same to those left open before the rule).
CLOSED_WITH_ORDER = i18n.Text("The order was completed; its assisting tasks are withdrawn")


async def withdraw_assisting(
    conn: asyncpg.Connection, order_id: int, *, now: dt.datetime
) -> list[asyncpg.Record]:
    """The order is done: every assisting dispatch still open (unsigned, or signed with
    its part not handed in) is withdrawn, its sign-for clock cancelled, each with an
    event. It leaves the unit's inbox and is never counted late (the figures count no
    withdrawn dispatch). The events are the system's: the lead unit completed the order,
    it withdrew nobody's work."""
    withdrawn = await queries.withdraw_open_dispatches(
        conn, order_id, now, reason=CLOSED_WITH_ORDER, role="assisting"
    )
    for dispatch in withdrawn:
        await deadline_queries.cancel_dispatch_clock(conn, dispatch["id"], ladder.SIGN_FOR)
        await record_event(
            conn,
            order_id,
            "dispatch.withdrawn",
            None,
            now,
            data={
                "dispatch_id": dispatch["id"],
                "enterprise_id": dispatch["enterprise_id"],
                "role": dispatch["role"],
                "reason": CLOSED_WITH_ORDER,
            },
        )
    return withdrawn


async def do_route_order(
    conn: asyncpg.Connection,
    order: asyncpg.Record,
    *,
    calendar: WorkingCalendar,
    settings: Settings,
    now: dt.datetime,
    actor: Actor | None = None,
) -> asyncpg.Record:
    """Rank the responsible units, skip those that returned it, dispatch to the first.

    ``order`` is locked and in a status ``start_dispatch`` allows. With no unit left it
    goes to coordination. Returns the order as it ends up."""
    await ladder.ensure_order_clocks(conn, order, calendar=calendar, settings=settings, now=now)
    ranking = await rank_candidates(conn, order)
    returned, dispatched_before = await queries.routing_history(conn, order["id"])
    open_leads = [c for c in ranking.leads if c.enterprise_id not in returned]
    first_time = not dispatched_before
    order = await do_transition(
        conn,
        order,
        "start_dispatch",
        actor,
        now,
        data={
            "candidates": [c.as_json() for c in ranking.leads],
            "skipped_after_return": sorted(returned),
        },
    )
    if not open_leads:
        reason = i18n.Text(
            "Every responsible unit has returned it" if ranking.leads else "No routing rule matches"
        )
        return await do_escalate(conn, order, reason=reason, now=now, actor=actor)
    lead = open_leads[0]
    order, _ = await do_dispatch(
        conn,
        order,
        enterprise_id=lead.enterprise_id,
        role="lead",
        reason=lead.reason,
        rule_id=lead.rule_id,
        calendar=calendar,
        now=now,
        actor=actor,
    )
    if first_time:
        for helper in ranking.assisting:
            await do_dispatch(
                conn,
                order,
                enterprise_id=helper.enterprise_id,
                role="assisting",
                reason=helper.reason,
                rule_id=helper.rule_id,
                calendar=calendar,
                now=now,
                actor=actor,
            )
    return order


async def lock_order(conn: asyncpg.Connection, order_id: int) -> asyncpg.Record:
    order = await order_queries.get_order(conn, order_id, for_update=True)
    assert order is not None, f"order {order_id} exists"
    return order
