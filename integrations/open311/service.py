"""Public intake without the web: what a report is, how it becomes a draft, how our
catalogue and orders look in GeoReport v2, and Open311 client keys.

Reports from Open311 and the web form share one model (``Report``) and one path into
the core (``take_report`` → ``do_register_draft``); only their field names differ.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hotline import i18n
from hotline.errors import InvalidInput
from hotline.orders.models import Channel, NewDraft, says_where_tried, tried_elsewhere_field
from hotline.orders.service import do_register_draft
from hotline.phones import normalize_phone
from integrations.open311 import queries
from integrations.tracking.service import public_status

# The city-management hotline takes every public report; the agent who confirms the
# draft names the item, and routing finds the unit whatever the hotline.
PUBLIC_HOTLINE = "12319"
MAX_REQUESTS = 1000  # most service requests one GET answers
DEFAULT_SPAN = dt.timedelta(days=90)  # the spec's default and largest date range
CLIENT_KEY_PREFIX = "o311_"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Open311's names for Report's fields, so errors speak the client's language.
_OPEN311_NAMES = {
    "latitude": "lat",
    "longitude": "long",
    "address": "address_string",
    "name": "first_name/last_name",
}


def blank_is_absent(value: Any) -> Any:
    """Forms send every field: an empty one means "not given"."""
    return None if isinstance(value, str) and not value.strip() else value


class Report(BaseModel):
    """A citizen's report from a public channel, checked at the edge.

    Empty strings count as absent; the phone comes out in E.164; ``media_url`` (when
    given) is an http(s) URL we never fetch."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    service_code: str | None = Field(default=None, max_length=32)
    description: str = Field(default="", max_length=4000)
    address: str = Field(default="", max_length=300)
    latitude: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    longitude: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    phone: str | None = Field(default=None, max_length=32)
    name: str = Field(default="", max_length=64)
    email: str = Field(default="", max_length=200)
    media_url: str | None = Field(default=None, max_length=1000)
    # 办不成事, asked by the public form (Open311 has no field for it): the citizen could
    # not get it done elsewhere, and says where they tried.
    hard_case: bool = False
    tried_elsewhere: str = tried_elsewhere_field()
    _says_where_tried = field_validator("tried_elsewhere")(says_where_tried)

    @field_validator("service_code", "latitude", "longitude", "phone", "media_url", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        return blank_is_absent(value)

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalize_phone(value)
        except InvalidInput as exc:
            raise ValueError(exc.fields["phone"]) from exc

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if value and not _EMAIL.fullmatch(value):
            raise ValueError("not an email address")
        return value

    @field_validator("media_url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("must be an http or https URL")
        return value

    @model_validator(mode="after")
    def _both_coordinates(self) -> Report:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both coordinates or neither")
        return self

    @property
    def has_location(self) -> bool:
        return self.latitude is not None or bool(self.address)


def report_from_open311(fields: dict[str, Any]) -> Report:
    """A ``Report`` from a POST requests body (form fields or JSON).

    Unknown fields (``attribute[...]``, ``jurisdiction_id``, ``address_id``,
    ``device_id``, ``account_id``) are ignored. Raises ``InvalidInput`` with the spec's
    field names when a field is invalid or no location is given."""
    first, last = str(fields.get("first_name") or ""), str(fields.get("last_name") or "")
    values = {
        "service_code": fields.get("service_code"),
        "description": fields.get("description") or "",
        "address": fields.get("address_string") or "",
        "latitude": fields.get("lat"),
        "longitude": fields.get("long"),
        "phone": fields.get("phone"),
        "name": display_name(first, last),
        "email": fields.get("email") or "",
        "media_url": fields.get("media_url"),
    }
    try:
        report = Report.model_validate(values)
    except ValidationError as exc:
        errors: dict[str, str | i18n.Text] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "lat/long"
            errors.setdefault(_OPEN311_NAMES.get(name, name), i18n.ValidationText(error))
        raise InvalidInput("the request has invalid fields", fields=errors) from exc
    if not report.has_location:
        raise InvalidInput(
            "a location is required",
            fields={"lat/long or address_string": "give lat and long, or address_string"},
        )
    return report


def display_name(first: str, last: str) -> str:
    """A Chinese name is family name first and unspaced (张 + 三 = 张三); others are
    "first last"."""
    first, last = first.strip(), last.strip()
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return last + first
    return f"{first} {last}".strip()


async def take_report(
    conn: asyncpg.Connection,
    report: Report,
    *,
    channel: Channel,
    now: dt.datetime,
    tz: ZoneInfo,
) -> asyncpg.Record:
    """Register ``report`` as a draft of the public hotline.

    Precondition: inside the caller's transaction; ``report.description`` is not blank.
    Effect: the draft, its event and its outbox row (``do_register_draft``).
    Raises ``InvalidInput`` for a service item unknown to the core."""
    draft = NewDraft(
        hotline=PUBLIC_HOTLINE,
        channel=channel,
        description=report.description,
        service_item=report.service_code,
        address=report.address,
        caller_phone=report.phone,
        caller_name=report.name,
        media_url=report.media_url,
        latitude=report.latitude,
        longitude=report.longitude,
        reporter_email=report.email,
        hard_case=report.hard_case,
        tried_elsewhere=report.tried_elsewhere,
    )
    return await do_register_draft(conn, draft, now, tz=tz)


# --------------------------------------------------------------- GeoReport v2


def english(locale: str | None) -> bool:
    return bool(locale) and str(locale).lower().startswith("en")


def service_json(item: asyncpg.Record, *, en: bool) -> dict[str, Any]:
    """One catalogue item as a GeoReport service."""
    return {
        "service_code": item["code"],
        "service_name": item["name_en"] if en else item["name_zh"],
        "description": f"{item['name_zh']} / {item['name_en']}",
        "metadata": False,  # no extra attributes: the definition's list is empty
        "type": "realtime",
        "keywords": ",".join(item["keywords"]),
        "group": item["domain"] or "general",
    }


def _w3c(moment: dt.datetime | None, tz: ZoneInfo) -> str | None:
    return moment.astimezone(tz).isoformat(timespec="seconds") if moment else None


def request_json(row: asyncpg.Record, *, tz: ZoneInfo, en: bool) -> dict[str, Any]:
    """A public order row as a GeoReport service request.

    Only orders that came in through Open311 show their description, address,
    coordinates and media URL: their reporters sent them to a public API. An order
    from a call, an SMS or the web form is found by its number too, but shows only its
    progress, because numbers are sequential and its text may name people and homes.
    Status, notes, agency and dates are the public status the lookup page and the SMS
    answer show too (``tracking.service.public_status``)."""
    public = row["channel"] == "open311"
    status = public_status(row)
    agency = (status.agency[1] if en else status.agency[0]) if status.agency else None
    return {
        "service_request_id": row["number"],
        "status": status.state,
        "status_notes": status.notes,
        "service_name": row["service_name_en"] if en else row["service_name_zh"],
        "service_code": row["service_item_code"],
        "description": row["description"] if public else None,
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": _w3c(row["created_at"], tz),
        "updated_datetime": _w3c(status.updated_at, tz),
        "expected_datetime": _w3c(status.due_at, tz),
        "address": row["address"] if public else None,
        "address_id": None,
        "zipcode": None,
        "lat": row["latitude"] if public else None,
        "long": row["longitude"] if public else None,
        "media_url": row["media_url"] if public else None,
    }


_EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC) + DEFAULT_SPAN
_LATEST = dt.datetime.max.replace(tzinfo=dt.UTC) - DEFAULT_SPAN


def _instant(text: str | None, name: str, tz: ZoneInfo) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
        # A datetime without an offset is local time, as everything else we show.
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=tz)).astimezone(dt.UTC)
    except (ValueError, OverflowError) as exc:  # beyond year 1 to 9999 in UTC
        raise InvalidInput(
            "{name} is not a W3C datetime",
            fields={name: "use e.g. 2026-01-01T00:00:00Z"},
            name=name,
        ) from exc
    if not _EARLIEST <= moment <= _LATEST:  # the range's default span must fit around it
        raise InvalidInput("{name} is out of range", fields={name: "out of range"}, name=name)
    return moment


def date_range(
    start_text: str | None, end_text: str | None, now: dt.datetime, tz: ZoneInfo
) -> tuple[dt.datetime, dt.datetime]:
    """The requested-datetime range of a search: by default the last 90 days, never
    longer. Raises ``InvalidInput`` for unreadable dates or a range that is reversed or
    longer than 90 days."""
    start, end = _instant(start_text, "start_date", tz), _instant(end_text, "end_date", tz)
    if end is None:
        end = start + DEFAULT_SPAN if start else now
    if start is None:
        start = end - DEFAULT_SPAN
    if start > end:
        raise InvalidInput("start_date is after end_date", fields={"start_date": "after end"})
    if end - start > DEFAULT_SPAN:
        raise InvalidInput(
            "the range may not span more than 90 days", fields={"end_date": "too far"}
        )
    return start, end


def closed_filter(status: str | None) -> bool | None:
    """``status=open`` → False, ``closed`` → True, both or none → None (no filter)."""
    wanted = {s.strip() for s in (status or "").split(",") if s.strip()}
    if wanted - {"open", "closed"}:
        raise InvalidInput("status is open or closed", fields={"status": "open or closed"})
    return None if len(wanted) != 1 else wanted == {"closed"}


def comma_list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


# ------------------------------------------------------------------- clients


def key_hash(key: str) -> bytes:
    """What we store of a client's key: its SHA-256 (a leaked table reveals no key)."""
    return hashlib.sha256(key.encode()).digest()


async def client_for_key(conn: asyncpg.Connection, key: str) -> asyncpg.Record | None:
    """The active client holding ``key``; None for unknown and revoked keys."""
    return await queries.find_active_client(conn, key_hash(key))


async def do_create_client(
    conn: asyncpg.Connection, name: str, now: dt.datetime
) -> tuple[asyncpg.Record, str]:
    """A new client and its key in clear: the only time the key exists outside the
    client's hands."""
    key = CLIENT_KEY_PREFIX + secrets.token_urlsafe(32)
    row = await queries.insert_client(conn, name=name, key_hash=key_hash(key), now=now)
    return row, key
