"""What an actor may see of an order: the order's fields with the actions its status
allows, and the rule for callers' numbers that every view and the live stream apply."""

from __future__ import annotations

from typing import Any

import asyncpg

from hotline import i18n
from hotline.orders.lifecycle import actions_from
from hotline.phones import mask_phone, mask_phone_fields
from hotline.users.models import Actor


def order_json(order: asyncpg.Record) -> dict[str, Any]:
    data = dict(order)
    data["actions"] = actions_from(order["status"])
    return data


# Dispatch states in which a unit handles the order (and may call the citizen).
LIVE = frozenset({"pending", "signed"})


def phone_for(actor: Actor, phone: str | None, *, handling: bool) -> str | None:
    """The caller's number as ``actor`` may see it: whole for the centre, and for a unit
    only while it handles the order (a live dispatch, pending or signed: it may have to
    call the citizen); masked otherwise. The live stream applies the same rule."""
    return phone if actor.is_centre or handling or phone is None else mask_phone(phone)


def event_json(actor: Actor, event: asyncpg.Record, language: str) -> dict[str, Any]:
    """An event of the history, its texts (a routing reason) in ``language``; the
    numbers in it (a merged caller's, 重复件) are the centre's to see, masked for units
    as the live stream masks them."""
    data = dict(event)
    data["data"] = i18n.render_texts(data["data"], language)
    if not actor.is_centre:
        data["data"] = mask_phone_fields(data["data"])
    return data
