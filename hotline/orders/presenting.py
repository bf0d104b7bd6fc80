"""What an actor may see of an order: the order's fields with the actions its status
allows, and the rule for callers' numbers that every view and the live stream apply."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg

from hotline import i18n
from hotline.orders.lifecycle import actions_from
from hotline.phones import mask_phone, mask_phone_fields
from hotline.users.models import Actor

# Where the console plays a call's recorded message: the server fetches it from the
# carrier with the hotline's credentials (integrations.telephony), so no carrier URL or
# credential reaches a browser.
RECORDING_PATH = "/api/v1/calls/{call_id}/recording"
SURVEY_RECORDING_PATH = "/api/v1/callbacks/surveys/{survey_id}/recording"
# Event data written before the carrier's URLs were kept out of the history.
CARRIER_KEYS = frozenset({"recording_url"})
ATTACHMENT_PATH = "/api/v1/attachments/{attachment_id}"

# Columns an order row carries only to derive ``media``: a recorded message's media_url is
# the carrier's own URL, never shown.
_MEDIA_SOURCES = ("media_url", "has_recording")


def order_media(row: Mapping[str, Any]) -> list[dict[str, str]]:
    """What came in with the order besides its text: the photo the public form stored
    here (a path of this server, served to those who may see the order), the photo an
    Open311 client named (another site's address: a link, never fetched or embedded),
    and the call's recorded message (played through ``RECORDING_PATH``)."""
    media: list[dict[str, str]] = []
    url = row["media_url"]
    if url and url.startswith("/"):
        media.append({"kind": "photo", "url": url})
    elif url and row["channel"] == "open311":
        media.append({"kind": "link", "url": url})
    if row["has_recording"]:
        media.append({"kind": "recording", "url": RECORDING_PATH.format(call_id=row["call_id"])})
    return media


def with_media(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row's fields with ``media`` in place of what it is made from."""
    data = {k: v for k, v in row.items() if k not in _MEDIA_SOURCES}
    data["media"] = order_media(row)
    return data


def attachment_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """A proof or progress file with the address that serves it."""
    return {**row, "url": ATTACHMENT_PATH.format(attachment_id=row["id"])}


def order_json(order: asyncpg.Record) -> dict[str, Any]:
    data = with_media(order)
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
    data["data"] = without_carrier_urls(i18n.render_texts(data["data"], language))
    if not actor.is_centre:
        data["data"] = mask_phone_fields(data["data"])
    return data


def without_carrier_urls(data: dict[str, Any]) -> dict[str, Any]:
    """Event data without a carrier's recording URL (events from before it was left out)."""
    return {k: v for k, v in data.items() if k not in CARRIER_KEYS}
