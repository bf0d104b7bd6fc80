"""Administrators keep the reference data: areas, enterprises and their service windows,
the service catalogue, the GB/T 39666 classification codes (docs/core.md, "Administering
reference data", "Classification codes (GB/T 39666)").

Each change is one transaction that writes the row (the seeding upserts: one shape for a
file and for a person), records it in ``admin_changes`` and, through the tables'
triggers, moves the reference version on; the caller announces it after the commit.
Nothing is deleted: a row is retired (``active`` false), and retiring what live orders
still need is refused with what needs it (``InUse``). An order keeps the limits it was
registered under (hotline/deadlines/limits.py), so a change of an item's limits never
moves a running order's deadlines.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

import asyncpg
from pydantic import ConfigDict, Field

from hotline import audit, i18n
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.reference import queries
from hotline.users.models import Actor
from hotline.vocabulary import RenamedFields, renamed

Code = Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")
Name = Field(min_length=1, max_length=100)
Domain = Literal["water", "gas", "heating", "billing"]
Unit = Literal["hours", "working_hours", "working_days"]
Kind = Literal["consultation", "repair", "complaint", "suggestion", "praise", "request"]


class _Input(RenamedFields):
    """A body of the reference administration: its fields are named as the row it answers
    (docs/core.md, "Administering reference data")."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AreaChange(_Input):
    name_zh: str = Name
    name_en: str = Name


class AreaInput(AreaChange):
    """A district (no parent) or a street of a district."""

    code: str = Code
    parent: str | None = Field(
        default=None,
        description="the code of a street's district",
        validation_alias=renamed("parent_code", "parent"),
    )


class EnterpriseChange(_Input):
    kind: Literal["group", "company", "branch"]
    parent: str | None = Field(
        default=None,
        description="the code of a branch's enterprise",
        validation_alias=renamed("parent_code", "parent"),
    )
    name_zh: str = Name
    name_en: str = Name
    domains: list[Domain] = Field(default_factory=list, max_length=4)
    hotline: str | None = Field(default=None, validation_alias=renamed("hotline_code", "hotline"))


class EnterpriseInput(EnterpriseChange):
    code: str = Code


class WindowChange(_Input):
    name_zh: str = Name
    name_en: str = Name
    area: str | None = Field(default=None, validation_alias=renamed("area_code", "area"))


class WindowInput(WindowChange):
    code: str = Code


# The three clocks of an item's limits (hotline/deadlines/limits.py).
CLOCKS = ("sign_for", "first_contact", "resolution")
# A limit's amount (natural hours for the urgent ones).
AMOUNT: dict[str, Any] = {"gt": 0, "le": 10000, "max_digits": 8, "decimal_places": 2}


def _flat(old: str, **constraints: Any) -> Any:
    """A limit's field, named flat as the item answers it (``sign_for_amount``), still read
    from its old object (``sign_for.amount``) until the next release."""
    return Field(validation_alias=renamed(old.replace(".", "_"), old), **constraints)


class ItemChange(_Input):
    """A service item's limits are flat, as the item answers them: ``<clock>_amount`` and
    ``<clock>_unit`` for each clock (``sign_for``, ``first_contact``, ``resolution``), and
    ``urgent_<clock>_hours`` (all three, or none: no urgent limits). Until the next
    release the old shape is accepted too: ``sign_for``, ``first_contact`` and
    ``resolution`` as objects ``{amount, unit}``, ``urgent`` as ``{sign_for_hours,
    first_contact_hours, resolution_hours}`` or null; its fields' errors are then named
    ``sign_for.amount`` …, and a clock given in both shapes is refused."""

    domain: Domain | None = None
    kind: Kind
    name_zh: str = Name
    name_en: str = Name
    sign_for_amount: Decimal = _flat("sign_for.amount", **AMOUNT)
    sign_for_unit: Unit = _flat("sign_for.unit")
    first_contact_amount: Decimal = _flat("first_contact.amount", **AMOUNT)
    first_contact_unit: Unit = _flat("first_contact.unit")
    resolution_amount: Decimal = _flat("resolution.amount", **AMOUNT)
    resolution_unit: Unit = _flat("resolution.unit")
    urgent_sign_for_hours: Decimal | None = _flat("urgent.sign_for_hours", default=None, **AMOUNT)
    urgent_first_contact_hours: Decimal | None = _flat(
        "urgent.first_contact_hours", default=None, **AMOUNT
    )
    urgent_resolution_hours: Decimal | None = _flat(
        "urgent.resolution_hours", default=None, **AMOUNT
    )
    keywords: list[str] = Field(default_factory=list, max_length=50)
    visit_after_bad_rating: bool | None = Field(
        default=None, description="上门回访 after an unsatisfied callback; unset: on for repairs"
    )
    classification_code: str | None = Field(
        default=None,
        pattern=r"^[0-9]{6}$",
        description="the GB/T 39666 middle or minor class the item is exchanged under;"
        " unset: kept (none for a new item), null: none",
    )


class ItemInput(ItemChange):
    __doc__ = ItemChange.__doc__  # the schema's description: how limits are given

    code: str = Code


class ClassificationChange(_Input):
    name_zh: str = Name
    name_en: str = Field(default="", max_length=100)


class ClassificationInput(ClassificationChange):
    code: str = Field(
        pattern=r"^[0-9]{6}$",
        description="six digits: a major class XX0000, a middle class XXYY00, a minor class"
        " XXYYZZ; its class (major, then middle) must exist",
    )


class ClassificationImport(_Input):
    content: str = Field(
        min_length=1,
        max_length=900_000,
        description="the CSV file's text: lines code,name_zh,name_en (UTF-8, with or"
        " without a BOM; a header line allowed; name_en may be empty)",
    )
    dry_run: bool = Field(default=False, description="only check, store nothing")


Entity = Literal["area", "enterprise", "window", "service_item", "classification"]
_TABLES: dict[Entity, str] = {
    "area": "areas",
    "enterprise": "enterprises",
    "window": "service_windows",
    "service_item": "service_items",
    "classification": "classification_codes",
}
_READ = {
    "area": queries.get_area,
    "enterprise": queries.get_enterprise_by_code,
    "window": queries.get_window,
    "service_item": queries.get_service_item,
    "classification": queries.get_classification,
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


def _invalid(fields: Mapping[str, str | i18n.Text]) -> None:
    if fields:
        raise InvalidInput("the request has invalid fields", fields=fields)


# Areas


async def _check_parent_area(conn: asyncpg.Connection, area: AreaInput) -> None:
    if area.parent is None:
        return
    row = await queries.get_area(conn, area.parent)
    if row is None or row["level"] != "district" or not row["active"]:
        _invalid({area.sent_name("parent"): "not an active district"})


async def do_create_area(conn: asyncpg.Connection, actor: Actor, area: AreaInput) -> asyncpg.Record:
    if await queries.get_area(conn, area.code) is not None:
        raise _exists(area.code)
    await _check_parent_area(conn, area)
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
            fields[change.sent_name("parent")] = "a branch belongs to an active group or company"
        elif parent["id"] == own_id:
            fields[change.sent_name("parent")] = "an enterprise is not its own branch"
        else:
            parent_id = int(parent["id"])
    elif change.parent is not None:
        fields[change.sent_name("parent")] = "only a branch has a parent"
    if change.hotline and await queries.get_hotline(conn, change.hotline) is None:
        fields[change.sent_name("hotline")] = "unknown hotline"
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


async def _check_window_area(conn: asyncpg.Connection, window: WindowChange) -> None:
    if window.area is None:
        return
    row = await queries.get_area(conn, window.area)
    if row is None or not row["active"]:
        _invalid({window.sent_name("area"): "unknown or retired area"})


async def do_create_window(
    conn: asyncpg.Connection, actor: Actor, enterprise_code: str, window: WindowInput
) -> asyncpg.Record:
    unit = await enterprise(conn, enterprise_code)
    if await queries.get_window(conn, window.code) is not None:
        raise _exists(window.code)
    await _check_window_area(conn, window)
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
    await _check_window_area(conn, change)
    await queries.upsert_window(
        conn, int(before["enterprise_id"]), {"code": code, **change.model_dump()}
    )
    return await _changed(conn, actor, "window", code, "edit", before)


# The catalogue


def _item_values(item: ItemChange, before: asyncpg.Record | None) -> dict[str, Any]:
    """The item as the upsert takes it (the seed file's shape: each clock's limit an
    object, the urgent ones together or null); an unset 上门回访 flag keeps the item's, or
    for a new item takes the catalogue's default."""
    values = item.model_dump()
    for clock in CLOCKS:
        values[clock] = {
            "amount": values.pop(f"{clock}_amount"),
            "unit": values.pop(f"{clock}_unit"),
        }
    urgent = {f"{clock}_hours": values.pop(f"urgent_{clock}_hours") for clock in CLOCKS}
    given = [name for name, hours in urgent.items() if hours is not None]
    if given and len(given) < len(CLOCKS):
        # The missing ones named in the shape the others came in.
        old = item.sent_name(f"urgent_{given[0]}") == "urgent"
        _invalid(
            {
                f"urgent{'.' if old else '_'}{name}": "give the three urgent limits or none"
                for name in urgent
                if name not in given
            }
        )
    values["urgent"] = urgent if given else None
    if values["visit_after_bad_rating"] is None:
        del values["visit_after_bad_rating"]
        if before is not None:
            values["visit_after_bad_rating"] = before["visit_after_bad_rating"]
    return values


async def _check_item_classification(conn: asyncpg.Connection, code: str | None) -> None:
    """An item is exchanged under an active middle or minor class: a major class is too
    broad for the 12345 platform to route by."""
    if code is None:
        return
    row = await queries.get_classification(conn, code)
    if row is None or not row["active"] or row["level"] == "major":
        _invalid({"classification_code": "not an active middle or minor class"})


async def do_create_item(conn: asyncpg.Connection, actor: Actor, item: ItemInput) -> asyncpg.Record:
    if await queries.get_service_item(conn, item.code) is not None:
        raise _exists(item.code)
    await _check_item_classification(conn, item.classification_code)
    await queries.upsert_service_item(conn, _item_values(item, None))
    if item.classification_code is not None:
        await queries.set_item_classification(conn, item.code, item.classification_code)
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
    # An unset code keeps the item's (clients that predate it do not clear it).
    classify = "classification_code" in change.model_fields_set
    if classify:
        await _check_item_classification(conn, change.classification_code)
    await queries.upsert_service_item(conn, {"code": code, **_item_values(change, before)})
    if classify:
        await queries.set_item_classification(conn, code, change.classification_code)
    return await _changed(conn, actor, "service_item", code, "edit", before)


# The GB/T 39666 classification: six digits, two each for the major (大类), middle (中类)
# and minor (小类) class.

_SIX_DIGITS = re.compile(r"[0-9]{6}")


def parent_of(code: str) -> str | None:
    """The class a code sits in: a minor's middle class, a middle's major class."""
    if code.endswith("0000"):
        return None
    return code[:2] + "0000" if code.endswith("00") else code[:4] + "00"


def _code_problem(code: str) -> i18n.Text | None:
    """What is wrong with a code's shape (the table's check, said to a person)."""
    if not _SIX_DIGITS.fullmatch(code):
        return i18n.Text("a code is six digits")
    if code.startswith("00"):
        return i18n.Text("no major class is 00")
    if code[2:4] == "00" and code[4:] != "00":
        return i18n.Text("a minor class sits in a middle class: its middle digits are not 00")
    return None


async def do_create_classification(
    conn: asyncpg.Connection, actor: Actor, body: ClassificationInput
) -> asyncpg.Record:
    problem = _code_problem(body.code)
    if problem:
        _invalid({"code": problem})
    if await queries.get_classification(conn, body.code) is not None:
        raise _exists(body.code)
    parent = parent_of(body.code)
    if parent is not None:
        row = await queries.get_classification(conn, parent)
        if row is None or not row["active"]:
            _invalid({"code": i18n.Text("its class {parent} is unknown or retired", parent=parent)})
    await queries.upsert_classification(conn, body.code, body.name_zh, body.name_en)
    row = await queries.get_classification(conn, body.code)
    assert row is not None
    await _record(conn, actor, "classification", body.code, "create", None, row)
    return row


async def do_update_classification(
    conn: asyncpg.Connection, actor: Actor, code: str, change: ClassificationChange
) -> asyncpg.Record:
    before = await queries.get_classification(conn, code)
    if before is None:
        raise _missing(code)
    await queries.upsert_classification(conn, code, change.name_zh, change.name_en)
    return await _changed(conn, actor, "classification", code, "edit", before)


_HEADER = ["code", "name_zh", "name_en"]
# At most this many bad rows are named in a refusal (a wrong file can have thousands).
_ROW_ERRORS = 50


def read_classifications(
    content: str,
) -> tuple[dict[str, tuple[int, str, str]], dict[str, i18n.Text]]:
    """The codes of a CSV file (``code,name_zh,name_en``; a BOM, a header line and blank
    lines allowed) with their line and names, and what is wrong with each bad line
    (``rows.N``, N the file's line number)."""
    found: dict[str, tuple[int, str, str]] = {}
    errors: dict[str, i18n.Text] = {}
    lines = csv.reader(io.StringIO(content.removeprefix("\ufeff")))
    for number, row in enumerate(lines, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or [c.lower() for c in cells[:3]] == _HEADER[: len(cells[:3])]:
            continue
        code = cells[0]
        # A spreadsheet drops a major class's leading zero (010000 → 10000).
        if len(code) == 5 and code.isdigit():
            code = "0" + code
        names = cells[1:]
        problem = _code_problem(code)
        if len(cells) not in (2, 3):
            problem = i18n.Text("expected code,name_zh,name_en")
        elif problem is None and (not names[0] or any(len(n) > 100 for n in names)):
            problem = i18n.Text("a name is 1 to 100 characters (name_en may be empty)")
        elif problem is None and code in found:
            problem = i18n.Text("{code} is on line {line} already", code=code, line=found[code][0])
        if problem is not None:
            errors[f"rows.{number}"] = problem
            continue
        found[code] = (number, cells[1], cells[2] if len(cells) == 3 else "")
    return found, errors


def _refuse_rows(errors: dict[str, i18n.Text]) -> None:
    """Every bad line (the first ``_ROW_ERRORS``, in the file's order), or nothing."""
    if errors:
        lines = sorted(errors, key=lambda name: int(name.split(".")[1]))
        raise InvalidInput(
            "the classification file has {count} bad lines; nothing was imported",
            code="invalid_classification_file",
            fields={name: errors[name] for name in lines[:_ROW_ERRORS]},
            count=len(errors),
        )


async def do_import_classifications(
    conn: asyncpg.Connection, actor: Actor, body: ClassificationImport
) -> dict[str, Any]:
    """Upserts a file's codes, all or none: new codes are added active, known ones take
    the file's names and keep their state; a code's class must be in the file or the
    table. Each code added or renamed is recorded (action ``import``)."""
    rows, errors = read_classifications(body.content)
    if not rows and not errors:
        raise InvalidInput(
            "the file has no codes",
            code="invalid_classification_file",
            fields={"content": "the file has no codes"},
        )
    wanted = sorted({*rows, *(p for p in map(parent_of, rows) if p)})
    known = {r["code"]: r for r in await queries.classification_codes(conn, wanted)}
    for code, (line, _, _) in rows.items():
        parent = parent_of(code)
        if parent is not None and parent not in rows and parent not in known:
            errors[f"rows.{line}"] = i18n.Text(
                "its class {parent} is neither in the file nor known", parent=parent
            )
    _refuse_rows(errors)
    created = [c for c in sorted(rows) if c not in known]
    updated = [
        c
        for c in sorted(rows)
        if c in known and (known[c]["name_zh"], known[c]["name_en"]) != rows[c][1:]
    ]
    if not body.dry_run:
        # By code: a class before what sits in it, as the table's reference needs.
        for code in sorted({*created, *updated}):
            await queries.upsert_classification(conn, code, *rows[code][1:])
        for after in await queries.classification_codes(conn, [*created, *updated]):
            before = known.get(after["code"])
            await _record(conn, actor, "classification", after["code"], "import", before, after)
    return {
        "created": created,
        "updated": updated,
        "unchanged": len(rows) - len(created) - len(updated),
        "dry_run": body.dry_run,
    }


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
    elif entity == "classification":
        use = await queries.classification_in_use(conn, row["code"])
        if use["items"]:
            raise InUse(
                "active service items are exchanged under this class or a class in it:"
                " {items}; map them to another class first",
                code="classification_in_use",
                items=", ".join(use["items"]),
            )
        if use["classes"]:
            raise InUse(
                "{classes} active classes sit in this class; retire them first",
                code="classification_in_use",
                classes=use["classes"],
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
    elif entity == "classification" and before["parent_code"] is not None:
        parent = await queries.get_classification(conn, before["parent_code"])
        if parent is not None and not parent["active"]:
            raise Conflict(
                "its class {parent} is retired; bring that back first",
                code="classification_parent_retired",
                parent=before["parent_code"],
            )
    await queries.set_active(conn, _TABLES[entity], code, active)
    return await _changed(conn, actor, entity, code, "enable" if active else "disable", before)
