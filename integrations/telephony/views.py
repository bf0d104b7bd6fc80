"""HTTP: Twilio's webhooks (``/twilio/*``, signed, answered with TwiML) and the agents'
call API (``/api/v1/calls``).

Twilio routes are ``public`` in the registry (no session: the signature is the
authentication) and listed in the OpenAPI document with the API. A request without a
valid ``X-Twilio-Signature`` gets 403 (the API's JSON error, code ``bad_signature``)
and nothing is written. Every handler answers from the database alone: no outbound
request inside a webhook.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp import web
from multidict import MultiDict

from hotline.errors import NotFound
from hotline.users.models import CALL_TAKER_ROLES, CENTRE_ROLES
from integrations import ratelimit
from integrations.telephony import calls, intake, recordings, voice
from integrations.telephony.intake import Urls
from integrations.telephony.webhooks import (
    SIGNATURE_HEADER,
    TWIML,
    CallForm,
    DeliveryKey,
    GatherForm,
    QueueForm,
    RecordingForm,
    SmsForm,
    once,
    signature_valid,
)
from web.api import Routes, dumps, json_response, path_int, read_form
from web.auth import require_actor
from web.errors import error_response
from web.keys import CLOCK, FALLBACKS, POOL, REDIS, SETTINGS, SHARED
from web.live import SOCKETS
from web.live_stream import user_room
from web.media import media_response

routes = Routes()

log = logging.getLogger(__name__)

TwilioHandler = Callable[[web.Request, MultiDict[str]], Awaitable[str]]
LIVE_EVENT = "call_event"  # the socket.io event name of call pushes


async def verified_form(request: web.Request) -> MultiDict[str] | None:
    """The POST fields, if Twilio signed them for ``HOTLINE_PUBLIC_URL`` + path and query;
    None otherwise (also when no auth token is configured: nothing can be checked)."""
    settings = request.app[SETTINGS]
    if settings.twilio_auth_token is None:
        log.warning("Twilio webhook refused: HOTLINE_TWILIO_AUTH_TOKEN is not set")
        return None
    form = await read_form(request)
    url = settings.base_url + request.path_qs
    token = settings.twilio_auth_token.get_secret_value()
    if not signature_valid(token, url, form, request.headers.get(SIGNATURE_HEADER)):
        log.warning("Twilio webhook refused: bad signature for %s", request.path)
        return None
    return form


def twilio_webhook(
    table: Routes, path: str, summary: str
) -> Callable[[TwilioHandler], TwilioHandler]:
    """Declare a Twilio webhook in ``table``: signature first, then the handler's TwiML."""

    def register(handler: TwilioHandler) -> TwilioHandler:
        async def view(request: web.Request) -> web.Response:
            form = await verified_form(request)
            if form is None:
                return error_response(
                    request, 403, "bad_signature", "invalid or missing Twilio signature"
                )
            return web.Response(text=await handler(request, form), content_type=TWIML)

        table.route(
            "POST",
            path,
            summary=summary,
            tag="twilio",
            public=True,
            statuses={200: "TwiML", 403: "missing or bad X-Twilio-Signature"},
            # Each delivery is taken once by its key (_once), a redelivery answered again.
            replayable=True,
        )(view)
        return handler

    return register


async def _once(
    request: web.Request, key: DeliveryKey, work: Callable[[asyncpg.Connection], Awaitable[str]]
) -> str:
    """Run ``work(conn)`` once per delivery key, in one transaction with the key (shared
    with the webhooks arriving at the same time; answered after it commits)."""
    return await request.app[SHARED].run(lambda conn: once(conn, key, lambda: work(conn)))


def _urls(request: web.Request) -> Urls:
    return Urls(request.app[SETTINGS].base_url)


# ---------------------------------------------------------------- Twilio: voice


@twilio_webhook(routes, Urls.VOICE, "Twilio voice webhook: a new call; answers greeting and menu")
async def voice_call(request: web.Request, form: MultiDict[str]) -> str:
    data = CallForm.model_validate(dict(form))
    now = request.app[CLOCK]()
    tz = ZoneInfo(request.app[SETTINGS].timezone)
    return await _once(
        request,
        DeliveryKey("voice", data.CallSid),
        lambda conn: intake.handle_voice(conn, data, _urls(request), now, tz),
    )


@twilio_webhook(routes, Urls.MENU, "Twilio gather action: the menu digit; answers Enqueue")
async def voice_menu(request: web.Request, form: MultiDict[str]) -> str:
    data = GatherForm.model_validate(dict(form))
    attempt = 2 if request.query.get("attempt") == "2" else 1
    # The second menu has keys of its own: the same wrong digit twice is not a repeat.
    status = data.Digits if attempt == 1 else f"retry:{data.Digits}"
    now = request.app[CLOCK]()
    return await _once(
        request,
        DeliveryKey("gather", data.CallSid, status),
        lambda conn: intake.handle_menu(conn, data, _urls(request), now, attempt=attempt),
    )


@twilio_webhook(routes, Urls.WAIT, "Twilio queue wait URL: hold, then leave after the answer time")
async def voice_wait(request: web.Request, form: MultiDict[str]) -> str:
    return intake.hold(QueueForm.model_validate(dict(form)), request.app[SETTINGS])


@twilio_webhook(
    routes, Urls.QUEUE_EXIT, "Twilio Enqueue action: not bridged means record a message"
)
async def voice_queue_exit(request: web.Request, form: MultiDict[str]) -> str:
    data = QueueForm.model_validate(dict(form))
    now = request.app[CLOCK]()
    # Idempotent by itself (the first exit is kept), so no delivery key.
    return await request.app[SHARED].run(
        lambda conn: intake.handle_queue_exit(conn, data, _urls(request), now)
    )


@twilio_webhook(routes, Urls.GOODBYE, "Twilio Record action: thank the caller and hang up")
async def voice_goodbye(request: web.Request, form: MultiDict[str]) -> str:
    return voice.goodbye()


@twilio_webhook(routes, Urls.STATUS, "Twilio call status callback; statuses only move forward")
async def voice_status(request: web.Request, form: MultiDict[str]) -> str:
    data = CallForm.model_validate(dict(form))
    now = request.app[CLOCK]()
    return await _once(
        request,
        DeliveryKey("status", data.CallSid, data.CallStatus),
        lambda conn: intake.handle_status(conn, data, now),
    )


@twilio_webhook(
    routes, Urls.RECORDING, "Twilio recording status callback: a message becomes a draft"
)
async def recording(request: web.Request, form: MultiDict[str]) -> str:
    data = RecordingForm.model_validate(dict(form))
    now = request.app[CLOCK]()
    # Keyed once per RecordingSid by the handler itself.
    return await request.app[SHARED].run(lambda conn: intake.handle_recording(conn, data, now))


# ------------------------------------------------------------------ Twilio: SMS


@twilio_webhook(routes, Urls.SMS, "Twilio incoming SMS: a draft order and a reply with its number")
async def sms(request: web.Request, form: MultiDict[str]) -> str:
    data = SmsForm.model_validate(dict(form))
    now = request.app[CLOCK]()
    limiter = ratelimit.limiter(request.app[REDIS], request.app[FALLBACKS])
    return await _once(
        request,
        DeliveryKey("sms", data.MessageSid),
        lambda conn: intake.handle_sms(
            conn, data, now, limiter=limiter, settings=request.app[SETTINGS]
        ),
    )


# ----------------------------------------------------------------- agents' API


@routes.route(
    "POST",
    "/api/v1/calls/next",
    summary="Take the oldest waiting call (own hotline; any for supervisors); screen-pop",
    tag="calls",
    roles=CALL_TAKER_ROLES,
    statuses={
        200: "the call offered, with the caller's profile",
        204: "nobody is waiting",
        409: "an agent who is offline is offered no call (`agent_offline`)",
    },
)
async def take_next_call(request: web.Request) -> web.Response:
    actor = require_actor(request, CALL_TAKER_ROLES)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        offer = await calls.take_next_call(conn, actor, request.app[CLOCK]())
    if offer is None:
        return web.Response(status=204)
    # Plain JSON types (dates as text) for the socket.io message, as for the response.
    message = json.loads(dumps(offer))
    # After commit: the console never pops up a call whose assignment rolled back.
    assert actor.user_id is not None
    # Through this process's socket.io server: its Redis manager reaches the agent's
    # connections on every web process.
    await request.app[SOCKETS].emit(LIVE_EVENT, message, room=user_room(actor.user_id))
    return json_response(message)


@routes.route(
    "GET",
    r"/api/v1/calls/{call_id:\d+}",
    summary="A call with the orders made from it",
    tag="calls",
    roles=CENTRE_ROLES,
)
async def get_call(request: web.Request) -> web.Response:
    actor = require_actor(request)
    call_id = path_int(request, "call_id")
    async with request.app[POOL].acquire() as conn:
        detail = await calls.call_detail(conn, call_id)
    # Another hotline's call is as missing as one that does not exist.
    if detail is None or not actor.sees_hotline(detail["hotline_code"] or ""):
        raise NotFound("no such call")
    return json_response(detail)


@routes.route(
    "GET",
    r"/api/v1/calls/{call_id:\d+}/recording",  # presenting.RECORDING_PATH
    summary="Play a call's recorded message (fetched from the carrier by the server)",
    tag="calls",
    statuses={
        200: "the audio (MP3)",
        404: "no recording, or the call has no order you may see",
        502: "the carrier could not give it (`recording_unavailable`)",
    },
)
async def call_recording(request: web.Request) -> web.Response:
    actor = require_actor(request)
    async with request.app[POOL].acquire() as conn:
        recording_sid = await recordings.access_recording(conn, actor, path_int(request, "call_id"))
    return await play_recording(request, recording_sid)


async def play_recording(request: web.Request, recording_sid: str) -> web.Response:
    """The recording's audio from Twilio, or 502 ``recording_unavailable``; the caller has
    checked that the user may hear it."""
    try:
        audio = await recordings.fetch_recording(request.app[SETTINGS], recording_sid)
    except recordings.RecordingUnavailable as exc:
        log.warning("recording %s not fetched: %s", recording_sid, exc)
        return error_response(
            request,
            502,
            "recording_unavailable",
            "the recording cannot be fetched now; try again later",
        )
    return media_response(audio)
