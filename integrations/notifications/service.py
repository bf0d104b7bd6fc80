"""Status notifications: an SMS to the caller when the order is dispatched, when it is
completed and before the callback, as the hotline's setting says.

Every notice is decided inside the transaction of the effect that causes it (an outbox
handler, or the callbacks' scheduling): one ``order_notifications`` row per effect key
(a repeated delivery finds it and does nothing), the per-order count raised in the
database, the message queued in the outbound queue (``queue_sms``: the relay and the
telephony provider send it after commit, at its due time) and an event in the order's
history. Quiet hours move a message to their end; they never drop it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import phonenumbers

from hotline.context import JobContext
from hotline.errors import InvalidInput
from hotline.orders.lifecycle import ORDER_COMPLETED
from hotline.orders.service import record_event
from hotline.outbox.handlers import topics
from hotline.phones import mask_phone
from hotline.reference.cache import reference
from hotline.users.models import Actor
from integrations.notifications import queries
from integrations.notifications.settings import Kind, NotificationConfig, allowed_at, config_of
from integrations.telephony import jobs as outbound_jobs
from integrations.telephony import opt_out
from integrations.telephony.outbound import queue_sms

DISPATCH_CREATED = "dispatch.created"
# The outbound effect keys of notices start with this (``notify:{kind}:{subject}``);
# the outbound job tells ``on_outbound_outcome`` how each went.
KEY_PREFIX = "notify"
CHANNELS = ("default", "voice", "sms", "web", "wechat", "open311", "enterprise", "agent", "12345")


def effect_key(kind: Kind, subject: str) -> str:
    return f"{KEY_PREFIX}:{kind}:{subject}"


def is_mobile(phone: str | None) -> bool:
    """Whether ``phone`` (E.164) is a number that takes SMS: a mobile."""
    if not phone or not phone.startswith("+"):
        return False
    try:
        number = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return False
    kinds = phonenumbers.PhoneNumberType
    return phonenumbers.number_type(number) in (kinds.MOBILE, kinds.FIXED_LINE_OR_MOBILE)


def local_time_words(moment: dt.datetime, tz: ZoneInfo) -> str:
    """A time as a text says it: ``12月7日11:00``."""
    local = moment.astimezone(tz)
    return f"{local.month}月{local.day}日{local.hour}:{local.minute:02d}"


async def notify(
    conn: asyncpg.Connection,
    ctx: JobContext,
    *,
    order_id: int,
    kind: Kind,
    subject: str,
    unit: str | None = None,
    at: dt.datetime | None = None,
    before: dt.datetime | None = None,
) -> str | None:
    """Decide the notice ``kind`` of the order, once per ``subject`` (the effect it is
    about: a dispatch, a round), naming ``unit`` (default the order's lead unit).
    Returns its outcome (queued, deferred, skipped), or None when the setting sends no
    such notice or it was decided before.

    It goes at ``at`` (default now), or when the quiet hours end; a notice that could
    then only go after ``before`` (the callback it announces) is skipped. Precondition:
    inside the transaction of the effect that causes it."""
    order = await queries.order_facts(conn, order_id)
    if order is None:
        raise LookupError(f"order {order_id} does not exist")
    config = config_of(await queries.setting_for(conn, order["hotline_code"], order["channel"]))
    if not (config.enabled and getattr(config, kind)):
        return None
    now = ctx.clock()
    key = effect_key(kind, subject)
    notice_id = await queries.claim_notice(
        conn, effect_key=key, order_id=order_id, kind=kind, now=now
    )
    if notice_id is None:
        return None
    tz = ZoneInfo(ctx.settings.timezone)
    due = allowed_at(config, max(at or now, now), tz)
    why = _refusal(order, due=due, before=before)
    if why is None and not await opt_out.may_text(conn, order["caller_phone"]):
        why = "opted_out"  # the caller replied 退订
    if why is None and not await queries.count_message(conn, order_id, config.max_per_order):
        why = "cap"
    data: dict[str, Any] = {"notice": kind}
    if why is not None:
        await queries.settle_notice(conn, notice_id, state="skipped", reason=why)
        await record_event(conn, order_id, "notify.skipped", None, now, data={**data, "why": why})
        return "skipped"
    body = config.render(
        kind,
        number=order["number"],
        unit=unit or order["unit_name"] or order["hotline_name"],
        hotline=order["hotline_number"],
        link=config.link(order["number"]),
        time=local_time_words(before or due, tz),
    )
    await queue_sms(
        conn,
        effect_key=key,
        to_phone=order["caller_phone"],
        from_number=order["voice_number"] or order["hotline_number"],
        body=body,
        due_at=due,
    )
    await queries.settle_notice(conn, notice_id, state="queued", due_at=due)
    outcome = "deferred" if due > now else "queued"
    data.update(to=mask_phone(order["caller_phone"]), body=body, send_at=due.isoformat())
    await record_event(conn, order_id, f"notify.{outcome}", None, now, data=data)
    return outcome


def _refusal(order: asyncpg.Record, *, due: dt.datetime, before: dt.datetime | None) -> str | None:
    """Why the notice cannot go, or None."""
    if not is_mobile(order["caller_phone"]):
        return "no_mobile"
    if before is not None and due >= before:
        return "quiet_until_callback"
    return None


# ------------------------------------------------------------------ the triggers


async def on_dispatch_created(
    conn: asyncpg.Connection, payload: dict[str, Any], ctx: JobContext
) -> None:
    """Outbox handler for ``dispatch.created``: the caller learns which unit handles the
    order (the lead dispatch only; an assisting unit is the lead's business)."""
    dispatch_id = int(payload["dispatch_id"])
    dispatch = await queries.dispatch_unit(conn, dispatch_id)
    if dispatch is None:
        raise LookupError(f"dispatch {dispatch_id} does not exist")
    if dispatch["role"] != "lead":
        return
    await notify(
        conn,
        ctx,
        order_id=dispatch["order_id"],
        kind="dispatched",
        subject=str(dispatch_id),
        unit=dispatch["unit_name"],
    )


async def on_order_completed(
    conn: asyncpg.Connection, payload: dict[str, Any], ctx: JobContext
) -> None:
    """Outbox handler for ``order.completed``: a unit's completion, once per round. An
    order resolved on the call (no dispatch) is not texted: the caller heard it."""
    if payload.get("dispatch_id") is None:
        return
    await notify(
        conn,
        ctx,
        order_id=int(payload["order_id"]),
        kind="completed",
        subject=f"{payload['order_id']}:{payload['redo_count']}",
    )


async def notify_before_callback(
    conn: asyncpg.Connection,
    ctx: JobContext,
    order: asyncpg.Record,
    *,
    callback_at: dt.datetime,
) -> str | None:
    """The notice before the order's callback of this round, due at ``callback_at``:
    it goes the setting's ``callback_notice_minutes`` ahead (not before now), out of
    the quiet hours; skipped if it could only go after the callback. The callbacks'
    scheduling calls it in its own transaction."""
    config = config_of(await queries.setting_for(conn, order["hotline_code"], order["channel"]))
    return await notify(
        conn,
        ctx,
        order_id=order["id"],
        kind="before_callback",
        subject=f"{order['id']}:{order['redo_count']}",
        at=callback_at - dt.timedelta(minutes=config.callback_notice_minutes),
        before=callback_at,
    )


async def on_outbound_outcome(
    conn: asyncpg.Connection, effect_key: str, state: str, now: dt.datetime
) -> None:
    """The outbound job sent a notice (``sent``) or gave up on it (``failed``): the
    order's history says so. Inside the transaction that records the message's state."""
    notice = await queries.mark_outcome(conn, effect_key, state)
    if notice is not None:
        await record_event(
            conn, notice["order_id"], f"notify.{state}", None, now, data={"notice": notice["kind"]}
        )


def subscribe() -> None:
    """Hang the triggers on their outbox topics and the outcome on the outbound job
    (idempotent). The notice before the callback is asked for by the callbacks."""
    topics.subscribe(DISPATCH_CREATED, on_dispatch_created)
    topics.subscribe(ORDER_COMPLETED, on_order_completed)
    outbound_jobs.outcomes.subscribe(KEY_PREFIX, on_outbound_outcome)


# ------------------------------------------------------------------ administration


async def check_target(conn: asyncpg.Connection, hotline_code: str, channel: str) -> None:
    if await reference.hotline(conn, hotline_code) is None:
        raise InvalidInput(
            "no hotline {hotline}",
            code="unknown_hotline",
            fields={"hotline": "no such hotline"},
            hotline=hotline_code,
        )
    if channel not in CHANNELS:
        allowed = ", ".join(CHANNELS)
        raise InvalidInput(
            "no channel {channel} (one of: {allowed})",
            code="unknown_channel",
            fields={"channel": "no such channel"},
            channel=channel,
            allowed=allowed,
        )


async def do_set(
    conn: asyncpg.Connection,
    actor: Actor,
    hotline_code: str,
    channel: str,
    config: NotificationConfig | None,
    now: dt.datetime,
) -> None:
    """Store (``config``) or remove (None) the setting of a hotline and channel, and
    record the change with who made it. Without a stored default a hotline has the
    built-in one (off)."""
    await check_target(conn, hotline_code, channel)
    old = await queries.lock_setting(conn, hotline_code, channel)
    new = config.stored() if config is not None else None
    if old == new:
        return
    user_id, label = actor.user_id, actor.label()
    if new is None:
        await queries.delete_setting(conn, hotline_code, channel)
    else:
        await queries.upsert_setting(
            conn, hotline_code, channel, new, user_id=user_id, actor=label, now=now
        )
    await queries.insert_change(
        conn, hotline_code, channel, old=old, new=new, user_id=user_id, actor=label, now=now
    )
