"""The time-limit ladder: 催办 at the sign-for limit, yellow at 80% of the resolution
limit, red and 督办 at 100%, 通报 some working days after.

Each step is a durable deadline (PostgreSQL, fired through the relay) and a
``supervision_notices`` row whose unique key makes the step happen once, however many
times its job runs. A step whose reason has passed (the unit signed, the order was
completed) does nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import asyncpg

from hotline.deadlines import queries as deadline_queries
from hotline.deadlines.handlers import DeadlineHandler
from hotline.deadlines.limits import due_at as limit_due_at
from hotline.deadlines.limits import of_order, time_limit
from hotline.orders import queries as order_queries
from hotline.orders.lifecycle import DONE, FINAL
from hotline.orders.service import record_event
from hotline.settings import Settings
from hotline.workcal import Unit, WorkingCalendar
from routing import queries

SIGN_FOR = "sign_for"
RESOLUTION = "resolution"
RESOLUTION_WARNING = "resolution_warning"
PUBLIC_NOTICE = "public_notice"
RESOLUTION_CLOCKS = [RESOLUTION_WARNING, RESOLUTION, PUBLIC_NOTICE]


async def ensure_order_clocks(
    conn: asyncpg.Connection,
    order: asyncpg.Record,
    *,
    calendar: WorkingCalendar,
    settings: Settings,
    now: dt.datetime,
) -> None:
    """Add the yellow and public-notice deadlines the first time an order is routed."""
    existing = await queries.open_deadline_kinds(conn, order["id"])
    if RESOLUTION_WARNING in existing:
        return
    await _insert_warning_and_notice(
        conn, order, order["resolution_due_at"], calendar=calendar, settings=settings, now=now
    )


async def reset_resolution_clock(
    conn: asyncpg.Connection,
    order: asyncpg.Record,
    due_at: dt.datetime,
    *,
    calendar: WorkingCalendar,
    settings: Settings,
    now: dt.datetime,
) -> None:
    """A new resolution due (an approved extension, a coordinated deadline): cancel the
    pending steps and set them again from the new due."""
    await deadline_queries.cancel_open(conn, order["id"], RESOLUTION_CLOCKS)
    await deadline_queries.insert(
        conn, order_id=order["id"], kind=RESOLUTION, due_at=due_at, now=now
    )
    await _insert_warning_and_notice(
        conn, order, due_at, calendar=calendar, settings=settings, now=now
    )


async def reset_sign_for_clocks(
    conn: asyncpg.Connection,
    order: asyncpg.Record,
    *,
    calendar: WorkingCalendar,
    now: dt.datetime,
) -> None:
    """The order's sign-for limit changed (its priority did): each dispatch still waiting
    to be signed for is due again from its own dispatch, on the new limit."""
    kept = of_order(order)
    for dispatch in await queries.unsigned_dispatches(conn, order["id"]):
        due_at = limit_due_at(kept, "sign_for", order["priority"], calendar, dispatch["created_at"])
        await queries.move_sign_for_due(conn, dispatch["id"], due_at)
        await deadline_queries.cancel_dispatch_clock(conn, dispatch["id"], SIGN_FOR)
        await deadline_queries.insert(
            conn,
            order_id=order["id"],
            dispatch_id=dispatch["id"],
            kind=SIGN_FOR,
            due_at=due_at,
            now=now,
        )


async def _insert_warning_and_notice(
    conn: asyncpg.Connection,
    order: asyncpg.Record,
    due_at: dt.datetime,
    *,
    calendar: WorkingCalendar,
    settings: Settings,
    now: dt.datetime,
) -> None:
    # The share is counted in the kind of time the order's limit runs on: natural hours
    # for an urgent order on the item's urgent limits.
    unit = await _resolution_unit(conn, order)
    warning = calendar.fraction_point(order["created_at"], due_at, settings.warning_fraction, unit)
    await _insert_steps(
        conn, order["id"], due_at, warning, calendar=calendar, settings=settings, now=now
    )


async def _insert_steps(
    conn: asyncpg.Connection,
    order_id: int,
    due_at: dt.datetime,
    warning: dt.datetime | None,
    *,
    calendar: WorkingCalendar,
    settings: Settings,
    now: dt.datetime,
) -> None:
    """The yellow warning (unless ``warning`` is None: it went out already) and the
    public notice that follows the resolution due."""
    notice = calendar.add(due_at, settings.public_notice_working_days, "working_days")
    steps = (
        [(PUBLIC_NOTICE, notice)]
        if warning is None
        else [
            (RESOLUTION_WARNING, warning),
            (PUBLIC_NOTICE, notice),
        ]
    )
    for kind, moment in steps:
        await deadline_queries.insert(conn, order_id=order_id, kind=kind, due_at=moment, now=now)


async def _resolution_unit(conn: asyncpg.Connection, order: asyncpg.Record) -> Unit:
    return time_limit(of_order(order), "resolution", order["priority"])[1]


@dataclass(frozen=True)
class Paused:
    """What was left of a stopped resolution clock, in the kind of time it runs on
    (``hours``: natural; ``working_hours``: working time, also for limits in working
    days): until the due, and until the yellow warning (None: it went out already)."""

    remaining_seconds: Decimal
    warning_seconds: Decimal | None
    unit: Unit


async def pause_resolution_clock(
    conn: asyncpg.Connection,
    order: asyncpg.Record,
    *,
    calendar: WorkingCalendar,
    now: dt.datetime,
) -> Paused:
    """挂起: the pending steps of the resolution clock are cancelled (none fires while
    the order is suspended); the time each had left is returned for the resumption."""
    unit: Unit = "hours" if await _resolution_unit(conn, order) == "hours" else "working_hours"
    warning = await queries.pending_deadline_due(conn, order["id"], RESOLUTION_WARNING)
    paused = Paused(
        remaining_seconds=calendar.span(now, order["resolution_due_at"], unit),
        warning_seconds=None if warning is None else calendar.span(now, warning, unit),
        unit=unit,
    )
    await deadline_queries.cancel_open(conn, order["id"], RESOLUTION_CLOCKS)
    return paused


async def resume_resolution_clock(
    conn: asyncpg.Connection,
    order_id: int,
    paused: Paused,
    *,
    calendar: WorkingCalendar,
    settings: Settings,
    now: dt.datetime,
) -> dt.datetime:
    """The clock runs again from ``now`` with the time it had left: the new resolution
    due, the yellow warning as far ahead as it was, the public notice after the due."""
    due_at = calendar.add(now, paused.remaining_seconds / 3600, paused.unit)
    warning = None
    if paused.warning_seconds is not None:
        warning = calendar.add(now, paused.warning_seconds / 3600, paused.unit)
    await deadline_queries.insert(conn, order_id=order_id, kind=RESOLUTION, due_at=due_at, now=now)
    await _insert_steps(
        conn, order_id, due_at, warning, calendar=calendar, settings=settings, now=now
    )
    return due_at


def _still_open(order: asyncpg.Record) -> bool:
    return order["status"] not in FINAL | DONE


async def _step(
    conn: asyncpg.Connection,
    deadline: asyncpg.Record,
    now: dt.datetime,
    *,
    level: str,
    event: str,
    message: str,
    enterprise_id: int | None,
) -> bool:
    notice = await queries.insert_notice(
        conn,
        order_id=deadline["order_id"],
        dispatch_id=deadline["dispatch_id"],
        enterprise_id=enterprise_id,
        level=level,
        message=message,
        now=now,
    )
    if notice is None:
        return False
    # The event is the supervisors' (and the unit's) alert: the live stream pushes it.
    await record_event(
        conn,
        deadline["order_id"],
        event,
        None,
        now,
        data={
            "notice_id": notice,
            "level": level,
            "message": message,
            "enterprise_id": enterprise_id,
        },
    )
    return True


async def on_sign_for_due(
    conn: asyncpg.Connection, deadline: asyncpg.Record, now: dt.datetime
) -> None:
    """催办: the unit has not signed in time; remind it, alert the supervisors, and mark
    the dispatch for the figures."""
    dispatch = await queries.get_dispatch(conn, deadline["dispatch_id"])
    if dispatch is None or dispatch["state"] != "pending":
        return
    await queries.mark_sign_for_missed(conn, dispatch["id"], now)
    await _step(
        conn,
        deadline,
        now,
        level="reminder",
        event="ladder.reminder",
        message="签收超时，催办",
        enterprise_id=dispatch["enterprise_id"],
    )


def _order_steps(*steps: tuple[str, str, str]) -> DeadlineHandler:
    """A deadline handler that takes ``steps`` (level, event, message) against the order's
    lead unit, if the order is still open."""

    async def take_steps(
        conn: asyncpg.Connection, deadline: asyncpg.Record, now: dt.datetime
    ) -> None:
        order = await order_queries.get_order(conn, deadline["order_id"])
        if order is None or not _still_open(order):
            return
        for level, event, message in steps:
            await _step(
                conn,
                deadline,
                now,
                level=level,
                event=event,
                message=message,
                enterprise_id=order["lead_enterprise_id"],
            )

    return take_steps


on_resolution_warning = _order_steps(("yellow", "ladder.yellow", "办理时限即将到期（黄色预警）"))
on_resolution_due = _order_steps(
    ("red", "ladder.red", "办理超时（红色预警）"),
    ("supervision", "ladder.supervision", "超时督办"),
)
on_public_notice_due = _order_steps(("public_notice", "ladder.public_notice", "严重超时，予以通报"))


HANDLERS = {
    SIGN_FOR: on_sign_for_due,
    RESOLUTION_WARNING: on_resolution_warning,
    RESOLUTION: on_resolution_due,
    PUBLIC_NOTICE: on_public_notice_due,
}
