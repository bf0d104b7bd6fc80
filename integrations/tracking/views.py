"""HTTP: the progress lookup, without sign-in. The JSON is declared here
(``POST /api/v1/public/track`` and ``/api/v1/public/track/follow-up``); the pages
``/track`` (GET the form; POST a lookup), ``/track/code`` and ``/track/follow-up`` are
served with the other pages (``agents_ui/pages.py``), by the handlers below.

The form page is the same for everyone and may be cached; every answer about an order
is personal (``no-store``). Every POST counts against the client address and the number
it names before anything is read (``service.limit``); over a limit the page says so, with
``Retry-After``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Literal
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hotline.db import transaction
from hotline.errors import Forbidden, InvalidInput, NotFound, TooManyRequests
from integrations import ratelimit
from integrations.guide.service import Language
from integrations.tracking import page, service
from web.api import Routes, json_response, read_body
from web.keys import CLOCK, FALLBACKS, POOL, REDIS, SETTINGS

routes = Routes()

HTML = "text/html"
FORM_CACHE = "public, max-age=300"
PERSONAL = "no-store"
# Form fields are short; anything longer is no lookup (the follow-up's text excepted).
FIELD_MAX = 64


class TrackInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    number: str = Field(max_length=FIELD_MAX, description="the order number")
    phone: str | None = Field(
        default=None, max_length=FIELD_MAX, description="the phone the order was reported from"
    )
    code: str | None = Field(
        default=None, max_length=FIELD_MAX, description="a code sent by SMS (POST /track/code)"
    )
    lang: Literal["zh", "en"] = "zh"

    @model_validator(mode="after")
    def _one_proof(self) -> TrackInput:
        if (self.phone is None) == (self.code is None):
            raise ValueError("give phone or code")
        return self


class FollowUpInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    grant: str = Field(max_length=FIELD_MAX, description="the grant of a lookup (its answer)")
    kind: service.FollowUpKind = "more_info"
    text: str = Field(min_length=1, max_length=service.FOLLOW_UP_MAX)
    lang: Literal["zh", "en"] = "zh"


def _language(value: str | None) -> Language:
    return "en" if value == "en" else "zh"


def _html(body: str, *, status: int = 200, cache: str = PERSONAL) -> web.Response:
    return web.Response(
        text=body,
        status=status,
        content_type=HTML,
        charset="utf-8",
        headers={"Cache-Control": cache},
    )


def _tz(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[SETTINGS].timezone)


async def _limit(request: web.Request, number: str | None) -> None:
    limiter = ratelimit.limiter(request.app[REDIS], request.app[FALLBACKS])
    await service.limit(limiter, request.app[SETTINGS], request.remote or "unknown", number)


def _limited(language: Language, exc: TooManyRequests, number: str) -> web.Response:
    minutes = max(1, math.ceil(exc.retry_after / 60))
    body = page.render_form(
        language, number=number, message=page.LABELS[language]["limited"].format(minutes=minutes)
    )
    response = _html(body, status=429)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _order_page(
    request: web.Request,
    access: service.Access,
    language: Language,
    *,
    message: str | None = None,
    message_kind: str = "info",
    status: int = 200,
) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        order = await service.view(
            conn, access.order_id, tz=_tz(request), now=request.app[CLOCK](), language=language
        )
    body = page.render_order(
        order,
        language,
        grant=access.grant,
        max_chars=service.FOLLOW_UP_MAX,
        message=message,
        message_kind=message_kind,
    )
    return _html(body, status=status)


Verify = Callable[..., Awaitable[service.Access | None]]


async def _verified(
    request: web.Request, number: str, proof: str, verify: Verify
) -> service.Access | None:
    async with transaction(request.app[POOL]) as conn:
        return await verify(conn, number, proof, request.app[CLOCK]())


async def _counted_number(
    request: web.Request, language: Language, typed: str
) -> str | web.Response:
    """The order number typed, counted against the limits first; or the page to answer
    instead (over a limit, or no order number at all)."""
    number = service.clean_number(typed)
    try:
        await _limit(request, number)
    except TooManyRequests as exc:
        return _limited(language, exc, typed)
    if number is None:
        message = page.LABELS[language]["bad_number"]
        return _html(page.render_form(language, number=typed, message=message), status=422)
    return number


async def track_form(request: web.Request) -> web.Response:
    """``GET /track``: the form (``?number=`` fills the number in)."""
    language = _language(request.query.get("lang"))
    number = request.query.get("number", "")[:FIELD_MAX]
    return _html(page.render_form(language, number=number), cache=FORM_CACHE)


async def track(request: web.Request) -> web.Response:
    """``POST /track``: number with phone or code, or a grant (the other language, a
    refresh). Wrong number or wrong phone: the same 404 page."""
    form = await request.post()
    language = _language(str(form.get("lang", "")))
    words = page.LABELS[language]
    grant = str(form.get("grant", ""))[:FIELD_MAX]
    if grant:
        async with request.app[POOL].acquire() as conn:
            order_id = await service.granted(conn, grant, request.app[CLOCK]())
        if order_id is None:
            return _html(page.render_form(language, message=words["expired"]), status=403)
        return await _order_page(request, service.Access(order_id, grant), language)
    typed = str(form.get("number", ""))[:FIELD_MAX]
    number = await _counted_number(request, language, typed)
    if isinstance(number, web.Response):
        return number
    code = str(form.get("code", ""))[:FIELD_MAX]
    if code:
        access = await _verified(request, number, code, service.do_lookup_by_code)
        failure = words["code_wrong"]
    else:
        phone = str(form.get("phone", ""))[:FIELD_MAX]
        access = await _verified(request, number, phone, service.do_lookup_by_phone)
        failure = words["not_found"]
    if access is None:
        return _html(page.render_form(language, number=typed, message=failure), status=404)
    return await _order_page(request, access, language)


async def send_code(request: web.Request) -> web.Response:
    """``POST /track/code``: a code to the order's phone; the same answer whether or not
    the number exists or has a phone."""
    form = await request.post()
    language = _language(str(form.get("lang", "")))
    number = await _counted_number(request, language, str(form.get("number", ""))[:FIELD_MAX])
    if isinstance(number, web.Response):
        return number
    async with transaction(request.app[POOL]) as conn:
        await service.do_request_code(conn, number)
    minutes = int(service.CODE_TTL.total_seconds() // 60)
    return _html(page.render_code_form(language, number=number, minutes=minutes))


async def follow_up(request: web.Request) -> web.Response:
    """``POST /track/follow-up``: the citizen's text, with the grant of their lookup, into
    the order's history (``service.do_follow_up``)."""
    form = await request.post()
    language = _language(str(form.get("lang", "")))
    words = page.LABELS[language]
    grant = str(form.get("grant", ""))[:FIELD_MAX]
    now = request.app[CLOCK]()
    async with request.app[POOL].acquire() as conn:
        order_id = await service.granted(conn, grant, now) if grant else None
        number = await service.number_of(conn, order_id) if order_id else None
    if order_id is None or number is None:
        return _html(page.render_form(language, message=words["expired"]), status=403)
    access = service.Access(order_id, grant)
    try:
        await _limit(request, number)
    except TooManyRequests as exc:
        return _limited(language, exc, number)
    kind: service.FollowUpKind = "persists" if form.get("kind") == "persists" else "more_info"
    text = str(form.get("text", "")).strip()
    if not text or len(text) > service.FOLLOW_UP_MAX:
        missing = words["text_missing"].format(max=service.FOLLOW_UP_MAX)
        return await _order_page(
            request, access, language, message=missing, message_kind="error", status=422
        )
    async with transaction(request.app[POOL]) as conn:
        await service.do_follow_up(conn, order_id, kind=kind, text=text, channel="web", now=now)
    return await _order_page(request, access, language, message=words["thanks"])


@routes.route(
    "POST",
    "/api/v1/public/track",
    summary=(
        "An order's public status, time limits and timeline, for its number with the phone "
        "it was reported from or a code sent to that phone (the /track page's answer)"
    ),
    tag="public",
    body=TrackInput,
    public=True,
    statuses={
        200: "the order",
        404: "no order with this number and phone or code (the same answer for either)",
        429: "too many attempts from this address or for this number",
    },
)
async def track_json(request: web.Request) -> web.Response:
    body = await read_body(request, TrackInput)
    number = service.clean_number(body.number)
    await _limit(request, number)
    if number is None:
        raise InvalidInput(
            "not an order number",
            code="invalid_number",
            fields={"number": "hotline-date-sequence, e.g. 12319-20261205-0007"},
        )
    if body.code is not None:
        access = await _verified(request, number, body.code, service.do_lookup_by_code)
    else:
        assert body.phone is not None
        access = await _verified(request, number, body.phone, service.do_lookup_by_phone)
    if access is None:
        raise NotFound("no order with this number and phone or code")
    return await _order_json(request, access, body.lang)


async def _order_json(
    request: web.Request, access: service.Access, language: Language
) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        order = await service.view(
            conn, access.order_id, tz=_tz(request), now=request.app[CLOCK](), language=language
        )
    return json_response({**order, "grant": access.grant})


@routes.route(
    "POST",
    "/api/v1/public/track/follow-up",
    summary=(
        "Add information to an order, or say the problem persists, with the grant of a "
        "lookup: an event in the order's history the centre and the unit read"
    ),
    tag="public",
    body=FollowUpInput,
    public=True,
    statuses={
        200: "the order, with the follow-up in its timeline",
        403: "the grant is unknown or expired (`grant_expired`): look the order up again",
        429: "too many attempts from this address or for this number",
    },
)
async def follow_up_json(request: web.Request) -> web.Response:
    body = await read_body(request, FollowUpInput)
    now = request.app[CLOCK]()
    async with request.app[POOL].acquire() as conn:
        order_id = await service.granted(conn, body.grant, now)
        number = await service.number_of(conn, order_id) if order_id else None
    if order_id is None or number is None:
        raise Forbidden("the lookup has expired; look the order up again", code="grant_expired")
    await _limit(request, number)
    async with transaction(request.app[POOL]) as conn:
        await service.do_follow_up(
            conn, order_id, kind=body.kind, text=body.text, channel="web", now=now
        )
    return await _order_json(request, service.Access(order_id, body.grant), body.lang)


def setup(app: web.Application) -> None:
    """The pages (the JSON is in ``routes``)."""
    app.router.add_get("/track", track_form)
    app.router.add_post("/track", track)
    app.router.add_post("/track/code", send_code)
    app.router.add_post("/track/follow-up", follow_up)
