"""Retiring a unit (an enterprise or a branch) while routing names it.

The core refuses to retire a unit that live work still needs (hotline/reference/admin.py):
orders it has to handle, active branches, active routing rules. The rules are routing's
and can safely name another unit instead, so the administrator may give ``move_to``:
each rule naming the retired unit then names the target in its place (kept once, with
its history), in the same transaction as the retirement. Live dispatches are not moved:
taking an order from a unit is the centre's decision on that order (redispatch), not a
side effect of an administrator's change.
"""

from __future__ import annotations

import datetime as dt

import asyncpg

from hotline.errors import InvalidInput
from hotline.reference import admin
from hotline.reference import queries as reference
from hotline.users.models import Actor
from routing import queries
from routing.rules import RuleInput, do_update_rule


def _named_instead(ids: list[int], retired: int, target: int, taken: set[int]) -> list[int]:
    """``ids`` with ``retired`` replaced by ``target``, leaving out ids in ``taken``."""
    moved: list[int] = []
    for i in ids:
        unit = target if i == retired else i
        if unit not in moved and unit not in taken:
            moved.append(unit)
    return moved


async def _move_rules(
    conn: asyncpg.Connection, actor: Actor, retired: int, target: int, now: dt.datetime
) -> None:
    for rule in await queries.rules_naming(conn, retired):
        candidates = _named_instead(list(rule["candidates"]), retired, target, set())
        assisting = _named_instead(list(rule["assisting"]), retired, target, set(candidates))
        moved = RuleInput(
            service_item=rule["service_item_code"],
            domain=rule["domain"],
            area=rule["area_code"],
            candidates=candidates,
            assisting=assisting,
            note=rule["note"],
            active=True,
        )
        await do_update_rule(conn, actor, int(rule["id"]), moved, now)


async def do_retire_unit(
    conn: asyncpg.Connection, actor: Actor, code: str, move_to: str | None, now: dt.datetime
) -> asyncpg.Record:
    """Retire unit ``code``; with ``move_to`` its routing rules name that unit first."""
    unit = await admin.enterprise(conn, code)
    if move_to is not None:
        target = await reference.get_enterprise_by_code(conn, move_to)
        if target is None or target["id"] == unit["id"] or not target["active"]:
            raise InvalidInput(
                "the request has invalid fields",
                fields={"move_to": "another active unit"},
            )
        await _move_rules(conn, actor, int(unit["id"]), int(target["id"]), now)
    return await admin.do_set_active(conn, actor, "enterprise", code, False)
