"""The contract with a platform: what the messages are called and where they go.

Platforms differ from city to city in their field names, their paths and their event
codes, not in what is exchanged. The exchange speaks one set of names (the default
contract, docs/exchange.md); a platform's ``contract`` (``exchange_platforms.contract``)
renames fields and events and sets the paths and headers, and every message passes
through ``Contract`` on its way in and out. Nothing else knows a platform's names.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The fields of an order received from a platform, by our names.
ORDER_FIELDS = (
    "number",
    "description",
    "caller_name",
    "caller_phone",
    "classification",
    "service_item",
    "kind",
    "priority",
    "area",
    "address",
    "registered_at",
    "sign_for_due_at",
    "resolution_due_at",
    "attachments",
)
# The fields of a message we send, by our names (those an event has: docs/exchange.md).
MESSAGE_FIELDS = (
    "message",
    "event",
    "number",
    "our_number",
    "at",
    "classification",
    "unit",
    "text",
    "reason",
    "kind",
    "decision",
    "due_at",
    "late",
    "attachments",
    "solved",
    "level",
    "rating",
    "comment",
    "order",
)
# What the platform is told, in the order an order lives it.
EVENTS = (
    "transferred",  # 转办: an order of ours passed to the platform (its whole content)
    "accepted",  # 签收: a unit signed for the order
    "returned",  # 退回: given back to the platform, not this hotline's business
    "progress",  # 办理进展: a unit's progress note
    "time_requested",  # 延期/挂起申请
    "time_decided",  # the centre's decision on it, with the new due
    "completed",  # 办结: the reply and its proof
    "rated",  # 回访: the citizen's answer to the callback
    "closed",  # 归档
    "reopened",  # an unsatisfied citizen: the order is worked on again
)


class Paths(BaseModel):
    """Where messages go, under the platform's base URL. ``{number}``: the platform's
    order number."""

    model_config = ConfigDict(extra="forbid")

    status: str = Field(default="/orders/{number}/status", max_length=200)
    transfer: str = Field(default="/orders", max_length=200)

    @field_validator("status", "transfer")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("a path starts with /")
        return value


class Headers(BaseModel):
    """The names of the headers that carry the key, the time and the signature; the
    same names both ways."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(default="X-Exchange-Key", pattern=r"^[A-Za-z0-9-]{1,64}$")
    timestamp: str = Field(default="X-Exchange-Timestamp", pattern=r"^[A-Za-z0-9-]{1,64}$")
    signature: str = Field(default="X-Exchange-Signature", pattern=r"^[A-Za-z0-9-]{1,64}$")
    message: str = Field(default="X-Exchange-Message", pattern=r"^[A-Za-z0-9-]{1,64}$")


FieldName = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class Contract(BaseModel):
    """One platform's differences from the default contract: ``fields`` and ``events``
    map our names to the platform's (a name not listed is the same on both sides)."""

    model_config = ConfigDict(extra="forbid")

    fields: dict[str, str] = Field(default_factory=dict)
    events: dict[str, str] = Field(default_factory=dict)
    paths: Paths = Field(default_factory=Paths)
    headers: Headers = Field(default_factory=Headers)

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        known = set(ORDER_FIELDS) | set(MESSAGE_FIELDS)
        for ours, theirs in value.items():
            if ours not in known:
                raise ValueError("names something that is not a field of the exchange")
            if not theirs or len(theirs) > 64 or not theirs.replace("_", "a").isalnum():
                raise ValueError("a platform's field name is letters, digits and _, 64 at most")
        if len(set(value.values())) != len(value):
            raise ValueError("two of our fields cannot share one of the platform's names")
        return value

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: dict[str, str]) -> dict[str, str]:
        for ours, theirs in value.items():
            if ours not in EVENTS:
                raise ValueError("names something that is not an event of the exchange")
            if not theirs or len(theirs) > 64:
                raise ValueError("a platform's event code is 1 to 64 characters")
        return value

    def theirs(self, field: str) -> str:
        """The platform's name of our ``field``."""
        return self.fields.get(field, field)

    def outgoing(self, message: dict[str, Any]) -> dict[str, Any]:
        """A message by our names -> by the platform's (event code included; an order
        carried inside a message is renamed too)."""
        renamed: dict[str, Any] = {}
        for key, value in message.items():
            if key == "event":
                value = self.events.get(value, value)
            elif key == "order" and isinstance(value, dict):
                value = self.outgoing(value)
            renamed[self.theirs(key)] = value
        return renamed

    def incoming(self, body: dict[str, Any]) -> dict[str, Any]:
        """An order by the platform's names -> by ours; fields we do not know are
        left out (a platform may send more than the exchange uses)."""
        ours = {self.theirs(field): field for field in ORDER_FIELDS}
        return {ours[key]: value for key, value in body.items() if key in ours}

    def status_path(self, number: str) -> str:
        return self.paths.status.replace("{number}", number)
