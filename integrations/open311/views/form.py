"""HTTP: the public web form's endpoint (``POST /api/v1/public/reports``) and the photos
it stores, which only signed-in users who may see the order can open.

The page itself is ``agents_ui/static/report.html``, served at ``/report``.
"""

from __future__ import annotations

import asyncio
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import BodyPartReader, MultipartReader, web
from pydantic import Field, field_validator

from hotline.db import transaction
from hotline.errors import InvalidInput, NotFound
from hotline.orders.service import access_order_by_id
from hotline.reference import queries as ref
from hotline.storage import sniff_content_type
from integrations.open311 import queries
from integrations.open311.limits import limit_address, limit_phone
from integrations.open311.service import Report, blank_is_absent, take_report
from integrations.ratelimit import limiter
from web.api import Routes, bad_form, check_values, json_response, multipart_reader
from web.auth import require_actor
from web.errors import BadRequest, error_response
from web.keys import CLOCK, FALLBACKS, POOL, REDIS, SETTINGS, STORAGE
from web.media import media_response

routes = Routes()

SCOPE = "form"  # rate-limit keys rl:form:...
PHOTO_MAX_BYTES = 5 * 1024 * 1024
FIELD_MAX_BYTES = 16 * 1024  # 4,000 Chinese characters are 12,000 bytes of UTF-8
FORM_MAX_BYTES = PHOTO_MAX_BYTES + 128 * 1024
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
PHOTO_PATH = "/api/v1/report-photos/"
PHOTO_KEY_LENGTH = 32  # DiskStorage's keys: 128 random bits in hex
TEXT_FIELDS = frozenset(
    {
        "service_code",
        "description",
        "address",
        "latitude",
        "longitude",
        "phone",
        "name",
        "hard_case",
        "tried_elsewhere",
    }
)


class FormReport(Report):
    """The form asks for a description and a phone: the centre calls every reporter back."""

    description: str = Field(min_length=1, max_length=4000)
    phone: str = Field(min_length=1, max_length=32)

    # Replaces Report's validator of the same name: a blank phone stays a (too short)
    # string here, so the error says it is required rather than "not a string".
    @field_validator("service_code", "latitude", "longitude", "media_url", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        return blank_is_absent(value)


class PhotoTooLarge(Exception):
    pass


async def _read_part(part: BodyPartReader, limit: int) -> bytes | None:
    """The part's bytes, or None as soon as it grows past ``limit``."""
    data = bytearray()
    while chunk := await part.read_chunk(64 * 1024):
        data += chunk
        if len(data) > limit:
            return None
    return bytes(data)


async def read_report_form(request: web.Request) -> tuple[dict[str, str], bytes | None]:
    """The form's text fields and its photo (None when none was chosen).

    Raises ``PhotoTooLarge``, ``InvalidInput`` for an unknown or overlong field, and
    415 for a body that is not multipart/form-data."""
    if request.content_length is not None and request.content_length > FORM_MAX_BYTES:
        raise PhotoTooLarge
    try:
        fields, photo = await _read_parts(await multipart_reader(request))
    except ValueError as exc:  # a malformed body; UnicodeDecodeError is one
        raise bad_form(exc) from exc
    check_values(fields)
    # A browser sends an empty file part when no photo was chosen.
    return fields, photo or None


async def _read_parts(reader: MultipartReader) -> tuple[dict[str, str], bytes | None]:
    fields: dict[str, str] = {}
    photo: bytes | None = None
    async for part in reader:
        if not isinstance(part, BodyPartReader) or part.name is None:
            raise BadRequest("bad_form", "the form has a part without a name")
        if part.name == "photo":
            photo = await _read_part(part, PHOTO_MAX_BYTES)
            if photo is None:
                raise PhotoTooLarge
        elif part.name in TEXT_FIELDS:
            raw = await _read_part(part, FIELD_MAX_BYTES)
            if raw is None:
                raise InvalidInput("a field is too long", fields={part.name: "too long"})
            fields[part.name] = raw.decode()
        else:
            raise InvalidInput("unknown form field", fields={part.name: "not a field here"})
    return fields, photo


def check_photo(photo: bytes) -> None:
    """Refuse anything whose content is not a JPEG, PNG or WebP image."""
    if sniff_content_type(photo[:16]) not in PHOTO_TYPES:
        raise InvalidInput(
            "the photo must be a JPEG, PNG or WebP image",
            code="photo_type",
            fields={"photo": "not a JPEG, PNG or WebP image"},
        )


@routes.route(
    "POST",
    "/api/v1/public/reports",
    summary="The public web form: a report with an optional photo (multipart/form-data)",
    tag="public",
    public=True,
    statuses={201: "taken as a draft", 429: "rate limit reached (Retry-After)"},
    uploads={
        "type": "object",
        "required": ["description", "phone"],
        "properties": {
            **{name: {"type": "string"} for name in sorted(TEXT_FIELDS)},
            "photo": {"type": "string", "format": "binary"},
        },
    },
)
async def submit_report(request: web.Request) -> web.Response:
    settings, pool = request.app[SETTINGS], request.app[POOL]
    limits = limiter(request.app[REDIS], request.app[FALLBACKS])
    await limit_address(limits, settings, SCOPE, request.remote or "unknown")
    try:
        fields, photo = await read_report_form(request)
    except PhotoTooLarge:
        return error_response(
            request,
            413,
            "photo_too_large",
            "the photo must be at most {megabytes} MB",
            {"photo": "too large"},
            megabytes=PHOTO_MAX_BYTES // (1024 * 1024),
        )
    report = FormReport.model_validate(fields)
    if not report.has_location:
        raise InvalidInput(
            "give an address or share your location",
            fields={"address": "give an address or share your location"},
        )
    if report.service_code:
        async with pool.acquire() as conn:
            item = await ref.get_service_item(conn, report.service_code)
        if item is None or not item["active"]:
            raise InvalidInput("unknown service", fields={"service_code": "not a service here"})
    await limit_phone(limits, settings, SCOPE, report.phone)
    if photo is not None:
        check_photo(photo)
        stored = await asyncio.to_thread(request.app[STORAGE].save, photo)
        report = report.model_copy(update={"media_url": PHOTO_PATH + stored.key})
    async with transaction(pool) as conn:
        order = await take_report(
            conn,
            report,
            channel="web",
            now=request.app[CLOCK](),
            tz=ZoneInfo(settings.timezone),
        )
    return json_response({"number": order["number"], "status": order["status"]}, status=201)


@routes.route(
    "GET",
    PHOTO_PATH + "{key:[0-9a-f]+}",
    summary="A photo sent with the public form (for those who may see its order)",
    tag="public",
    statuses={200: "the image"},
)
async def report_photo(request: web.Request) -> web.Response:
    actor = require_actor(request)
    key = request.match_info["key"]
    if len(key) != PHOTO_KEY_LENGTH:
        raise NotFound("photo not found")
    async with request.app[POOL].acquire() as conn:
        order_id = await queries.order_id_by_media_url(conn, PHOTO_PATH + key)
        if order_id is None:
            raise NotFound("photo not found")
        await access_order_by_id(conn, actor, order_id, hidden_as=NotFound("photo not found"))
    return media_response(await asyncio.to_thread(request.app[STORAGE].load, key))
