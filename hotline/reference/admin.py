"""Administrators keep the reference data: areas, enterprises and their service windows,
the service catalogue (docs/core.md, "Administering reference data").

Each change is one transaction that writes the row (the seeding upserts: one shape for a
file and for a person), records it in ``admin_changes`` and, through the tables'
triggers, moves the reference version on; the caller announces it after the commit.
Nothing is deleted: a row is retired (``active`` false), and retiring what live orders
still need is refused with what needs it (``InUse``). An order keeps the limits it was
registered under (hotline/deadlines/limits.py), so a change of an item's limits never
moves a running order's deadlines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from hotline import audit
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.reference import queries
from hotline.users.models import Actor

Code = Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")
Name = Field(min_length=1, max_length=100)
Domain = Literal["water", "gas", "heating", "billing"]
Unit = Literal["hours", "working_hours", "working_days"]
Kind = Literal["consultation", "repair", "complaint", "suggestion", "praise", "request"]
Amount = Field(gt=0, le=10000, max_digits=8, decimal_places=2)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AreaChange(_Input):
    name_zh: str = Name
    name_en: str = Name


class AreaInput(AreaChange):
    """A district (no parent) or a street of a district."""

    code: str = Code
    parent: str | None = None


class EnterpriseChange(_Input):
    kind: Literal["group", "company", "branch"]
    parent: str | None = Field(default=None, description="the code of a branch's enterprise")
    name_zh: str = Name
    name_en: str = Name
    domains: list[Domain] = Field(default_factory=list, max_length=4)
    hotline: str | None = None


class EnterpriseInput(EnterpriseChange):
    code: str = Code


class WindowChange(_Input):
    name_zh: str = Name
    name_en: str = Name
    area: str | None = None


class WindowInput(WindowChange):
    code: str = Code


class Limit(_Input):
    amount: Decimal = Amount
    unit: Unit


class UrgentLimits(_Input):
    """An urgent order's limits, in natural hours."""

    sign_for_hours: Decimal = Amount
    first_contact_hours: Decimal = Amount
    resolution_hours: Decimal = Amount


class ItemChange(_Input):
    domain: Domain | None = None
    kind: Kind
    name_zh: str = Name
    name_en: str = Name
    sign_for: Limit
    first_contact: Limit
    resolution: Limit
    urgent: UrgentLimits | None = None
    keywords: list[str] = Field(default_factory=list, max_length=50)
    visit_after_bad_rating: bool | None = Field(
        default=None, description="上门回访 after an unsatisfied callback; unset: on for repairs"
    )


class ItemInput(ItemChange):
    code: str = Code


Entity = Literal["area", "enterprise", "window", "service_item"]
_TABLES: dict[Entity, str] = {
    "area": "areas",
    "enterprise": "enterprises",
    "window": "service_windows",
    "service_item": "service_items",
}
_READ = {
    "area": queries.get_area,
    "enterprise": queries.get_enterprise_by_code,
    "window": queries.get_window,
    "service_item": queries.get_service_item,
}


class InUse(Conflict):
    """Retiring this would strand what still needs it."""


def document(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A row as ``admin_changes`` keeps it: JSON values, the webhook secret left out."""
    if row is None:
        return None
    kept: dict[str, Any] = {}
    for key, value in row.items():
        if key == "webhook_secret":
            continue
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, dt.datetime | dt.date):
            value = value.isoformat()
        kept[key] = value
    return kept


async def _record(
    conn: asyncpg.Connection,
    actor: Actor,
    entity: str,
    key: str,
    action: str,
    before: asyncpg.Record | None,
    after: asyncpg.Record | None,
) -> None:
    await audit.record_change(
        conn,
        user_id=actor.user_id,
        entity=entity,
        key=key,
        action=action,
        before=document(before),
        after=document(after),
    )


def _exists(code: str) -> Conflict:
    return Conflict("the code {name} is already taken", code="duplicate", name=code)


def _missing(code: str) -> NotFound:
    return NotFound("nothing of this kind has the code {name}", name=code)


def _invalid(fields: dict[str, str]) -> None:
    if fields:
        raise InvalidInput("the request has invalid fields", fields=fields)


# Areas


async def _check_parent_area(conn: asyncpg.Connection, parent: str | None) -> None:
    if parent is None:
        return
    row = await queries.get_area(conn, parent)
    if row is None or row["level"] != "district" or not row["active"]:
        _invalid({"parent": "not an active district"})


async def do_create_area(conn: asyncpg.Connection, actor: Actor, area: AreaInput) -> asyncpg.Record:
    if await queries.get_area(conn, area.code) is not None:
        raise _exists(area.code)
    await _check_parent_area(conn, area.parent)
    await queries.upsert_area(conn, area.model_dump(), area.parent)
    row = await queries.get_area(conn, area.code)
    assert row is not None
    await _record(conn, actor, "area", area.code, "create", None, row)
    return row


async def do_update_area(
    conn: asyncpg.Connection, actor: Actor, code: str, change: AreaChange
) -> asyncpg.Record:
    before = await queries.get_area(conn, code)
    if before is None:
        raise _missing(code)
    await queries.upsert_area(conn, {"code": code, **change.model_dump()}, before["parent_code"])
    return await _changed(conn, actor, "area", code, "edit", before)


async def _changed(
    conn: asyncpg.Connection,
    actor: Actor,
    entity: Entity,
    code: str,
    action: str,
    before: asyncpg.Record,
) -> asyncpg.Record:
    """Reads the row again after a change and records it."""
    after = await _READ[entity](conn, code)
    assert after is not None
    await _record(conn, actor, entity, code, action, before, after)
    return after


# Enterprises and their windows


async def _check_enterprise(
    conn: asyncpg.Connection, change: EnterpriseChange, own_id: int | None
) -> int | None:
    """The parent's id; ``InvalidInput`` for a wrong parent or hotline."""
    fields: dict[str, str] = {}
    parent_id = None
    if change.kind == "branch":
        parent = (
            await queries.get_enterprise_by_code(conn, change.parent) if change.parent else None
        )
        if parent is None or not parent["active"] or parent["kind"] == "branch":
            fields["parent"] = "a branch belongs to an active group or company"
        elif parent["id"] == own_id:
            fields["parent"] = "an enterprise is not its own branch"
        else:
            parent_id = int(parent["id"])
    elif change.parent is not None:
        fields["parent"] = "only a branch has a parent"
    if change.hotline and await queries.get_hotline(conn, change.hotline) is None:
        fields["hotline"] = "unknown hotline"
    _invalid(fields)
    return parent_id


async def do_create_enterprise(
    conn: asyncpg.Connection, actor: Actor, enterprise: EnterpriseInput
) -> asyncpg.Record:
    if await queries.get_enterprise_by_code(conn, enterprise.code) is not None:
        raise _exists(enterprise.code)
    parent_id = await _check_enterprise(conn, enterprise, None)
    await queries.upsert_enterprise(
        conn, enterprise.model_dump(), kind=enterprise.kind, parent_id=parent_id
    )
    row = await queries.get_enterprise_by_code(conn, enterprise.code)
    assert row is not None
    await _record(conn, actor, "enterprise", enterprise.code, "create", None, row)
    return row


async def enterprise(conn: asyncpg.Connection, code: str) -> asyncpg.Record:
    row = await queries.get_enterprise_by_code(conn, code)
    if row is None:
        raise _missing(code)
    return row


async def do_update_enterprise(
    conn: asyncpg.Connection, actor: Actor, code: str, change: EnterpriseChange
) -> asyncpg.Record:
    before = await enterprise(conn, code)
    parent_id = await _check_enterprise(conn, change, int(before["id"]))
    await queries.upsert_enterprise(
        conn, {"code": code, **change.model_dump()}, kind=change.kind, parent_id=parent_id
    )
    return await _changed(conn, actor, "enterprise", code, "edit", before)


async def _check_window_area(conn: asyncpg.Connection, area: str | None) -> None:
    if area is None:
        return
    row = await queries.get_area(conn, area)
    if row is None or not row["active"]:
        _invalid({"area": "unknown or retired area"})


async def do_create_window(
    conn: asyncpg.Connection, actor: Actor, enterprise_code: str, window: WindowInput
) -> asyncpg.Record:
    unit = await enterprise(conn, enterprise_code)
    if await queries.get_window(conn, window.code) is not None:
        raise _exists(window.code)
    await _check_window_area(conn, window.area)
    await queries.upsert_window(conn, int(unit["id"]), window.model_dump())
    row = await queries.get_window(conn, window.code)
    assert row is not None
    await _record(conn, actor, "window", window.code, "create", None, row)
    return row


async def do_update_window(
    conn: asyncpg.Connection, actor: Actor, code: str, change: WindowChange
) -> asyncpg.Record:
    before = await queries.get_window(conn, code)
    if before is None:
        raise _missing(code)
    await _check_window_area(conn, change.area)
    await queries.upsert_window(
        conn, int(before["enterprise_id"]), {"code": code, **change.model_dump()}
    )
    return await _changed(conn, actor, "window", code, "edit", before)


# The catalogue


def _item_values(item: ItemChange, before: asyncpg.Record | None) -> dict[str, Any]:
    """The item as the upsert takes it; an unset 上门回访 flag keeps the item's, or for a
    new item takes the catalogue's default."""
    values = item.model_dump()
    if values["visit_after_bad_rating"] is None:
        del values["visit_after_bad_rating"]
        if before is not None:
            values["visit_after_bad_rating"] = before["visit_after_bad_rating"]
    return values


async def do_create_item(conn: asyncpg.Connection, actor: Actor, item: ItemInput) -> asyncpg.Record:
    if await queries.get_service_item(conn, item.code) is not None:
        raise _exists(item.code)
    await queries.upsert_service_item(conn, _item_values(item, None))
    row = await queries.get_service_item(conn, item.code)
    assert row is not None
    await _record(conn, actor, "service_item", item.code, "create", None, row)
    return row


async def do_update_item(
    conn: asyncpg.Connection, actor: Actor, code: str, change: ItemChange
) -> asyncpg.Record:
    """New names, limits or keywords: orders registered from now on take the new limits,
    the open ones keep theirs."""
    before = await queries.get_service_item(conn, code)
    if before is None:
        raise _missing(code)
    await queries.upsert_service_item(conn, {"code": code, **_item_values(change, before)})
    return await _changed(conn, actor, "service_item", code, "edit", before)


# Retiring and bringing back


async def _in_use(conn: asyncpg.Connection, entity: Entity, row: asyncpg.Record) -> None:
    """Refuses to retire what live work still needs, saying how much of what."""
    if entity == "service_item":
        use = await queries.item_in_use(conn, row["code"])
        if use["orders"]:
            raise InUse(
                "{orders} open orders are of this item; retire it when they are done",
                code="item_in_use",
                orders=use["orders"],
            )
    elif entity == "area":
        use = await queries.area_in_use(conn, row["code"])
        if any(use.values()):
            raise InUse(
                "this area still has {orders} open orders, {streets} active streets,"
                " {windows} active service windows and {rules} active routing rules",
                code="area_in_use",
                **dict(use),
            )
    elif entity == "enterprise":
        use = await queries.enterprise_in_use(conn, int(row["id"]))
        if any(use.values()):
            raise InUse(
                "this unit still has {dispatches} orders to handle, {branches} active"
                " branches and {rules} active routing rules naming it (give move_to to"
                " hand the rules to another unit)",
                code="enterprise_in_use",
                **dict(use),
            )


async def do_set_active(
    conn: asyncpg.Connection, actor: Actor, entity: Entity, code: str, active: bool
) -> asyncpg.Record:
    """Retire (``active`` false) or bring back one row; retiring is refused while live
    work needs it (``InUse``)."""
    before = await _READ[entity](conn, code)
    if before is None:
        raise _missing(code)
    if before["active"] == active:
        return before
    if not active:
        await _in_use(conn, entity, before)
    await queries.set_active(conn, _TABLES[entity], code, active)
    return await _changed(conn, actor, entity, code, "enable" if active else "disable", before)
