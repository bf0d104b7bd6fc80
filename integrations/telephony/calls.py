"""The agents' side of calls: take the next waiting caller, look at a call."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from hotline.board import queries as board_queries
from hotline.callers.service import caller_profile, unknown_caller
from hotline.errors import Conflict, InvalidInput
from hotline.orders.presenting import RECORDING_PATH
from hotline.orders.service import hotline_scope
from hotline.reference.cache import reference
from hotline.reference.reach import outage_domains
from hotline.users.models import Actor, Role
from integrations.telephony import queries
from routing import queries as outage_queries
from routing.rules import area_chain

CALL_OFFERED = "call.offered"
# Running outages the screen-pop lists: more than the caller hears, the agent reads faster.
SCREEN_POP_OUTAGES = 10


async def _profile(conn: asyncpg.Connection, actor: Actor, phone: str) -> dict[str, Any]:
    """The caller's profile; a number that does not parse (withheld) is simply unknown."""
    try:
        return await caller_profile(conn, actor, phone)
    except InvalidInput:
        return {**unknown_caller(phone), "phone": phone}


async def take_next_call(
    conn: asyncpg.Connection, actor: Actor, now: dt.datetime
) -> dict[str, Any] | None:
    """Assign the oldest waiting call to ``actor`` and return the screen-pop for it, or
    None when nobody waits.

    Precondition: inside a transaction; ``actor`` is a user (agent or supervisor). A
    call taker takes calls of their hotlines; one bound to no hotline, of any. Effect:
    the call's agent and answer time are set; two agents asking at once get different
    calls. An agent who is offline (logged out, console closed
    past the grace period, or never set a status) is offered none: Conflict."""
    assert actor.user_id is not None, "only users take calls"
    if actor.role is Role.AGENT:
        status = await board_queries.get_agent_status(conn, actor.user_id)
        if status is None or status["status"] == "offline":
            raise Conflict(
                "you are offline: set your status to available to take calls",
                code="agent_offline",
            )
    call = await queries.take_next_call(
        conn, hotline_codes=hotline_scope(actor), agent_user_id=actor.user_id, now=now
    )
    if call is None:
        return None
    hotline_row = await reference.hotline(conn, call["hotline_code"])
    caller = await queries.caller_by_phone(conn, call["from_phone"])
    outages = await outage_queries.running_outages(
        conn,
        now,
        domains=outage_domains(hotline_row["domain"] if hotline_row else None),
        areas=await area_chain(conn, caller["area_code"] if caller else None),
        limit=SCREEN_POP_OUTAGES,
    )
    return {
        "type": CALL_OFFERED,
        "call_id": call["id"],
        "call_sid": call["call_sid"],
        "hotline_code": call["hotline_code"],
        # The old name, for API clients that read it: until the next release.
        "hotline": call["hotline_code"],
        "caller": await _profile(conn, actor, call["from_phone"]),
        # What the caller heard before the menu (their area's first), and more.
        "outages": [dict(o) for o in outages],
    }


async def call_detail(conn: asyncpg.Connection, call_id: int) -> dict[str, Any] | None:
    """A call with the orders made from it (drafts from a recorded message included)."""
    call = await queries.get_call(conn, call_id)
    if call is None:
        return None
    orders = await queries.orders_of_call(conn, call_id)
    # The carrier's recording URL stays here: the console plays it through the server.
    shown = {k: v for k, v in call.items() if k != "recording_url"}
    has_recording = call["recording_sid"] is not None
    return {
        **shown,
        "recording": RECORDING_PATH.format(call_id=call_id) if has_recording else None,
        "orders": [dict(o) for o in orders],
    }
