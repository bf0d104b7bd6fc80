"""Orders a platform pushes to us: who is asking, whether the request is genuine and
fresh, and the order it becomes.

A request names its platform by an API key (a header; only its SHA-256 is kept) and is
signed with the platform's secret over its timestamp and body, the same scheme as our
webhooks (integrations/enterprise_webhooks/signing.py); a timestamp more than five
minutes away is refused, so a recorded request cannot be played again later. The
platform's order number makes a repeated push return the order it made the first
time.

An order from a platform must get in: a reference it names that we do not know (an
area, a service item) is left out and kept in the received message rather than
refused; only a message we cannot read (no number, no description, a date without its
zone) is refused, naming the field as the platform calls it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hotline import i18n
from hotline.errors import Conflict, InvalidInput, NotAuthenticated
from hotline.orders import queries as order_queries
from hotline.orders.models import Kind, NewOrder, Priority
from hotline.orders.service import do_register_order
from hotline.reference.cache import reference
from hotline.users.models import Actor, Role
from hotline.workcal import WorkingCalendar
from integrations.enterprise_webhooks.signing import DEFAULT_TOLERANCE_SECONDS, verify
from integrations.exchange import queries
from integrations.exchange.contract import Contract

# The general item of each kind: where an order goes whose item neither the platform
# nor its classification names (the centre's agents re-classify it if need be).
GENERAL_ITEMS: dict[str, str] = {
    "consultation": "G-CONSULT",
    "request": "G-CONSULT",
    "repair": "G-REPAIR",
    "complaint": "G-COMPLAINT",
    "suggestion": "G-SUGGEST",
    "praise": "G-PRAISE",
}


class Attachment(BaseModel):
    """A file the platform keeps (a photo the citizen sent): shown as a link on the
    order page, so only a web address."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(default="", max_length=200)
    url: str = Field(min_length=1, max_length=1000, pattern=r"^https?://")


class InboundOrder(BaseModel):
    """An order as a platform sends it, by our names (``Contract.incoming``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=4000)
    caller_name: str = Field(default="", max_length=64)
    caller_phone: str | None = Field(default=None, max_length=32)
    classification: str | None = Field(default=None, pattern=r"^\d{6}$")
    service_item: str | None = Field(default=None, max_length=32)
    kind: Kind | None = None
    priority: Priority = "normal"
    area: str | None = Field(default=None, max_length=16)
    address: str = Field(default="", max_length=300)
    registered_at: dt.datetime | None = None
    sign_for_due_at: dt.datetime | None = None
    resolution_due_at: dt.datetime | None = None
    attachments: list[Attachment] = Field(default_factory=list, max_length=20)

    @field_validator("registered_at", "sign_for_due_at", "resolution_due_at")
    @classmethod
    def _zoned(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give the time with its zone offset, e.g. +08:00")
        return value


@dataclass(frozen=True)
class Received:
    order: asyncpg.Record
    platform_number: str
    created: bool  # False: the platform sent this number before


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def authenticate(
    conn: asyncpg.Connection,
    code: str,
    headers: dict[str, str],
    body: bytes,
    now: dt.datetime,
) -> asyncpg.Record:
    """The platform ``code`` when the request carries its key and a fresh signature of
    ``body`` by its secret; ``NotAuthenticated`` otherwise (without saying which part failed
    to a caller without the key)."""
    platform = await queries.get_platform(conn, code)
    contract = Contract.model_validate(platform["contract"] if platform else {})
    key = headers.get(contract.headers.key, "")
    if platform is None or not platform["active"] or key_hash(key) != platform["key_hash"]:
        raise NotAuthenticated("unknown platform or key", code="bad_platform_key")
    timestamp = headers.get(contract.headers.timestamp, "")
    if not timestamp.lstrip("-").isdigit() or abs(now.timestamp() - int(timestamp)) > (
        DEFAULT_TOLERANCE_SECONDS
    ):
        raise NotAuthenticated(
            "the timestamp is missing or more than {seconds} s away from our clock",
            code="stale_request",
            seconds=DEFAULT_TOLERANCE_SECONDS,
        )
    if not verify(
        platform["secret"],
        timestamp=timestamp,
        body=body,
        signature_header=headers.get(contract.headers.signature, ""),
        now=now.timestamp(),
    ):
        raise NotAuthenticated("the signature does not match the body", code="bad_signature")
    return platform


def read_order(contract: Contract, body: bytes) -> InboundOrder:
    """The order in ``body``, or ``InvalidInput`` naming the fields as the platform
    calls them."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("the body is not JSON", code="bad_json") from exc
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object", code="bad_json")
    try:
        return InboundOrder.model_validate(contract.incoming(data))
    except ValidationError as exc:
        fields: dict[str, str | i18n.Text] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "body"
            fields.setdefault(contract.theirs(name), i18n.ValidationText(error))
        raise InvalidInput(
            "the order cannot be taken", code="invalid_order", fields=fields
        ) from exc


def body_hash(order: InboundOrder) -> str:
    """What makes two pushes of one number the same order."""
    canonical = json.dumps(order.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def choose_item(conn: asyncpg.Connection, order: InboundOrder) -> tuple[str, str]:
    """The service item and how it was found: named by the platform, mapped from its
    classification code (docs/core.md, "Classification codes"), or the general item of
    the order's kind."""
    if order.service_item:
        item = await reference.item(conn, order.service_item)
        if item is not None and item["active"]:
            return item["code"], "named"
    if order.classification:
        mapped = await reference.items_for_classification(conn, order.classification)
        if mapped:
            return mapped[0], "classification"
    return GENERAL_ITEMS[order.kind or "consultation"], "general"


async def _area(conn: asyncpg.Connection, code: str | None) -> str | None:
    area = await reference.area(conn, code) if code else None
    return code if area is not None and area["active"] else None


def platform_actor(platform: asyncpg.Record) -> Actor:
    """The platform as the one who registered the order (首问: the platform took it)."""
    return Actor(
        user_id=None,
        name=platform["name_zh"],
        role=Role.AGENT,
        hotlines=frozenset({platform["hotline_code"]}),
    )


async def do_receive_order(
    conn: asyncpg.Connection,
    platform: asyncpg.Record,
    order: InboundOrder,
    calendar: WorkingCalendar,
    now: dt.datetime,
) -> Received:
    """The order the platform pushed, registered on the platform's hotline with channel
    12345 and the stricter of its limits and the item's, and its exchange row; or the
    order an earlier push of the same number made. ``Conflict`` when the number comes
    again with another order."""
    code = platform["code"]
    await queries.lock_platform_number(conn, code, order.number)
    digest = body_hash(order)
    existing = await queries.received_order(conn, code, order.number)
    if existing is not None:
        if existing["body_hash"] != digest:
            raise Conflict(
                "order {number} was received before with other content",
                code="number_reused",
                number=order.number,
            )
        found = await order_queries.get_order(conn, existing["order_id"])
        assert found is not None, "an exchanged order is never deleted"
        return Received(found, order.number, created=False)
    item, found_by = await choose_item(conn, order)
    area = await _area(conn, order.area)
    new = NewOrder(
        hotline=platform["hotline_code"],
        service_item=item,
        description=order.description,
        channel="12345",
        kind=order.kind,
        area=area,
        address=order.address,
        caller_phone=order.caller_phone or None,
        caller_name=order.caller_name,
        priority=order.priority,
    )
    # The platform's limits, where it gives them: the stricter applies.
    due_by = {
        clock: moment
        for clock, moment in (
            ("sign_for", order.sign_for_due_at),
            ("resolution", order.resolution_due_at),
        )
        if moment is not None
    }
    registration = await do_register_order(
        conn, platform_actor(platform), new, calendar, now, due_by=due_by
    )
    await queries.insert_exchange_order(
        conn,
        {
            "order_id": registration.order["id"],
            "platform_code": code,
            "direction": "in",
            "platform_number": order.number,
            "classification_code": order.classification,
            "sign_for_due_at": order.sign_for_due_at,
            "resolution_due_at": order.resolution_due_at,
            "body_hash": digest,
            "received": {
                **order.model_dump(mode="json"),
                "item_found_by": found_by,
                "area_known": area is not None or order.area is None,
            },
            "created_at": now,
        },
    )
    return Received(registration.order, order.number, created=True)
