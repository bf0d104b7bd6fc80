"""What each Twilio webhook does: calls, the menu, the queue, recorded messages, SMS.

Every ``handle_*`` runs inside the caller's transaction (the one ``webhooks.once``
keys the delivery in; ``handle_recording`` keys its own), makes no outbound request, and
returns the TwiML to answer.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

import asyncpg

from hotline.errors import InvalidInput, TooManyRequests
from hotline.orders.models import NewDraft
from hotline.orders.service import do_register_draft
from hotline.phones import normalize_phone
from hotline.reference.reach import outage_domains
from hotline.registry import HandlerRegistry
from hotline.settings import Settings
from integrations import ratelimit
from integrations.telephony import opt_out, queries, voice
from integrations.telephony.webhooks import (
    CallForm,
    DeliveryKey,
    GatherForm,
    QueueForm,
    RecordingForm,
    SmsForm,
    repeated,
)
from integrations.tracking import service as tracking
from routing import queries as outage_queries
from routing.rules import area_chain

log = logging.getLogger(__name__)

# How far a call has come; a status callback only ever moves a call forward.
STATUS_RANK = {
    "queued": 1,
    "ringing": 2,
    "in-progress": 3,
    "completed": 4,
    "busy": 4,
    "failed": 4,
    "no-answer": 4,
    "canceled": 4,
}
FINAL_RANK = 4
# Queue results after which the caller has nothing more to hear from us.
QUEUE_DONE = frozenset({"bridged", "bridging-in-process", "redirected"})
CHOICE_LABELS = {"repair": "故障报修", "consultation": "业务咨询", "complaint": "投诉"}
EMPTY_SMS = "(空短信 / empty message)"
SMS_RECEIVED = "已收到您的短信，工单号 {number}，话务员将尽快处理。查询进度请回复“查询”。"


@dataclass(frozen=True)
class Urls:
    """The absolute URLs Twilio is told to call back, under ``HOTLINE_PUBLIC_URL``."""

    base: str

    VOICE = "/twilio/voice"
    MENU = "/twilio/voice/menu"
    WAIT = "/twilio/voice/wait"
    QUEUE_EXIT = "/twilio/voice/queue-exit"
    GOODBYE = "/twilio/voice/goodbye"
    STATUS = "/twilio/voice/status"
    RECORDING = "/twilio/recording"
    SMS = "/twilio/sms"

    def absolute(self, path: str) -> str:
        return self.base + path

    @property
    def menu_retry(self) -> str:
        """The menu offered a second time: a wrong digit there queues the caller anyway."""
        return self.base + self.MENU + "?attempt=2"


def phone_or_raw(raw: str) -> tuple[str, bool]:
    """The number in E.164 and True, or the raw value and False when it does not parse
    (withheld numbers arrive as "anonymous" or "+266696687")."""
    try:
        return normalize_phone(raw), True
    except InvalidInput:
        return raw, False


async def hotline_for(conn: asyncpg.Connection, to: str) -> asyncpg.Record | None:
    """The hotline a call or SMS to ``to`` reached: its carrier number or short number."""
    numbers = [to]
    normalized, ok = phone_or_raw(to)
    if ok and normalized != to:
        numbers.append(normalized)
    return await queries.hotline_for_number(conn, numbers)


@dataclass(frozen=True)
class CallContext:
    call: asyncpg.Record
    hotline: asyncpg.Record | None
    caller: asyncpg.Record | None  # the known citizen (id, area_code), if any


async def _record_call(conn: asyncpg.Connection, form: CallForm, now: dt.datetime) -> CallContext:
    """Create or update the call a voice webhook or status callback is about."""
    hotline = await hotline_for(conn, form.To)
    from_phone, _ = phone_or_raw(form.From)
    caller = await queries.caller_by_phone(conn, from_phone)
    rank = STATUS_RANK.get(form.CallStatus, 0)
    final = rank == FINAL_RANK
    call = await queries.upsert_call(
        conn,
        call_sid=form.CallSid,
        hotline_code=hotline["code"] if hotline else None,
        direction="outbound" if form.Direction.startswith("outbound") else "inbound",
        from_phone=from_phone,
        to_number=form.To,
        citizen_id=caller["id"] if caller else None,
        status=form.CallStatus if rank else "ringing",
        rank=rank,
        ended_at=now if final else None,
        duration_seconds=form.CallDuration if final else None,
    )
    return CallContext(call, hotline, caller)


# Running outages a caller hears before the menu: the whole greeting stays short.
ANNOUNCED_OUTAGES = 3


async def handle_voice(
    conn: asyncpg.Connection, form: CallForm, urls: Urls, now: dt.datetime, tz: ZoneInfo
) -> str:
    """A new call: record it, greet the caller, announce the dialled hotline's running
    outages (those in the caller's known area first, then the newest; at most
    ``ANNOUNCED_OUTAGES``) and offer the menu. A number that is no hotline hears sorry
    and is hung up on."""
    context = await _record_call(conn, form, now)
    if context.hotline is None:
        return voice.unknown_number()
    area = context.caller["area_code"] if context.caller else None
    outages = await outage_queries.running_outages(
        conn,
        now,
        domains=outage_domains(context.hotline["domain"]),
        areas=await area_chain(conn, area),
        limit=ANNOUNCED_OUTAGES,
    )
    return voice.greeting(
        context.hotline["greeting_zh"],
        outages=[voice.OutageNotice(o["title"], o["ends_at"].astimezone(tz)) for o in outages],
        today=now.astimezone(tz).date(),
        menu_url=urls.absolute(Urls.MENU),
    )


async def handle_menu(
    conn: asyncpg.Connection, form: GatherForm, urls: Urls, now: dt.datetime, *, attempt: int
) -> str:
    """The caller pressed ``Digits`` (or nothing): store the choice and queue them.

    A digit not on the menu repeats the menu once; the second time, or no digit at
    all, the caller waits for an agent with no choice."""
    choice = voice.MENU_CHOICES.get(form.Digits)
    if form.Digits and choice is None and attempt == 1:
        return voice.menu_again(urls.menu_retry)
    call = await queries.enqueue_call(conn, form.CallSid, choice=choice or voice.NO_CHOICE, now=now)
    if call is None or call["hotline_code"] is None:
        log.warning("menu choice for unknown call %s", form.CallSid)
        return voice.unknown_number()
    return voice.enqueue(
        call["hotline_code"],
        wait_url=urls.absolute(Urls.WAIT),
        exit_url=urls.absolute(Urls.QUEUE_EXIT),
    )


def hold(form: QueueForm, settings: Settings) -> str:
    """While the caller waits: hold, then leave the queue after ``agent_answer_seconds``."""
    return voice.hold(form.QueueTime, settings.agent_answer_seconds)


async def handle_queue_exit(
    conn: asyncpg.Connection, form: QueueForm, urls: Urls, now: dt.datetime
) -> str:
    """The caller left the queue. Bridged to an agent: nothing more. Otherwise (waited
    too long, queue full, error, hung up) the call stops waiting and, unless the caller
    hung up, they are asked to leave a message. Repeats change nothing more."""
    if form.QueueResult in QUEUE_DONE:
        return voice.empty()
    await queries.leave_queue(conn, form.CallSid, result=form.QueueResult or "unknown", now=now)
    if form.QueueResult == "hangup":
        return voice.empty()
    return voice.leave_message(
        recording_callback_url=urls.absolute(Urls.RECORDING),
        goodbye_url=urls.absolute(Urls.GOODBYE),
    )


async def handle_status(conn: asyncpg.Connection, form: CallForm, now: dt.datetime) -> str:
    """A status callback: the call's status moves forward only (see ``STATUS_RANK``)."""
    if form.CallStatus in STATUS_RANK:
        await _record_call(conn, form, now)
    return voice.empty()


async def handle_recording(conn: asyncpg.Connection, form: RecordingForm, now: dt.datetime) -> str:
    """A finished recorded message, once per RecordingSid: kept on its call, and a draft
    order (channel voice, the recording as its media) linked to the call for an agent to
    confirm. A failed or silent recording ("absent") is kept but makes no draft.

    Unlike the other handlers it keys its own delivery: its answer never depends on the
    work, so the key, the answer and the recording go in one statement (``once`` takes
    one for the key, one for the work and one for the answer)."""
    answer = voice.empty()
    call = await queries.claim_recording(
        conn,
        recording_sid=form.RecordingSid,
        answer=answer,
        call_sid=form.CallSid,
        recording_url=form.RecordingUrl,
        seconds=form.RecordingDuration,
    )
    if call["delivery_id"] is None:
        return await repeated(conn, DeliveryKey("recording", form.RecordingSid))
    if call["id"] is None or call["hotline_code"] is None:
        log.warning("recording %s for unknown call %s", form.RecordingSid, form.CallSid)
        return answer
    if form.RecordingStatus != "completed":
        return answer
    phone, valid = phone_or_raw(call["from_phone"])
    label = CHOICE_LABELS.get(call["menu_choice"] or "")
    topic = f"留言录音（{label}）" if label else "留言录音"
    await do_register_draft(
        conn,
        NewDraft(
            hotline=call["hotline_code"],
            channel="voice",
            # The recording is played from the order (its media), not from a link here.
            description=f"{topic} / voice message",
            caller_phone=phone if valid else None,
            area=call["caller_area"],
            media_url=form.RecordingUrl,
            call_id=call["id"],
        ),
        now,
    )
    return answer


class SmsAnswer(Protocol):
    """Takes an inbound SMS as the answer to something the phone was asked (a running
    satisfaction survey): the reply to send, or None when it answers nothing."""

    async def __call__(
        self,
        conn: asyncpg.Connection,
        *,
        from_phone: str,
        body: str,
        now: dt.datetime,
        settings: Settings,
    ) -> str | None: ...


ANSWER = "sms.answer"
# Who may take an inbound SMS as an answer, under ``ANSWER``: the callbacks' SMS survey,
# subscribed by ``wiring`` (callbacks imports this package, so this package cannot
# import callbacks).
sms_answers: HandlerRegistry[SmsAnswer] = HandlerRegistry()


async def answer_sms(
    conn: asyncpg.Connection, *, from_phone: str, body: str, now: dt.datetime, settings: Settings
) -> str | None:
    """The reply of the first subscriber that takes the SMS as its answer (then no draft
    is made), or None when none does."""
    for answer in sms_answers.handlers_for(ANSWER):
        reply = await answer(conn, from_phone=from_phone, body=body, now=now, settings=settings)
        if reply is not None:
            return reply
    return None


async def handle_sms(
    conn: asyncpg.Connection,
    form: SmsForm,
    now: dt.datetime,
    *,
    limiter: ratelimit.Limiter,
    settings: Settings,
) -> str:
    """An SMS: kept; 退订 or 订阅 (``opt_out.parse``) stops or restarts the notices to the
    phone, with a reply that says so; a progress lookup ("查询", "进度", "查询 <number>":
    ``tracking.parse_lookup``) is answered by an outbound SMS with the status of the
    phone's orders; an answer goes to its subscriber (``sms_answers``); otherwise a draft
    order (channel sms, the text as description) and a reply with its number.

    A number over its rate limit, or an SMS to a number that is no hotline, is kept
    with no draft and no reply; so is a lookup from a number that does not parse (there
    is nobody to answer)."""
    hotline = await hotline_for(conn, form.To)
    phone, valid = phone_or_raw(form.From)
    caller = await queries.caller_by_phone(conn, phone) if valid else None
    order: asyncpg.Record | None = None
    reply: str | None = None
    lookup = tracking.parse_lookup(form.Body)
    stop = opt_out.parse(form.Body)
    if hotline is not None and await _within_rate(limiter, settings, phone):
        if stop is not None:
            # 退订 / 订阅: only from a number that parses (there is nobody else to stop).
            if valid:
                reply = await opt_out.do_answer(
                    conn, phone, stop, message_sid=form.MessageSid, now=now
                )
        elif lookup is not None:
            if valid:
                await tracking.do_answer_sms(
                    conn,
                    lookup,
                    phone=phone,
                    hotline=hotline,
                    message_sid=form.MessageSid,
                    settings=settings,
                    now=now,
                )
        else:
            reply = await answer_sms(
                conn, from_phone=phone, body=form.Body, now=now, settings=settings
            )
        if reply is None and lookup is None and stop is None:
            order = await do_register_draft(
                conn,
                NewDraft(
                    hotline=hotline["code"],
                    channel="sms",
                    description=form.Body or EMPTY_SMS,
                    caller_phone=phone if valid else None,
                    area=caller["area_code"] if caller else None,
                ),
                now,
            )
            reply = SMS_RECEIVED.format(number=order["number"])
    await queries.insert_sms(
        conn,
        message_sid=form.MessageSid,
        direction="inbound",
        from_phone=phone,
        to_number=form.To,
        body=form.Body,
        hotline_code=hotline["code"] if hotline else None,
        citizen_id=order["citizen_id"] if order else (caller["id"] if caller else None),
        order_id=order["id"] if order else None,
    )
    return voice.sms_reply(reply)


async def _within_rate(limiter: ratelimit.Limiter, settings: Settings, phone: str) -> bool:
    """Count this SMS against its number's limit; False once the number is over it (never
    while Redis is away: the limiter lets it through)."""
    try:
        await limiter.hit(
            ratelimit.phone_key("sms", phone),
            limit=settings.public_rate_per_phone,
            window_seconds=settings.public_rate_window_seconds,
        )
    except TooManyRequests:
        log.warning("SMS rate limit reached for a number; message kept, no draft")
        return False
    return True
