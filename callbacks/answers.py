"""Answers as they arrive: the voice survey's webhooks, the SMS survey, the call's
final status, and an agent's manual callback.

Every function runs inside the caller's transaction (for webhooks, the one
``integrations.telephony.webhooks.once`` keys the delivery in) and makes no outbound
request; voice functions return the TwiML to answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, model_validator

from callbacks import jobs, queries, voice
from callbacks.outcomes import Answer, Outcome, do_finish_survey
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.orders import queries as order_queries
from hotline.orders.service import record_event
from hotline.reference.cache import reference
from hotline.reference.calendar import load_calendar
from hotline.settings import Settings
from hotline.users.models import Actor
from hotline.workcal import WorkingCalendar

MACHINE = ("machine", "fax")  # AnsweredBy values: machine_start, machine_end_beep ..., fax
# Final call statuses; anything but a survey answered in the call is a failed attempt.
FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


async def _finish(
    conn: asyncpg.Connection,
    survey_id: int,
    answer: Answer,
    actor: Actor | None,
    now: dt.datetime,
    calendar: WorkingCalendar,
) -> Outcome:
    return await do_finish_survey(conn, survey_id, answer, actor=actor, calendar=calendar, now=now)


async def _open_survey(conn: asyncpg.Connection, attempt_id: int) -> asyncpg.Record | None:
    """The attempt's survey, locked, if it still waits for answers."""
    attempt = await queries.get_attempt(conn, attempt_id)
    if attempt is None:
        return None
    survey = await queries.get_survey(conn, attempt["survey_id"], for_update=True)
    return survey if survey is not None and survey["state"] == "open" else None


# ----------------------------------------------------------------------- voice


async def survey_call_answered(
    conn: asyncpg.Connection,
    attempt_id: int,
    *,
    call_sid: str,
    answered_by: str,
    base_url: str,
) -> str:
    """The citizen (or a machine) picked up: greet and ask the survey's next question."""
    survey = await _open_survey(conn, attempt_id)
    if survey is None:
        return voice.hang_up()
    if answered_by.startswith(MACHINE):
        await queries.set_attempt_note(conn, attempt_id, outcome="machine", provider_sid=call_sid)
        return voice.hang_up("")
    await queries.set_attempt_note(conn, attempt_id, outcome="answered", provider_sid=call_sid)
    hotline = await reference.hotline(conn, survey["hotline_code"])
    assert hotline is not None
    order = await order_queries.get_order(conn, survey["order_id"]) if survey["order_id"] else None
    greeting = voice.greeting(hotline["name_zh"], order["number"] if order else None)
    return voice.ask(survey["step"], voice.SurveyUrls(base_url, attempt_id), greeting=greeting)


async def survey_digit(
    conn: asyncpg.Connection,
    attempt_id: int,
    *,
    question: Literal["solved", "rating"],
    digits: str,
    again: bool,
    now: dt.datetime,
    settings: Settings,
    calendar: WorkingCalendar,
) -> str:
    """A key pressed (or none) for ``question``. A wrong key or none asks once more, then
    the call ends and the attempt counts as not completed."""
    survey = await _open_survey(conn, attempt_id)
    if survey is None:
        return voice.hang_up(voice.THANKS)
    urls = voice.SurveyUrls(settings.base_url, attempt_id)
    if question == "solved" and digits in ("1", "2"):
        await queries.record_solved(conn, survey["id"], digits == "1")
        return voice.ask("rating", urls)
    if question == "rating" and digits in ("1", "2", "3", "4", "5"):
        await _finish(conn, survey["id"], Answer(None, int(digits)), None, now, calendar)
        return voice.ask_comment(urls)
    if again:
        return voice.hang_up()
    return voice.ask(question, urls, again=True)


async def survey_comment(
    conn: asyncpg.Connection, attempt_id: int, *, recording_url: str, now: dt.datetime
) -> None:
    """The spoken comment after the rating: kept on the survey and in the order's
    history, where the unit redoing the order hears the citizen's words."""
    attempt = await queries.get_attempt(conn, attempt_id)
    if attempt is None:
        return
    await queries.set_recording(conn, attempt["survey_id"], recording_url)
    if attempt["order_id"] is not None:
        await record_event(
            conn,
            attempt["order_id"],
            "callback.comment",
            None,
            now,
            # The survey keeps the carrier's URL; the history (shown and pushed to the
            # consoles) names the survey, whose recording plays through the server.
            data={"survey_id": attempt["survey_id"], "recorded": True},
        )


async def survey_call_ended(
    conn: asyncpg.Connection,
    attempt_id: int,
    *,
    call_sid: str,
    status: str,
    answered_by: str,
    now: dt.datetime,
    settings: Settings,
    calendar: WorkingCalendar,
) -> None:
    """The call's final status. The survey answered in the call: the attempt is done.
    Otherwise (no answer, busy, failed, a machine, hung up halfway) the next attempt
    by policy. A status for an attempt already settled changes nothing."""
    if status not in FINAL_STATUSES:
        return
    attempt = await queries.get_attempt(conn, attempt_id, for_update=True)
    if attempt is None or attempt["state"] not in ("placed", "pending"):
        return
    if attempt["state"] == "pending" and attempt["placing_at"] is None:
        return  # never placed by us: not this attempt's call
    if attempt["survey_state"] == "answered":
        await queries.finish_attempt(
            conn, attempt_id, outcome="answered", now=now, provider_sid=call_sid
        )
        return
    if answered_by.startswith(MACHINE) or attempt["outcome"] == "machine":
        outcome = "machine"
    elif status == "completed":
        outcome = "incomplete"  # picked up, hung up before the rating
    else:
        outcome = status
    await jobs.attempt_failed(
        conn,
        attempt_id,
        outcome=outcome,
        now=now,
        settings=settings,
        calendar=calendar,
        provider_sid=call_sid,
    )


# ------------------------------------------------------------------------- SMS


async def answer_sms(
    conn: asyncpg.Connection, *, from_phone: str, body: str, now: dt.datetime, settings: Settings
) -> str | None:
    """An SMS from a phone with a survey SMS out: the answer to its current question.
    Returns the reply (the next question, or thanks); None when the SMS answers nothing
    (then it is an ordinary message and becomes a draft)."""
    survey = await queries.open_sms_survey(conn, from_phone)
    if survey is None:
        return None
    hotline = await reference.hotline(conn, survey["hotline_code"])
    assert hotline is not None
    if survey["step"] == "solved":
        solved = voice.read_solved(body)
        if solved is None:
            return None
        await queries.record_solved(conn, survey["id"], solved)
        return voice.sms_question("rating", hotline["number"], None)
    rated = voice.read_rating(body)
    if rated is None:
        return None
    level, words = rated
    # Read here, not cached: the web process's SMS intake keeps no calendar, and an SMS
    # that answers a survey's last question is rare.
    calendar = await load_calendar(conn, settings)
    outcome = await _finish(conn, survey["id"], Answer(None, level, words), None, now, calendar)
    return voice.SMS_THANKS_BAD if outcome in ("reopened", "escalated") else voice.SMS_THANKS_GOOD


# ---------------------------------------------------------------------- agents


class ManualAnswer(BaseModel):
    """What the citizen told the agent, or that nobody could be reached."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reached: bool = True
    solved: bool | None = None
    rating: int | None = Field(default=None, ge=1, le=5)
    comment: str = Field(default="", max_length=4000)
    outcome: Literal["no-answer", "busy", "wrong-number"] | None = None

    @model_validator(mode="after")
    def _complete(self) -> ManualAnswer:
        if self.reached and (self.rating is None or self.outcome is not None):
            raise ValueError("a reached citizen gives a rating (and solved, for an order)")
        if not self.reached and (self.outcome is None or self.rating is not None):
            raise ValueError("say why nobody was reached (outcome), with no rating")
        return self


async def do_record_manual(
    conn: asyncpg.Connection,
    actor: Actor,
    attempt_id: int,
    body: ManualAnswer,
    now: dt.datetime,
    *,
    settings: Settings,
    calendar: WorkingCalendar,
) -> dict[str, object]:
    """An agent's callback: the answers (the loop closes or reopens as for voice and SMS),
    or the attempt failed and the next one follows by policy."""
    attempt = await queries.get_attempt(conn, attempt_id, for_update=True)
    # Another hotline's callback is as missing as one that does not exist.
    if (
        attempt is None
        or attempt["channel"] != "manual"
        or not actor.sees_hotline(attempt["hotline_code"])
    ):
        raise NotFound("manual callback {attempt_id} not found", attempt_id=attempt_id)
    if attempt["state"] != "manual" or attempt["survey_state"] != "open":
        raise Conflict("this callback was already recorded", code="callback_recorded")
    if not body.reached:
        assert body.outcome is not None
        await jobs.attempt_failed(
            conn, attempt_id, outcome=body.outcome, now=now, settings=settings, calendar=calendar
        )
        return {"attempt_id": attempt_id, "outcome": body.outcome}
    if attempt["order_id"] is not None and body.solved is None:
        raise InvalidInput(
            "say whether the problem was solved",
            code="invalid_answer",
            fields={"solved": "needed for a callback about an order"},
        )
    await queries.mark_placed(conn, attempt_id, provider="agent", provider_sid=None, now=now)
    outcome = await _finish(
        conn,
        attempt["survey_id"],
        Answer(body.solved, body.rating, body.comment),
        actor,
        now,
        calendar,
    )
    return {"attempt_id": attempt_id, "outcome": outcome}
