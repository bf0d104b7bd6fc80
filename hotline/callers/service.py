"""The caller's profile for the agent's screen-pop (who they are, what they asked
before), and its changes by agents and supervisors, each recorded."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from hotline.callers import queries
from hotline.callers.models import CallerUpdate
from hotline.errors import InvalidInput
from hotline.orders.lifecycle import DONE, FINAL
from hotline.phones import normalize_phone
from hotline.reference.cache import reference
from hotline.users.models import Actor

HISTORY = 20
CHANGES_SHOWN = 50
# What a line of another hotline's order shows: that it exists, not what it is about.
OTHER_HOTLINE_LINE = ("number", "hotline_code", "status", "created_at")


def _order_line(actor: Actor, order: asyncpg.Record) -> dict[str, Any]:
    if actor.sees_hotline(order["hotline_code"]):
        return dict(order)
    return {**{k: order[k] for k in OTHER_HOTLINE_LINE}, "other_hotline": True}


def _contact_line(actor: Actor, contact: asyncpg.Record) -> dict[str, Any]:
    line = dict(contact)
    if line["hotline_code"] and not actor.sees_hotline(line["hotline_code"]):
        line["detail"] = ""  # an SMS's text is another hotline's business
    return line


def unknown_caller(phone: str) -> dict[str, Any]:
    """The profile of a number the centre has not heard from."""
    return {
        "phone": phone,
        "known": False,
        "citizen": None,
        "prefill": {"area_code": None, "address": ""},
        "open_orders": [],
        "past_orders": [],
        "contacts": [],
        "changes": [],
    }


async def caller_profile(conn: asyncpg.Connection, actor: Actor, phone: str) -> dict[str, Any]:
    """Flags, representative, open and past orders, recent contacts and the profile's
    changes of the caller at ``phone`` (any format ``normalize_phone`` takes), as
    ``actor`` may see them: another hotline's order is one line without its details.
    ``prefill`` is the area and address for a new order: the profile's, else those of
    the caller's latest order ``actor`` may see. An unknown caller has an empty profile
    with ``known`` false; an unparsable number raises ``InvalidInput``."""
    e164 = normalize_phone(phone)
    citizen = await queries.citizen_by_phone(conn, e164)
    if citizen is None:
        return unknown_caller(e164)
    orders = [
        _order_line(actor, o) for o in await queries.orders_of_citizen(conn, citizen["id"], HISTORY)
    ]
    closed = {s.value for s in FINAL | DONE}
    seen = next((o for o in orders if not o.get("other_hotline")), None)
    has_place = citizen["area_code"] or citizen["address"]
    prefill = citizen if has_place or seen is None else seen
    contacts = await queries.recent_contacts(conn, citizen["id"], 10)
    return {
        "phone": e164,
        "known": True,
        "citizen": dict(citizen),
        "prefill": {"area_code": prefill["area_code"], "address": prefill["address"] or ""},
        "open_orders": [o for o in orders if o["status"] not in closed],
        "past_orders": [o for o in orders if o["status"] in closed],
        "contacts": [_contact_line(actor, c) for c in contacts],
        "changes": [
            dict(c) for c in await queries.citizen_changes(conn, citizen["id"], CHANGES_SHOWN)
        ],
    }


def _text(value: Any) -> str:
    """A value as the history shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def _check_update(
    conn: asyncpg.Connection, update: CallerUpdate
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The columns to set and the profile's fields as the history names them (the
    representative by name, stored by id), or ``InvalidInput`` naming every field at
    fault."""
    sent = update.model_fields_set
    fields: dict[str, str] = {}
    values: dict[str, Any] = {}
    user: asyncpg.Record | None = None
    for name in ("name", "address", "notes"):
        if name in sent:
            values[name] = getattr(update, name) or ""
    for name in ("special_needs", "key_account", "preferred_language"):
        value = getattr(update, name)
        if name in sent and value is None:
            fields[name] = "must not be null"
        elif value is not None:
            values[name] = value
    if "area_code" in sent:
        area = update.area_code or None
        if area and await reference.area(conn, area) is None:
            fields["area_code"] = "unknown area"
        values["area_code"] = area
    if "representative_username" in sent:
        username = update.representative_username or ""
        user = await queries.representative(conn, username) if username else None
        if username and user is None:
            fields["representative_username"] = "no active enterprise user has this name"
        values["representative_user_id"] = user["id"] if user else None
    if fields:
        raise InvalidInput("the profile cannot be changed", code="invalid_caller", fields=fields)
    shown = {k: v for k, v in values.items() if k != "representative_user_id"}
    if "representative_user_id" in values:
        shown["representative_username"] = user["username"] if user else None
    return values, shown


async def do_update_caller(
    conn: asyncpg.Connection, actor: Actor, phone: str, update: CallerUpdate, now: dt.datetime
) -> dict[str, Any]:
    """Change the fields sent (a number never heard from gets a profile, unless nothing
    is sent) and record
    each change that makes a difference: field, old and new value, who, when. Returns
    the profile as ``caller_profile`` shows it."""
    e164 = normalize_phone(phone)
    values, shown = await _check_update(conn, update)
    before = await queries.citizen_by_phone(conn, e164, for_update=True)
    if before is None:
        if not values:
            return unknown_caller(e164)
        await queries.insert_citizen(conn, e164)
        before = await queries.citizen_by_phone(conn, e164, for_update=True)
        assert before is not None
    changes = [
        (field, _text(before[field]), _text(value))
        for field, value in shown.items()
        if _text(before[field]) != _text(value)
    ]
    if changes:
        await queries.update_citizen(conn, before["id"], values, now)
        await queries.insert_changes(
            conn, before["id"], changes, user_id=actor.user_id, actor=actor.name, now=now
        )
    return await caller_profile(conn, actor, e164)
