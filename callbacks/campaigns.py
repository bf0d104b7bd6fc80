"""Campaigns and scheduling: the standing post-completion campaign, spot checks (抽查)
and proactive surveys (营商环境专席); pause and resume.

Scheduling writes surveys and their first attempts only, set-based, in the caller's
transaction; the relay and ``callbacks.jobs`` do the rest after commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import asyncpg
from pydantic import ConfigDict, Field, model_validator

from callbacks import queries, voice
from callbacks.outcomes import JUST_DONE
from callbacks.policy import CallbackPolicy, waiting_state
from hotline import i18n
from hotline.context import JobContext
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.orders import queries as order_queries
from hotline.orders.service import do_transition
from hotline.phones import normalize_phone
from hotline.reference.cache import reference
from hotline.settings import Settings
from hotline.users.models import Actor
from hotline.vocabulary import RenamedFields, renamed
from integrations.notifications.service import notify_before_callback
from integrations.telephony import opt_out
from integrations.telephony.outbound import queue_sms

DEFAULT_HOTLINE = "12319"  # the city-management line runs the centre's own surveys


async def schedule_order_surveys(
    conn: asyncpg.Connection,
    campaign: asyncpg.Record,
    orders: list[asyncpg.Record],
    policy: CallbackPolicy,
    *,
    first_at: list[dt.datetime],
    about: list[asyncpg.Record] | None = None,
) -> int:
    """A survey of each order's caller in ``campaign``, first attempt at ``first_at``;
    ``about[i]`` is the order whose work ``orders[i]``'s caller is asked about (its round
    and lead unit), by default the order itself."""
    worked = about if about is not None else orders
    return await queries.insert_surveys(
        conn,
        campaign,
        order_ids=[o["id"] for o in orders],
        worked_ids=[o["id"] for o in worked],
        phones=[o["caller_phone"] for o in orders],
        names=[o["caller_name"] for o in orders],
        hotlines=[o["hotline_code"] for o in orders],
        due_ats=first_at,
        state=waiting_state(campaign["channel"], campaign["state"]),
    )


async def schedule_after_completion(
    conn: asyncpg.Connection,
    orders: list[asyncpg.Record],
    policy: CallbackPolicy,
    *,
    about: list[asyncpg.Record] | None = None,
) -> int:
    """Completed orders join the post-completion campaign: first attempt
    ``delay_working_hours`` after completion (of ``about[i]``, by default the order
    itself), inside the calling hours. Orders already scheduled for their round are
    skipped; returns how many surveys were made."""
    campaign = await queries.post_completion_campaign(conn)
    done = about if about is not None else orders
    pairs = [(o, d) for o, d in zip(orders, done, strict=True) if o["caller_phone"]]
    return await schedule_order_surveys(
        conn,
        campaign,
        [o for o, _ in pairs],
        policy,
        first_at=[policy.first_attempt_at(d["completed_at"]) for _, d in pairs],
        about=[d for _, d in pairs],
    )


def merged_callers_to_survey(
    order: asyncpg.Record, merged: list[asyncpg.Record]
) -> list[asyncpg.Record]:
    """Of the orders merged into ``order``, one per phone not already called about it
    (a caller who rang twice is asked once; the order's own caller is asked anyway)."""
    seen = {order["caller_phone"]}
    chosen = []
    for child in merged:
        if child["caller_phone"] and child["caller_phone"] not in seen:
            seen.add(child["caller_phone"])
            chosen.append(child)
    return chosen


async def on_order_completed(
    conn: asyncpg.Connection, payload: dict[str, Any], ctx: JobContext
) -> None:
    """Outbox handler on ``order.completed``: the order's callback, and one for each
    caller merged into it (重复件, an outage's callers), paced like any other; where the
    hotline says so, the merged callers are texted that the fault is fixed (at once, or
    when the calling hours begin); the order's own caller is told ahead of the callback
    when the hotline's notifications say so (``integrations.notifications``). An
    order without a phone cannot be called back; it is closed with that note (its merged
    callers are still called). A repeat does nothing more."""
    order = await order_queries.get_order(conn, payload["order_id"], for_update=True)
    if order is None or order["status"] not in JUST_DONE:
        return
    now = ctx.clock()
    merged = merged_callers_to_survey(order, await order_queries.merged_callers(conn, order["id"]))
    policy = CallbackPolicy.from_settings(ctx.settings, await ctx.calendar.get(conn))
    await schedule_after_completion(
        conn, [order, *merged], policy, about=[order] * (len(merged) + 1)
    )
    await text_fault_fixed(conn, order, merged, at=policy.next_calling_time(now))
    if order["caller_phone"]:
        # The caller is told ahead when the survey's first attempt comes, if the
        # hotline's notifications say so (the same time schedule_after_completion set).
        first_at = policy.first_attempt_at(order["completed_at"])
        await notify_before_callback(conn, ctx, order, callback_at=first_at)
    else:
        data = {"callback": "no phone to call back"}
        await do_transition(conn, order, "close", None, now, changes={"closed_at": now}, data=data)


async def text_fault_fixed(
    conn: asyncpg.Connection,
    order: asyncpg.Record,
    merged: list[asyncpg.Record],
    *,
    at: dt.datetime,
) -> None:
    """The hotline's "fault fixed" SMS (``hotlines.fixed_sms``) to each merged caller,
    once per order and round: they learn it ``at`` the next calling time (now, inside
    the calling hours; a fault fixed at 2 a.m. is texted in the morning), not when their
    callback comes."""
    hotline = await reference.hotline(conn, order["hotline_code"])
    if hotline is None or not hotline["fixed_sms"]:
        return
    stopped = await opt_out.stopped(conn, [child["caller_phone"] for child in merged])
    for child in merged:
        if child["caller_phone"] in stopped:
            continue  # the caller replied 退订
        await queue_sms(
            conn,
            effect_key=f"callback.fixed:{child['id']}:{order['redo_count']}",
            to_phone=child["caller_phone"],
            from_number=hotline["voice_number"] or hotline["number"],
            body=voice.fault_fixed(hotline["number"], str(child["number"])),
            due_at=at,
        )


# ----------------------------------------------------------- supervisor campaigns


class PhoneEntry(RenamedFields):
    """A phone to survey: it becomes a survey with this phone and contact name."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    phone: str = Field(min_length=3, max_length=32)
    name: str = Field(default="", max_length=200, validation_alias=renamed("contact_name", "name"))


class CampaignInput(RenamedFields):
    """A spot check over one week's closed orders, or a proactive survey of phones."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: Literal["spot_check", "proactive"]
    name: str = Field(min_length=1, max_length=200)
    channel: Literal["voice", "sms", "manual"] = "voice"
    hotline: str | None = Field(
        default=None,
        description="proactive: the line that calls",
        validation_alias=renamed("hotline_code", "hotline"),
    )
    week_start: dt.date | None = Field(default=None, description="spot check: a Monday")
    share: float | None = Field(
        default=None, gt=0, le=1, validation_alias=renamed("sample_share", "share")
    )
    phones: list[PhoneEntry] = Field(default_factory=list, max_length=100_000)

    @model_validator(mode="after")
    def _fits_kind(self) -> CampaignInput:
        if self.kind == "spot_check" and (self.week_start is None or self.phones):
            raise ValueError("a spot check names week_start (a Monday) and no phones")
        if self.kind == "spot_check" and self.week_start and self.week_start.weekday() != 0:
            raise ValueError("week_start must be a Monday")
        if self.kind == "proactive" and (not self.phones or self.week_start or self.share):
            raise ValueError("a proactive survey lists phones, without week_start or sample_share")
        return self


async def do_create_campaign(
    conn: asyncpg.Connection,
    actor: Actor,
    body: CampaignInput,
    *,
    settings: Settings,
    policy: CallbackPolicy,
    now: dt.datetime,
) -> tuple[asyncpg.Record, int]:
    """Create the campaign and its surveys, first attempts at the next calling time.
    Returns the campaign and how many surveys it holds."""
    hotline = body.hotline or DEFAULT_HOTLINE
    if await reference.hotline(conn, hotline) is None:
        raise InvalidInput(
            "unknown hotline",
            code="invalid_campaign",
            fields={body.sent_name("hotline"): "unknown"},
        )
    entries = _phones(body.phones) if body.kind == "proactive" else []
    share = body.share or settings.callback_spot_check_share
    campaign = await queries.insert_campaign(
        conn,
        {
            "kind": body.kind,
            "name": body.name,
            "channel": body.channel,
            "hotline_code": hotline,
            "sample_share": share if body.kind == "spot_check" else None,
            "week_start": body.week_start,
            "created_by": actor.user_id,
            "now": now,
        },
    )
    first = policy.next_calling_time(now)
    if body.kind == "spot_check":
        assert body.week_start is not None
        start, end = week_bounds(body.week_start, policy)
        orders = await spot_check_sample(conn, start, end, share)
        made = await schedule_order_surveys(
            conn, campaign, orders, policy, first_at=[first] * len(orders)
        )
    else:
        made = await queries.insert_surveys(
            conn,
            campaign,
            order_ids=[None] * len(entries),
            phones=[phone for phone, _ in entries],
            names=[name for _, name in entries],
            hotlines=[hotline] * len(entries),
            due_ats=[first] * len(entries),
            state=waiting_state(campaign["channel"], campaign["state"]),
        )
    return campaign, made


def _phones(entries: list[PhoneEntry]) -> list[tuple[str, str]]:
    """E.164 phones, each once; 422 naming every number that does not parse."""
    seen: dict[str, str] = {}
    bad: dict[str, str | i18n.Text] = {}
    for i, entry in enumerate(entries):
        try:
            seen.setdefault(normalize_phone(entry.phone), entry.name)
        except InvalidInput as exc:
            bad[f"phones.{i}.phone"] = exc.fields["phone"]
    if bad:
        raise InvalidInput("some phone numbers are not valid", code="invalid_campaign", fields=bad)
    return list(seen.items())


def week_bounds(monday: dt.date, policy: CallbackPolicy) -> tuple[dt.datetime, dt.datetime]:
    """The local week starting on ``monday``, as UTC instants [start, end)."""
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=policy.calendar.tz)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=7)).astimezone(dt.UTC)


async def spot_check_sample(
    conn: asyncpg.Connection, start: dt.datetime, end: dt.datetime, share: float
) -> list[asyncpg.Record]:
    """A random ``share`` of each lead unit's orders closed in [start, end) with a phone:
    ceil(share × n) of a unit's n orders, so every unit with closed orders is sampled."""
    return await queries.closed_orders_sample(conn, start, end, share)


# --------------------------------------------------------------- pause, resume


async def do_set_campaign_state(
    conn: asyncpg.Connection,
    campaign_id: int,
    state: Literal["active", "paused"],
    *,
    policy: CallbackPolicy,
    now: dt.datetime,
) -> asyncpg.Record:
    """Pause: waiting attempts are held. Resume: they wait again, none earlier than the
    next calling time (a call due while paused is not placed in a rush at 20:00)."""
    campaign = await queries.get_campaign(conn, campaign_id, for_update=True)
    if campaign is None:
        raise NotFound("campaign {campaign_id} not found", campaign_id=campaign_id)
    if campaign["state"] == state:
        raise Conflict(
            "the campaign is already {state}", code="campaign_state", state=i18n.Term(state)
        )
    if state == "paused":
        await queries.hold_attempts(conn, campaign_id)
    else:
        held = await queries.held_attempts(conn, campaign_id)
        earliest = policy.next_calling_time(now)
        await queries.release_held(
            conn, [a["id"] for a in held], [max(a["due_at"], earliest) for a in held]
        )
    return await queries.set_campaign_state(conn, campaign_id, state, now)
