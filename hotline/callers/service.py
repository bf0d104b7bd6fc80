"""The caller's profile for the agent's screen-pop: who they are, what they asked before."""

from __future__ import annotations

from typing import Any

import asyncpg

from hotline.callers import queries
from hotline.orders.lifecycle import DONE, FINAL
from hotline.phones import normalize_phone

HISTORY = 20


async def caller_profile(conn: asyncpg.Connection, phone: str) -> dict[str, Any]:
    """Flags, representative, open and past orders, recent contacts of the caller at
    ``phone`` (any format ``normalize_phone`` takes). An unknown caller has an empty
    profile with ``known`` false; an unparsable number raises ``InvalidInput``."""
    e164 = normalize_phone(phone)
    citizen = await queries.citizen_by_phone(conn, e164)
    if citizen is None:
        return {
            "phone": e164,
            "known": False,
            "citizen": None,
            "open_orders": [],
            "past_orders": [],
            "contacts": [],
        }
    orders = await queries.orders_of_citizen(conn, citizen["id"], HISTORY)
    closed = {s.value for s in FINAL | DONE}
    return {
        "phone": e164,
        "known": True,
        "citizen": dict(citizen),
        "open_orders": [dict(o) for o in orders if o["status"] not in closed],
        "past_orders": [dict(o) for o in orders if o["status"] in closed],
        "contacts": [dict(c) for c in await queries.recent_contacts(conn, citizen["id"], 10)],
    }
