"""An order's time limits: its service item's, or the item's urgent ones.

The one place that says which limit a clock of an order runs on; registration, dispatch,
reopening and the ladder all ask here, and ``WorkingCalendar.add`` turns the answer into
a moment.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

import asyncpg

from hotline.workcal import Unit, WorkingCalendar

Clock = Literal["sign_for", "first_contact", "resolution"]


def time_limit(item: asyncpg.Record, clock: Clock, priority: str) -> tuple[Decimal, Unit]:
    """The limit (amount, unit) of ``clock`` for an order of ``item`` and ``priority``.

    An urgent order of an item with urgent limits runs on them, in natural hours: a
    burst main reported on a Saturday evening cannot wait for Monday. An item without
    urgent limits keeps its normal ones for urgent orders too."""
    urgent = item[f"urgent_{clock}_hours"]
    if priority == "urgent" and urgent is not None:
        return Decimal(urgent), "hours"
    return Decimal(item[f"{clock}_amount"]), item[f"{clock}_unit"]


def due_at(
    item: asyncpg.Record,
    clock: Clock,
    priority: str,
    calendar: WorkingCalendar,
    start: dt.datetime,
) -> dt.datetime:
    """When ``clock`` of an order of ``item`` and ``priority`` started at ``start`` runs out."""
    amount, unit = time_limit(item, clock, priority)
    return calendar.add(start, amount, unit)


def runs_urgent(item: asyncpg.Record, priority: str) -> bool:
    """Whether an order of ``item`` and ``priority`` runs on the item's urgent limits."""
    return priority == "urgent" and item["urgent_resolution_hours"] is not None
