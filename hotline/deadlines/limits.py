"""An order's time limits: its service item's, or the item's urgent ones.

The one place that says which limit a clock of an order runs on; registration, dispatch,
reopening and the ladder all ask here, and ``WorkingCalendar.add`` turns the answer into
a moment.

An order keeps the limits it was registered under (migration 0049): registration copies
its item's limits onto the order (``snapshot``), and every later deadline of the order
is computed from that copy (``of_order``), so an administrator's change of an item's
limits applies to orders registered after it and leaves the running ones alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

import asyncpg

from hotline.workcal import Unit, WorkingCalendar

Clock = Literal["sign_for", "first_contact", "resolution"]
# An item's limits, or an order's copy of them: ``<clock>_amount``, ``<clock>_unit`` and
# ``urgent_<clock>_hours`` for each clock.
Limits = Mapping[str, Any]
CLOCKS: tuple[Clock, ...] = ("sign_for", "first_contact", "resolution")


def snapshot(
    item: Limits, *, latest: Mapping[str, dt.datetime] | None = None
) -> dict[str, str | None]:
    """The limits of ``item`` as an order keeps them (``work_orders.time_limits``):
    amounts as decimal strings, so that none is rounded through a float. ``latest``: a
    moment a clock must run out by whatever the item says (``<clock>_by``: the limits
    of the platform an order came from)."""
    kept: dict[str, str | None] = {}
    for clock in CLOCKS:
        kept[f"{clock}_amount"] = str(item[f"{clock}_amount"])
        kept[f"{clock}_unit"] = item[f"{clock}_unit"]
        urgent = item[f"urgent_{clock}_hours"]
        kept[f"urgent_{clock}_hours"] = None if urgent is None else str(urgent)
    for name, moment in (latest or {}).items():
        if name in CLOCKS:
            kept[f"{name}_by"] = moment.isoformat()
    return kept


def of_order(order: asyncpg.Record) -> Limits:
    """The limits ``order`` was registered under (a registered order always has them)."""
    kept: Limits | None = order["time_limits"]
    assert kept is not None, "a registered order keeps its limits"
    return kept


def time_limit(item: Limits, clock: Clock, priority: str) -> tuple[Decimal, Unit]:
    """The limit (amount, unit) of ``clock`` for an order of ``item`` and ``priority``.

    An urgent order of an item with urgent limits runs on them, in natural hours: a
    burst main reported on a Saturday evening cannot wait for Monday. An item without
    urgent limits keeps its normal ones for urgent orders too."""
    urgent = item[f"urgent_{clock}_hours"]
    if priority == "urgent" and urgent is not None:
        return Decimal(urgent), "hours"
    return Decimal(item[f"{clock}_amount"]), item[f"{clock}_unit"]


def due_at(
    item: Limits,
    clock: Clock,
    priority: str,
    calendar: WorkingCalendar,
    start: dt.datetime,
) -> dt.datetime:
    """When ``clock`` of an order of ``item`` and ``priority`` started at ``start`` runs out:
    by the limit, or by the moment the order's limits say it must (``<clock>_by``) when
    that is sooner and still ahead (a clock started after that moment, a redo, runs on
    the limit)."""
    amount, unit = time_limit(item, clock, priority)
    due = calendar.add(start, amount, unit)
    latest = item.get(f"{clock}_by")
    if latest:
        moment = dt.datetime.fromisoformat(latest)
        if start < moment < due:
            return moment
    return due


def runs_urgent(item: Limits, priority: str) -> bool:
    """Whether an order of ``item`` and ``priority`` runs on the item's urgent limits."""
    return priority == "urgent" and item["urgent_resolution_hours"] is not None
