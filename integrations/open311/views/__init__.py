"""HTTP: Open311 GeoReport v2 (JSON) under ``/open311/v2``, and the admin API for its
clients. Reading is public, as in the spec; posting needs a client's ``api_key``.

Only ``.json`` paths exist: ``.xml`` answers 404.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hotline.db import transaction
from hotline.errors import Forbidden, InvalidInput, NotFound
from hotline.reference import queries as ref
from hotline.users.models import Role
from integrations.open311 import queries, service
from integrations.open311.limits import limit_address, limit_phone
from integrations.open311.views.errors import SPEC_ERRORS, BodyTooLarge
from integrations.ratelimit import limiter
from integrations.tracking.service import CLOSED_STATUSES
from web.api import Routes, check_values, json_response, parse_json, path_int, read_body
from web.errors import BadRequest
from web.keys import CLOCK, FALLBACKS, POOL, REDIS, SETTINGS

routes = Routes()

log = logging.getLogger(__name__)

BASE = "/open311/v2"
SCOPE = "open311"  # rate-limit keys rl:open311:...
# A GeoReport request is a few fields and a description of at most 4,000 characters.
MAX_BODY_BYTES = 64 * 1024
SERVICE_NOTICE = (
    "已收到，话务员确认后受理；可凭编号查询进度。 / "
    "Received; an agent confirms it, then it is handled. Follow it by its id."
)
ADMIN = frozenset({Role.ADMIN})


class LocaleQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    locale: str | None = Field(default=None, description="en: English names; else Chinese")
    jurisdiction_id: str | None = Field(default=None, description="ignored: one jurisdiction")


class RequestsQuery(LocaleQuery):
    service_request_id: str | None = Field(
        default=None, description="comma-separated ids; any order, other filters ignored"
    )
    service_code: str | None = Field(default=None, description="comma-separated codes")
    start_date: str | None = Field(default=None, description="W3C datetime")
    end_date: str | None = Field(default=None, description="W3C datetime; at most 90 days")
    status: str | None = Field(default=None, description="open, closed or both")


class NewServiceRequest(BaseModel):
    """The fields of POST requests.json (form-encoded as in the spec, or JSON)."""

    api_key: str
    service_code: str
    lat: float | None = None
    long: float | None = None
    address_string: str | None = Field(default=None, description="required without lat/long")
    address_id: str | None = Field(default=None, description="ignored")
    description: str | None = Field(default=None, max_length=4000)
    media_url: str | None = Field(default=None, max_length=1000, description="http(s) only")
    phone: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    device_id: str | None = None
    account_id: str | None = None


class NewClient(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)


def _tz(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[SETTINGS].timezone)


def _english(request: web.Request) -> bool:
    return service.english(request.query.get("locale"))


async def _read_fields(request: web.Request) -> dict[str, Any]:
    """The body as a dict: form-encoded (the spec) or a JSON object."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the request body is larger than {MAX_BODY_BYTES} bytes")
    raw = await request.read()
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        if request.content_type == "application/x-www-form-urlencoded":
            fields: Any = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        elif request.content_type == "application/json":
            fields = parse_json(raw)
            if not isinstance(fields, dict):
                raise BadRequest("bad_json", "the body must be a JSON object")
        else:
            raise web.HTTPUnsupportedMediaType(
                reason="send application/x-www-form-urlencoded or JSON"
            )
    except UnicodeDecodeError as exc:
        raise BadRequest(
            "bad_body", "the body cannot be read as UTF-8 form fields or JSON"
        ) from exc
    check_values(fields)
    return dict(fields)


@routes.route(
    "GET",
    f"{BASE}/services.json",
    summary="GeoReport v2: the service list (our active catalogue)",
    tag="open311",
    query=LocaleQuery,
    public=True,
    errors=SPEC_ERRORS,
)
async def list_services(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        items = await ref.list_service_items(conn)
    en = _english(request)
    return json_response([service.service_json(item, en=en) for item in items])


@routes.route(
    "GET",
    BASE + "/services/{service_code}.json",
    summary="GeoReport v2: a service definition (no extra attributes)",
    tag="open311",
    public=True,
    errors=SPEC_ERRORS,
)
async def service_definition(request: web.Request) -> web.Response:
    code = request.match_info["service_code"]
    async with request.app[POOL].acquire() as conn:
        item = await ref.get_service_item(conn, code)
    if item is None or not item["active"]:
        raise NotFound("service_code {service_code} is not a service here", service_code=code)
    return json_response({"service_code": item["code"], "attributes": []})


@routes.route(
    "POST",
    f"{BASE}/requests.json",
    summary="GeoReport v2: report a problem (becomes a draft an agent confirms)",
    tag="open311",
    body=NewServiceRequest,
    public=True,
    statuses={
        201: "taken",
        403: "api_key unknown or revoked",
        429: "rate limit reached (Retry-After)",
    },
    errors=SPEC_ERRORS,
)
async def post_request(request: web.Request) -> web.Response:
    settings, pool = request.app[SETTINGS], request.app[POOL]
    limits = limiter(request.app[REDIS], request.app[FALLBACKS])
    # Counted before anything else, so malformed floods are limited too.
    await limit_address(limits, settings, SCOPE, request.remote or "unknown")
    fields = await _read_fields(request)
    api_key, code = str(fields.get("api_key") or ""), str(fields.get("service_code") or "")
    if not api_key.strip():
        raise InvalidInput("api_key is required", fields={"api_key": "required"})
    async with pool.acquire() as conn:
        client = await service.client_for_key(conn, api_key.strip())
        if client is None:
            raise Forbidden("api_key is unknown or revoked")
        if not code.strip():
            raise InvalidInput("service_code is required", fields={"service_code": "required"})
        item = await ref.get_service_item(conn, code.strip())
    if item is None or not item["active"]:
        raise NotFound("service_code {service_code} is not a service here", service_code=code)
    report = service.report_from_open311(fields)
    if not report.description:
        report = report.model_copy(update={"description": item["name_zh"]})
    if report.phone:
        await limit_phone(limits, settings, SCOPE, report.phone)
    async with transaction(pool) as conn:
        order = await service.take_report(
            conn, report, channel="open311", now=request.app[CLOCK](), tz=_tz(request)
        )
    # Which client sent which report has no column; the log keeps it.
    log.info("open311 client %s (%s) reported %s", client["id"], client["name"], order["number"])
    return json_response(
        [
            {
                "service_request_id": order["number"],
                "service_notice": SERVICE_NOTICE,
                "account_id": None,
            }
        ],
        status=201,
    )


@routes.route(
    "GET",
    f"{BASE}/requests.json",
    summary="GeoReport v2: service requests (Open311 ones, or any by id), newest first",
    tag="open311",
    query=RequestsQuery,
    public=True,
    errors=SPEC_ERRORS,
)
async def list_requests(request: web.Request) -> web.Response:
    criteria = RequestsQuery.model_validate(dict(request.query))
    tz = _tz(request)
    numbers = service.comma_list(criteria.service_request_id)
    async with request.app[POOL].acquire() as conn:
        if numbers:
            rows = await queries.orders_by_number(
                conn, numbers[: service.MAX_REQUESTS], limit=service.MAX_REQUESTS
            )
        else:
            start, end = service.date_range(
                criteria.start_date, criteria.end_date, request.app[CLOCK](), tz
            )
            rows = await queries.search_orders(
                conn,
                channel="open311",
                service_codes=service.comma_list(criteria.service_code),
                start=start,
                end=end,
                closed_statuses=CLOSED_STATUSES,
                closed=service.closed_filter(criteria.status),
                limit=service.MAX_REQUESTS,
            )
    en = service.english(criteria.locale)
    return json_response([service.request_json(row, tz=tz, en=en) for row in rows])


@routes.route(
    "GET",
    BASE + "/requests/{service_request_id}.json",
    summary="GeoReport v2: one service request by id (any order, by its number)",
    tag="open311",
    query=LocaleQuery,
    public=True,
    errors=SPEC_ERRORS,
)
async def get_request(request: web.Request) -> web.Response:
    number = request.match_info["service_request_id"]
    async with request.app[POOL].acquire() as conn:
        rows = await queries.orders_by_number(conn, [number], limit=1)
    if not rows:
        raise NotFound("service_request_id {number} not found", number=number)
    return json_response([service.request_json(rows[0], tz=_tz(request), en=_english(request))])


@routes.route(
    "POST",
    "/api/v1/open311/clients",
    summary="Create an Open311 client; answers its api_key, shown only now",
    tag="open311",
    body=NewClient,
    roles=ADMIN,
    statuses={201: "created"},
)
async def create_client(request: web.Request) -> web.Response:
    body = await read_body(request, NewClient)
    async with transaction(request.app[POOL]) as conn:
        row, key = await service.do_create_client(conn, body.name, request.app[CLOCK]())
    return json_response({**dict(row), "api_key": key}, status=201)


@routes.route(
    "DELETE",
    r"/api/v1/open311/clients/{client_id:\d+}",
    summary="Revoke an Open311 client's api_key",
    tag="open311",
    roles=ADMIN,
    statuses={204: "revoked"},
)
async def revoke_client(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        found = await queries.revoke_client(
            conn, path_int(request, "client_id"), request.app[CLOCK]()
        )
    if not found:
        raise NotFound("no such Open311 client")
    return web.Response(status=204)
