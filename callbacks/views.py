"""HTTP: the voice survey's Twilio webhooks (``/twilio/callbacks/*``, signed, once per
delivery) and the callbacks API (campaigns, the manual queue, rulings, appeals,
figures)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

import asyncpg
from aiohttp import web
from multidict import MultiDict
from pydantic import BaseModel, ConfigDict, Field

from callbacks import answers, campaigns, outcomes, queries, voice
from callbacks.figures import FigureQuery, Period, compute_figures, hard_case_figures
from callbacks.policy import CallbackPolicy
from callbacks.voice import SurveyUrls
from hotline.db import transaction
from hotline.errors import NotFound
from hotline.orders.presenting import SURVEY_RECORDING_PATH, order_json
from hotline.orders.service import access_order_by_id, hotline_scope
from hotline.users.models import CENTRE_ROLES, ENTERPRISE_ROLES, SUPERVISOR_ROLES, Role
from integrations.telephony import voice as telephony_voice
from integrations.telephony.recordings import hidden, sid_of
from integrations.telephony.views import play_recording, twilio_webhook
from integrations.telephony.webhooks import DeliveryKey, once
from web.api import Api, ListLimit, Routes, json_response, path_int, read_body, read_query
from web.auth import require_actor
from web.keys import CALENDAR, CLOCK, POOL, SETTINGS

routes = Routes()

CALLERS = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})


# ---------------------------------------------------------------- Twilio: survey


class SurveyForm(BaseModel):
    """What we read of Twilio's posts during a survey call."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    CallSid: str = Field(min_length=2, max_length=64)
    CallStatus: str = Field(default="", max_length=32)
    AnsweredBy: str = Field(default="", max_length=32)
    Digits: str = Field(default="", max_length=32)
    RecordingUrl: str = Field(default="", max_length=1000)
    RecordingStatus: str = Field(default="completed", max_length=32)


def _attempt_id(request: web.Request) -> int | None:
    raw = request.query.get("attempt", "")
    return int(raw) if raw.isdigit() else None


async def _survey_once(
    request: web.Request,
    form: MultiDict[str],
    kind: str,
    status: Callable[[SurveyForm], str],
    work: Callable[[asyncpg.Connection, int, SurveyForm], Awaitable[str]],
) -> str:
    """Run ``work`` once per delivery (kind, CallSid, status) for the attempt named in the
    URL; an unknown attempt hears goodbye."""
    data = SurveyForm.model_validate(dict(form))
    attempt_id = _attempt_id(request)
    if attempt_id is None:
        return voice.hang_up()
    key = DeliveryKey(kind, data.CallSid, f"{attempt_id}:{status(data)}")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        return await once(conn, key, lambda: work(conn, attempt_id, data))


@twilio_webhook(
    routes, SurveyUrls.SURVEY, "Twilio: a survey call was answered; asks the first question"
)
async def survey_answered(request: web.Request, form: MultiDict[str]) -> str:
    base = request.app[SETTINGS].base_url
    return await _survey_once(
        request,
        form,
        "callback-survey",
        lambda d: "",
        lambda conn, attempt_id, d: answers.survey_call_answered(
            conn, attempt_id, call_sid=d.CallSid, answered_by=d.AnsweredBy, base_url=base
        ),
    )


def _digit_webhook(question: Literal["solved", "rating"]) -> Callable[..., Awaitable[str]]:
    async def handler(request: web.Request, form: MultiDict[str]) -> str:
        again = request.query.get("again") == "1"
        now = request.app[CLOCK]()
        settings = request.app[SETTINGS]

        async def work(conn: asyncpg.Connection, attempt_id: int, d: SurveyForm) -> str:
            return await answers.survey_digit(
                conn,
                attempt_id,
                question=question,
                digits=d.Digits,
                again=again,
                now=now,
                settings=settings,
                calendar=await request.app[CALENDAR].get(conn),
            )

        return await _survey_once(
            request,
            form,
            f"callback-{question}",
            lambda d: f"{'again:' if again else ''}{d.Digits}",
            work,
        )

    return handler


twilio_webhook(routes, SurveyUrls.SOLVED, "Twilio: solved? 1 yes, 2 no; asks for the rating")(
    _digit_webhook("solved")
)
twilio_webhook(routes, SurveyUrls.RATING, "Twilio: the rating 1–5; closes or reopens the order")(
    _digit_webhook("rating")
)


@twilio_webhook(routes, SurveyUrls.COMMENT, "Twilio: the recorded comment after a survey")
async def survey_comment(request: web.Request, form: MultiDict[str]) -> str:
    now = request.app[CLOCK]()

    async def work(conn: asyncpg.Connection, attempt_id: int, d: SurveyForm) -> str:
        if d.RecordingStatus == "completed" and d.RecordingUrl:
            await answers.survey_comment(conn, attempt_id, recording_url=d.RecordingUrl, now=now)
        return telephony_voice.empty()

    return await _survey_once(request, form, "callback-comment", lambda d: "", work)


@twilio_webhook(routes, SurveyUrls.THANKS, "Twilio: the comment is recorded; thank and hang up")
async def survey_thanks(request: web.Request, form: MultiDict[str]) -> str:
    return voice.hang_up(voice.THANKS)


@twilio_webhook(
    routes, SurveyUrls.STATUS, "Twilio: a survey call's final status; retries by policy"
)
async def survey_status(request: web.Request, form: MultiDict[str]) -> str:
    now = request.app[CLOCK]()

    async def work(conn: asyncpg.Connection, attempt_id: int, d: SurveyForm) -> str:
        await answers.survey_call_ended(
            conn,
            attempt_id,
            call_sid=d.CallSid,
            status=d.CallStatus,
            answered_by=d.AnsweredBy,
            now=now,
            settings=request.app[SETTINGS],
            calendar=await request.app[CALENDAR].get(conn),
        )
        return telephony_voice.empty()

    return await _survey_once(request, form, "callback-status", lambda d: d.CallStatus, work)


# ------------------------------------------------------------------- campaigns


async def _policy(request: web.Request, conn: asyncpg.Connection) -> CallbackPolicy:
    return CallbackPolicy.from_settings(
        request.app[SETTINGS], await request.app[CALENDAR].get(conn)
    )


async def _campaigns_json(
    conn: asyncpg.Connection, campaigns: list[asyncpg.Record]
) -> list[dict[str, object]]:
    counts = await queries.campaign_counts(conn, [c["id"] for c in campaigns])
    return [{**dict(c), "counts": counts[c["id"]]} for c in campaigns]


async def _campaign_json(conn: asyncpg.Connection, campaign: asyncpg.Record) -> dict[str, object]:
    (one,) = await _campaigns_json(conn, [campaign])
    return one


@routes.route(
    "POST",
    "/api/v1/callback-campaigns",
    summary="Create a spot-check (抽查) or proactive survey (营商环境专席) campaign",
    tag="callbacks",
    body=campaigns.CampaignInput,
    roles=SUPERVISOR_ROLES,
    statuses={201: "the campaign with its surveys counted"},
)
async def create_campaign(request: web.Request) -> web.Response:
    body = await read_body(request, campaigns.CampaignInput)
    async with transaction(request.app[POOL]) as conn:
        campaign, _ = await campaigns.do_create_campaign(
            conn,
            require_actor(request),
            body,
            settings=request.app[SETTINGS],
            policy=await _policy(request, conn),
            now=request.app[CLOCK](),
        )
        return json_response(await _campaign_json(conn, campaign), status=201)


@routes.route(
    "GET",
    "/api/v1/callback-campaigns",
    summary="Campaigns, newest first, with their surveys counted",
    tag="callbacks",
    query=ListLimit,
    roles=CENTRE_ROLES,
)
async def list_campaigns(request: web.Request) -> web.Response:
    criteria = read_query(request, ListLimit)
    async with request.app[POOL].acquire() as conn:
        rows = await queries.list_campaigns(conn, criteria.limit)
        return json_response({"items": await _campaigns_json(conn, rows)})


@routes.route(
    "GET",
    r"/api/v1/callback-campaigns/{campaign_id:\d+}",
    summary="A campaign with its surveys counted by state and rating",
    tag="callbacks",
    roles=CENTRE_ROLES,
)
async def get_campaign(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        campaign = await queries.get_campaign(conn, path_int(request, "campaign_id"))
        if campaign is None:
            raise NotFound("campaign not found")
        return json_response(await _campaign_json(conn, campaign))


async def _set_state(request: web.Request, state: Literal["active", "paused"]) -> web.Response:
    async with transaction(request.app[POOL]) as conn:
        campaign = await campaigns.do_set_campaign_state(
            conn,
            path_int(request, "campaign_id"),
            state,
            policy=await _policy(request, conn),
            now=request.app[CLOCK](),
        )
        return json_response(await _campaign_json(conn, campaign))


@routes.route(
    "POST",
    r"/api/v1/callback-campaigns/{campaign_id:\d+}/pause",
    summary="Pause a campaign: its waiting attempts are held",
    tag="callbacks",
    roles=SUPERVISOR_ROLES,
)
async def pause_campaign(request: web.Request) -> web.Response:
    return await _set_state(request, "paused")


@routes.route(
    "POST",
    r"/api/v1/callback-campaigns/{campaign_id:\d+}/resume",
    summary="Resume a campaign: held attempts wait again, from the next calling time",
    tag="callbacks",
    roles=SUPERVISOR_ROLES,
)
async def resume_campaign(request: web.Request) -> web.Response:
    return await _set_state(request, "active")


# ------------------------------------------------------------ manual callbacks


@routes.route(
    "GET",
    "/api/v1/callbacks/manual",
    summary="Manual callbacks due now, oldest first, for agents to call",
    tag="callbacks",
    query=ListLimit,
    roles=CALLERS,
)
async def manual_queue(request: web.Request) -> web.Response:
    criteria = read_query(request, ListLimit)
    async with request.app[POOL].acquire() as conn:
        rows = await queries.due_manual_attempts(
            conn, request.app[CLOCK](), criteria.limit, hotline_scope(require_actor(request))
        )
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "POST",
    r"/api/v1/callbacks/manual/{attempt_id:\d+}/answer",
    summary="Record a manual callback: the answers, or why nobody was reached",
    tag="callbacks",
    body=answers.ManualAnswer,
    roles=CALLERS,
)
async def record_manual(request: web.Request) -> web.Response:
    body = await read_body(request, answers.ManualAnswer)
    async with transaction(request.app[POOL]) as conn:
        result = await answers.do_record_manual(
            conn,
            require_actor(request),
            path_int(request, "attempt_id"),
            body,
            request.app[CLOCK](),
            settings=request.app[SETTINGS],
            calendar=await request.app[CALENDAR].get(conn),
        )
    return json_response(result)


@routes.route(
    "GET",
    r"/api/v1/orders/{order_id:\d+}/callbacks",
    summary="An order's callback surveys with their attempts and answers",
    tag="callbacks",
)
async def order_callbacks(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        order = await access_order_by_id(
            conn, require_actor(request), path_int(request, "order_id")
        )
        rows = await queries.order_surveys(conn, order["id"])
    return json_response({"items": [survey_json(r) for r in rows]})


def survey_json(row: asyncpg.Record) -> dict[str, Any]:
    """A survey with ``recording`` (the address that plays the citizen's spoken comment,
    or None) in place of the carrier's URL."""
    data = {k: v for k, v in row.items() if k != "recording_url"}
    recorded = row["recording_url"] is not None
    data["recording"] = SURVEY_RECORDING_PATH.format(survey_id=row["id"]) if recorded else None
    return data


@routes.route(
    "GET",
    r"/api/v1/callbacks/surveys/{survey_id:\d+}/recording",  # SURVEY_RECORDING_PATH
    summary="Play the citizen's spoken comment of a survey (fetched by the server)",
    tag="callbacks",
    statuses={
        200: "the audio (MP3)",
        404: "no recording, or a survey of an order you may not see",
        502: "the carrier could not give it (`recording_unavailable`)",
    },
)
async def survey_recording(request: web.Request) -> web.Response:
    actor = require_actor(request)
    async with request.app[POOL].acquire() as conn:
        survey = await queries.get_survey(conn, path_int(request, "survey_id"))
        recording_sid = sid_of(survey["recording_url"] or "") if survey else None
        if survey is None or recording_sid is None:
            raise hidden()
        if survey["order_id"] is not None:
            await access_order_by_id(conn, actor, survey["order_id"], hidden_as=hidden())
        elif not (actor.is_centre and actor.sees_hotline(survey["hotline_code"])):
            raise hidden()  # a survey of no order (proactive): its hotline's centre users
    return await play_recording(request, recording_sid)


# ------------------------------------------------------- rulings and appeals


@routes.route(
    "POST",
    r"/api/v1/orders/{order_id:\d+}/ruling",
    summary="Close the order with a recorded ruling (for example an unreasonable demand)",
    tag="callbacks",
    body=outcomes.RulingInput,
    roles=SUPERVISOR_ROLES,
)
async def close_with_ruling(request: web.Request) -> web.Response:
    body = await read_body(request, outcomes.RulingInput)
    async with transaction(request.app[POOL]) as conn:
        order = await outcomes.do_close_with_ruling(
            conn, require_actor(request), path_int(request, "order_id"), body, request.app[CLOCK]()
        )
    return json_response(order_json(order))


@routes.route(
    "POST",
    r"/api/v1/dispatches/{dispatch_id:\d+}/appeals",
    summary="Appeal a bad rating (申诉)",
    tag="callbacks",
    body=outcomes.AppealInput,
    roles=ENTERPRISE_ROLES,
    statuses={201: "the appeal, pending"},
)
async def appeal(request: web.Request) -> web.Response:
    body = await read_body(request, outcomes.AppealInput)
    async with transaction(request.app[POOL]) as conn:
        made = await outcomes.do_appeal(
            conn,
            require_actor(request),
            path_int(request, "dispatch_id"),
            body,
            request.app[CLOCK](),
        )
    return json_response(dict(made), status=201)


@routes.route(
    "GET",
    "/api/v1/rating-appeals",
    summary="Appeals waiting for a decision",
    tag="callbacks",
    query=ListLimit,
    roles=SUPERVISOR_ROLES,
)
async def pending_appeals(request: web.Request) -> web.Response:
    criteria = read_query(request, ListLimit)
    async with request.app[POOL].acquire() as conn:
        rows = await queries.pending_appeals(
            conn, criteria.limit, hotline_scope(require_actor(request))
        )
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "POST",
    r"/api/v1/rating-appeals/{appeal_id:\d+}/decision",
    summary="Approve (the rating leaves the unit's score) or reject an appeal",
    tag="callbacks",
    body=outcomes.AppealDecision,
    roles=SUPERVISOR_ROLES,
)
async def decide_appeal(request: web.Request) -> web.Response:
    body = await read_body(request, outcomes.AppealDecision)
    async with transaction(request.app[POOL]) as conn:
        decided = await outcomes.do_decide_appeal(
            conn, require_actor(request), path_int(request, "appeal_id"), body, request.app[CLOCK]()
        )
    return json_response(dict(decided))


# --------------------------------------------------------------------- figures


@routes.route(
    "GET",
    "/api/v1/figures",
    summary="Response, resolution, satisfaction, on-time, callback and reopen rates, 三率 score",
    tag="callbacks",
    query=FigureQuery,
    roles=CENTRE_ROLES,
)
async def figures(request: web.Request) -> web.Response:
    query = read_query(request, FigureQuery)
    async with request.app[POOL].acquire() as conn:
        rows = await compute_figures(conn, query, request.app[SETTINGS], request.app[CLOCK]())
    return json_response({"by": query.by, "start": query.start, "end": query.end, "items": rows})


@routes.route(
    "GET",
    "/api/v1/figures/hard-cases",
    summary="办不成事 (hard cases) per hotline: registered, completed, on-time rate, open, overdue",
    tag="callbacks",
    query=Period,
    roles=CENTRE_ROLES,
)
async def hard_cases(request: web.Request) -> web.Response:
    period = read_query(request, Period)
    async with request.app[POOL].acquire() as conn:
        rows = await hard_case_figures(conn, period, request.app[CLOCK]())
    return json_response({"start": period.start, "end": period.end, "items": rows})


def register(api: Api) -> None:
    """Callbacks' operations: campaigns, surveys (Twilio), manual callbacks, rulings,
    appeals and the figures."""
    api.include(routes)
