"""The shape of what comes in to the order engine, validated before anything is written."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from hotline.vocabulary import RenamedFields, renamed

Channel = Literal["voice", "sms", "web", "wechat", "open311", "enterprise", "agent", "12345"]
Kind = Literal["consultation", "repair", "complaint", "suggestion", "praise", "request"]
Priority = Literal["normal", "urgent"]
TRIED_ELSEWHERE_MAX = 2000


def says_where_tried(value: str, info: ValidationInfo) -> str:
    """A hard case (办不成事) says where the citizen already tried: the coordinating
    supervisor starts from it. Validates ``tried_elsewhere``, declared after
    ``hard_case`` and with ``validate_default`` (so that leaving it out is caught)."""
    if info.data.get("hard_case") and not value.strip():
        raise ValueError("say where the citizen already tried")
    return value


def suggested_item_field() -> Any:
    """The item the console suggested first when the agent registered the order, as the
    suggestion answered it: the agent's choice tells a correction from an accepted
    suggestion, and corrections weigh more when the classifier learns (hotline.suggest)."""
    return Field(
        default=None,
        max_length=32,
        pattern=r"^[A-Za-z0-9-]+$",
        validation_alias=renamed("suggested_item_code", "suggested_item"),
    )


def tried_elsewhere_field() -> Any:
    return Field(default="", max_length=TRIED_ELSEWHERE_MAX, validate_default=True)


class NewOrder(RenamedFields):
    """An order to register (受理)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    hotline: str = Field(
        min_length=1, max_length=16, validation_alias=renamed("hotline_code", "hotline")
    )
    service_item: str = Field(
        min_length=1, max_length=32, validation_alias=renamed("service_item_code", "service_item")
    )
    description: str = Field(min_length=1, max_length=4000)
    channel: Channel = "agent"
    kind: Kind | None = None  # defaults to the service item's kind
    area: str | None = Field(
        default=None, max_length=16, validation_alias=renamed("area_code", "area")
    )
    address: str = Field(default="", max_length=300)
    caller_phone: str | None = Field(default=None, max_length=32)
    caller_name: str = Field(default="", max_length=64)
    priority: Priority = "normal"
    # The call the agent took it on: the call then lists the order, the order links to it.
    call_id: int | None = Field(default=None, ge=1)
    # 办不成事: straight to the centre's coordination, on the hard-case limit.
    hard_case: bool = False
    tried_elsewhere: str = tried_elsewhere_field()
    _says_where_tried = field_validator("tried_elsewhere")(says_where_tried)
    suggested_item: str | None = suggested_item_field()
    # Sent again with a retried request, it returns the first order instead of a second.
    client_request_id: str | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("description")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


Domain = Literal["water", "gas", "heating", "billing"]
Rating = Literal["good", "bad", "unreachable", "none"]
# registered, due, completed, number, updated; "newest" and "due" were the only two
# sorts before and keep their meaning (registered newest first, due soonest first).
SortKey = Literal["registered", "due", "completed", "number", "updated", "newest"]


class OrderCriteria(RenamedFields):
    """What an order search asks (GET /api/v1/orders, docs/core.md "Finding orders"),
    without its paging: also what a saved filter keeps. Every field is optional."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # a phone number, an order number (or its tail) or words
    q: str | None = Field(default=None, max_length=100)
    status: list[str] = Field(default_factory=list)
    hotline: str | None = Field(default=None, validation_alias=renamed("hotline_code", "hotline"))
    domain: Domain | None = None
    service_item: str | None = Field(
        default=None, validation_alias=renamed("service_item_code", "service_item")
    )
    kind: Kind | None = None
    enterprise_id: int | None = Field(default=None, ge=1)  # any dispatch to that unit
    # a district includes its streets
    area: str | None = Field(default=None, validation_alias=renamed("area_code", "area"))
    channel: list[Channel] = Field(default_factory=list)
    # inclusive days, China time
    registered_from: dt.date | None = None
    registered_to: dt.date | None = None
    completed_from: dt.date | None = None
    completed_to: dt.date | None = None
    overdue: bool | None = None
    rating: Rating | None = None  # the callback's outcome; none: no outcome yet
    redo: bool | None = None  # reopened at least once
    coordination: bool | None = None  # went to the centre's coordination at least once
    hard_case: bool | None = None  # 办不成事 only, or none of them
    sort: SortKey = "registered"
    desc: bool | None = None  # None: the sort's own direction (registered: newest first)


class OrderFilter(OrderCriteria):
    """An order search with its page."""

    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=200)


class NewDraft(BaseModel):
    """A report from a channel that an agent confirms: an SMS, a recorded message, an
    Open311 request, the public web form. The item and area may still be unknown."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    hotline: str = Field(min_length=1, max_length=16)
    channel: Channel
    description: str = Field(min_length=1, max_length=4000)
    service_item: str | None = Field(default=None, max_length=32)
    area: str | None = Field(default=None, max_length=16)
    address: str = Field(default="", max_length=300)
    caller_phone: str | None = Field(default=None, max_length=32)
    caller_name: str = Field(default="", max_length=64)
    media_url: str | None = Field(default=None, max_length=1000)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    reporter_email: str = Field(default="", max_length=200)
    call_id: int | None = None  # the call whose recorded message it is
    hard_case: bool = False
    tried_elsewhere: str = tried_elsewhere_field()
    _says_where_tried = field_validator("tried_elsewhere")(says_where_tried)


class ConfirmDraft(RenamedFields):
    """What an agent adds to a draft to register it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    service_item: str = Field(
        min_length=1, max_length=32, validation_alias=renamed("service_item_code", "service_item")
    )
    kind: Kind | None = None
    area: str | None = Field(
        default=None, max_length=16, validation_alias=renamed("area_code", "area")
    )
    address: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=4000)
    caller_name: str | None = Field(default=None, max_length=64)
    priority: Priority = "normal"
    suggested_item: str | None = suggested_item_field()
    # None keeps what the citizen said on the form; the agent may flag it or lift it.
    hard_case: bool | None = None
    tried_elsewhere: str | None = Field(default=None, max_length=TRIED_ELSEWHERE_MAX)
