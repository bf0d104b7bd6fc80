"""Carrying out callback attempts: the relay source and the RQ job, and what a failed
attempt leads to.

The relay's ``callback`` source leases due pending attempts and enqueues
``run_attempt(id)``. The job takes the row's sending lock (``hotline.leased``), skips
it unless it is still pending and due, then:

- **voice**: waits for a slot of the account's pacer, checks the concurrent-call limit
  and commits ``placing_at`` in one transaction, asks the provider to place the call
  (outside any transaction), and marks the attempt ``placed``. A job that finds
  ``placing_at`` already set knows a worker died mid-attempt: it never places that
  attempt again, but waits for the call's status callback (which names the attempt) and
  after ``callback_placing_timeout_seconds`` counts the attempt as failed;
- **sms**: queues the survey SMS (``integrations.telephony.outbound``, keyed by the
  attempt's effect key) and writes the next attempt, due when the reply window ends;
  the one after the last attempt only closes the survey as unreachable.

A failed attempt is followed by the next one by policy, or the survey is unreachable.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

import asyncpg

from callbacks import queries, voice
from callbacks.outcomes import JUST_DONE, do_mark_unreachable
from callbacks.pacing import Pacer
from callbacks.policy import CallbackPolicy, waiting_state
from hotline import i18n, leased
from hotline.context import JobContext
from hotline.jobs import run_job
from hotline.orders import queries as order_queries
from hotline.orders.service import do_transition
from hotline.reference.cache import reference
from hotline.relay import Source
from hotline.settings import Settings
from hotline.telephony import PermanentSendError, TelephonyProvider
from hotline.workcal import WorkingCalendar
from integrations.telephony.outbound import queue_sms

log = logging.getLogger(__name__)

LEASE = leased.Lease("callback_attempts")
FULL_LINE_RETRY = dt.timedelta(seconds=2)  # all lines busy: look again this soon


def account_of(provider: TelephonyProvider, settings: Settings) -> str:
    """The provider account whose limits apply (the pacer's and the lines' key)."""
    if provider.name == "twilio" and settings.twilio_account_sid:
        return f"twilio:{settings.twilio_account_sid}"
    return provider.name


def pacer_for(provider: TelephonyProvider, settings: Settings) -> Pacer:
    return Pacer(
        account_of(provider, settings),
        settings.callback_calls_per_second,
        settings.callback_max_concurrent_calls,
    )


async def process_attempt(conn: asyncpg.Connection, attempt_id: int, ctx: JobContext) -> str:
    """Carry out one attempt if it is pending and due; returns what happened.

    Precondition: ``conn`` is not inside a transaction. The context's clock decides
    calling hours and stamps the attempt; whether the row is due is the database's
    decision. Calls go through the context's provider."""

    async def carry_out(attempt: asyncpg.Record) -> str:
        return await _carry_out(conn, attempt, ctx, await ctx.calendar.get(conn))

    return await leased.send_leased(
        conn, LEASE, attempt_id, load=queries.get_attempt, send=carry_out
    )


async def _carry_out(
    conn: asyncpg.Connection, attempt: asyncpg.Record, ctx: JobContext, calendar: WorkingCalendar
) -> str:
    attempt_id, settings = attempt["id"], ctx.settings
    now = ctx.clock()
    policy = CallbackPolicy.from_settings(settings, calendar)
    if attempt["placing_at"] is not None:
        return await _placement_lost(conn, attempt, policy, settings, calendar, now)
    if attempt["survey_state"] != "open":
        async with conn.transaction():
            await queries.finish_attempt(conn, attempt_id, outcome="not needed", now=now)
        return "cancelled"
    if attempt["number"] > policy.max_attempts:  # an SMS survey's last reply window ended
        async with conn.transaction():
            await queries.finish_attempt(conn, attempt_id, outcome="no reply", now=now)
            await do_mark_unreachable(
                conn,
                attempt["survey_id"],
                reason=i18n.Text("no reply to the survey SMS"),
                now=now,
            )
        return "unreachable"
    if policy.too_late(attempt["due_at"], now):
        async with conn.transaction():
            await queries.defer_attempt(conn, attempt_id, policy.next_calling_time(now))
        return "deferred"
    if attempt["channel"] == "sms":
        return await _send_sms(conn, attempt, policy, now)
    return await _place_call(conn, attempt, ctx, calendar)


async def _send_sms(
    conn: asyncpg.Connection, attempt: asyncpg.Record, policy: CallbackPolicy, now: dt.datetime
) -> str:
    async with conn.transaction():
        hotline = await reference.hotline(conn, attempt["hotline_code"])
        assert hotline is not None
        number = await _order_number(conn, attempt["order_id"])
        await queue_sms(
            conn,
            effect_key=attempt["effect_key"],
            to_phone=attempt["phone"],
            from_number=hotline["voice_number"] or hotline["number"],
            body=voice.sms_question(attempt["step"], hotline["number"], number),
        )
        await _placed(conn, attempt, provider="sms", provider_sid=None, now=now)
        await queries.insert_attempt(
            conn,
            survey_id=attempt["survey_id"],
            number=attempt["number"] + 1,
            channel="sms",
            state="pending",
            due_at=policy.next_calling_time(now + policy.sms_reply_window),
        )
    return "sent"


async def _order_number(conn: asyncpg.Connection, order_id: int | None) -> str | None:
    order = await order_queries.get_order(conn, order_id) if order_id else None
    return str(order["number"]) if order else None


async def _placed(
    conn: asyncpg.Connection,
    attempt: asyncpg.Record,
    *,
    provider: str,
    provider_sid: str | None,
    now: dt.datetime,
) -> None:
    """The call or SMS is out; the order, if still just completed, is now in callback."""
    await queries.mark_placed(
        conn, attempt["id"], provider=provider, provider_sid=provider_sid, now=now
    )
    if attempt["order_id"] is None:
        return
    order = await order_queries.get_order(conn, attempt["order_id"], for_update=True)
    if order is not None and order["status"] in JUST_DONE:
        await do_transition(
            conn,
            order,
            "start_callback",
            None,
            now,
            data={"attempt_id": attempt["id"], "number": attempt["number"]},
        )


async def _place_call(
    conn: asyncpg.Connection, attempt: asyncpg.Record, ctx: JobContext, calendar: WorkingCalendar
) -> str:
    provider, settings = ctx.telephony, ctx.settings
    pacer = pacer_for(provider, settings)
    timeout = dt.timedelta(seconds=settings.callback_placing_timeout_seconds)
    while True:
        start_by = await pacer.wait_for_slot(conn)
        now = ctx.clock()
        async with conn.transaction():
            if not await pacer.has_line(conn, now - timeout):
                await queries.defer_attempt(conn, attempt["id"], now + FULL_LINE_RETRY)
                return "deferred"
            await queries.start_placing(conn, attempt["id"], pacer.account, now)
        if time.monotonic() <= start_by:
            break
        # Woke too late for the slot's second: give the line back, take a new slot.
        async with conn.transaction():
            await queries.clear_placing(conn, attempt["id"])
    hotline = await reference.hotline(conn, attempt["hotline_code"])
    assert hotline is not None
    urls = voice.SurveyUrls(settings.base_url, attempt["id"])
    try:
        sid = await asyncio.to_thread(
            provider.place_call,
            attempt["phone"],
            hotline["voice_number"] or hotline["number"],
            urls.survey,
            attempt["effect_key"],
            status_url=urls.status,
        )
    except PermanentSendError as exc:
        log.warning("callback attempt %s refused by the provider: %r", attempt["id"], exc)
        async with conn.transaction():
            await attempt_failed(
                conn,
                attempt["id"],
                outcome="failed",
                now=now,
                error=repr(exc),
                settings=settings,
                calendar=calendar,
            )
        return "failed"
    except Exception as exc:
        # Perhaps placed, perhaps not: never placed again; the status callback or the
        # placing timeout settles it.
        log.warning("callback attempt %s: provider outcome unknown: %r", attempt["id"], exc)
        return "unknown"
    async with conn.transaction():
        await _placed(conn, attempt, provider=pacer.account, provider_sid=sid, now=now)
    return "placed"


async def _placement_lost(
    conn: asyncpg.Connection,
    attempt: asyncpg.Record,
    policy: CallbackPolicy,
    settings: Settings,
    calendar: WorkingCalendar,
    now: dt.datetime,
) -> str:
    """A worker died (or the provider did not answer) after ``placing_at`` was committed.
    Wait for the status callback until the timeout; then the attempt failed."""
    give_up = attempt["placing_at"] + dt.timedelta(
        seconds=settings.callback_placing_timeout_seconds
    )
    async with conn.transaction():
        if now < give_up:
            await queries.wait_for_status(conn, attempt["id"], give_up)
            return "waiting"
        await attempt_failed(
            conn, attempt["id"], outcome="lost", now=now, settings=settings, calendar=calendar
        )
    return "lost"


async def attempt_failed(
    conn: asyncpg.Connection,
    attempt_id: int,
    *,
    outcome: str,
    now: dt.datetime,
    settings: Settings,
    calendar: WorkingCalendar,
    error: str = "",
    provider_sid: str | None = None,
) -> None:
    """The attempt reached nobody (no answer, busy, a machine, failed, lost): the next
    one by policy, or the survey is unreachable once the attempts are used up.
    Precondition: inside the caller's transaction."""
    attempt = await queries.get_attempt(conn, attempt_id, for_update=True)
    assert attempt is not None
    await queries.finish_attempt(
        conn, attempt_id, outcome=outcome, now=now, error=error, provider_sid=provider_sid
    )
    if attempt["survey_state"] != "open":
        return
    policy = CallbackPolicy.from_settings(settings, calendar)
    due = policy.retry_at(attempt["number"], now)
    if due is None:
        await do_mark_unreachable(
            conn,
            attempt["survey_id"],
            reason=i18n.Text(
                "{count} attempts, the last: {outcome}",
                count=attempt["number"],
                outcome=i18n.Term(outcome),
            ),
            now=now,
        )
        return
    survey = await queries.get_survey(conn, attempt["survey_id"])
    assert survey is not None
    await queries.insert_attempt(
        conn,
        survey_id=attempt["survey_id"],
        number=attempt["number"] + 1,
        channel=attempt["channel"],
        state=waiting_state(attempt["channel"], survey["campaign_state"]),
        due_at=due,
    )


def run_attempt(attempt_id: int) -> str:
    """The RQ job: carry out one callback attempt."""
    return run_job(lambda ctx, conn: process_attempt(conn, attempt_id, ctx))


callback_source = Source("callback", LEASE, run_attempt)
