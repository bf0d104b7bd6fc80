"""Callbacks (回访): scheduling inside calling hours, the voice and SMS surveys through
Twilio's real client and a fake Twilio REST API, the closed loop of ratings, retries and
unreachable, manual callbacks, spot checks, pacing, appeals and figures.

Jobs run in the real ``hotline worker --burst`` fed by the real relay (``settle``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from redis import Redis
from rq import Queue

from callbacks import queries as callback_queries
from callbacks import voice
from callbacks.answers import survey_call_ended
from callbacks.campaigns import CampaignInput, PhoneEntry, do_create_campaign
from callbacks.jobs import callback_source, process_attempt
from callbacks.pacing import GUARD, Pacer
from callbacks.policy import CallbackPolicy
from hotline import db
from hotline.context import JobContext, utcnow
from hotline.migrate import migrate
from hotline.orders import queries as order_queries
from hotline.reference import queries as ref
from hotline.reference.calendar import load_calendar
from hotline.relay import Relay
from hotline.settings import Settings
from hotline.workcal import WorkingCalendar
from routing import queries as routing_queries
from testkit.local_server import free_port
from testkit.twilio import FakeTwilioRest, sid
from tests.callback_support import (
    TwilioSide,
    attempt_of,
    completed_order,
    order_row,
    sign_and_complete,
    twilio_side,
)
from tests.factories import Clock, make_user, order_in_status
from tests.process_support import migrations_before, seed_old_schema, with_todays_order_columns
from tests.routing_support import Desk, open_desks, run_worker, settle
from tests.waiting import backend_waits, until

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def mobile() -> str:
    return f"+86139{random.randrange(10**8):08d}"


def policy(**changes: object) -> CallbackPolicy:
    settings = Settings().model_copy(update=changes)
    calendar = WorkingCalendar(periods=settings.working_periods, tz=SHANGHAI)
    return CallbackPolicy.from_settings(settings, calendar)


# ---------------------------------------------------------------- calling hours


def test_completion_at_1950_on_the_friday_before_a_holiday_is_called_after_it() -> None:
    # 2026-04-03 is a Friday; 清明 keeps 4–6 April off. Two working hours after 19:50
    # run from 09:00 on Tuesday 7 April.
    assert policy().first_attempt_at(local(2026, 4, 3, 19, 50)) == local(2026, 4, 7, 11, 0)


def test_a_quiet_day_is_skipped_to_the_next_calling_morning() -> None:
    quiet = policy(callback_quiet_days="2026-04-07")
    assert quiet.first_attempt_at(local(2026, 4, 3, 19, 50)) == local(2026, 4, 8, 9, 0)


def test_retries_are_spaced_by_policy_and_kept_inside_calling_hours() -> None:
    rules = policy()
    assert rules.retry_at(1, local(2026, 4, 7, 11, 0)) == local(2026, 4, 7, 13, 0)
    # 19:00 + 2 h is 21:00, after the calling hours: the next allowed morning.
    assert rules.retry_at(1, local(2026, 4, 7, 19, 0)) == local(2026, 4, 8, 9, 0)
    # Attempt 3 one day after attempt 2 failed, on a Friday: Saturday is no calling day.
    assert rules.retry_at(2, local(2026, 4, 10, 10, 0)) == local(2026, 4, 13, 9, 0)
    assert rules.retry_at(3, local(2026, 4, 7, 11, 0)) is None


def test_a_call_hours_late_is_checked_against_the_calling_hours_again() -> None:
    rules = policy()
    due = local(2026, 4, 7, 19, 0)
    assert not rules.too_late(due, local(2026, 4, 7, 19, 20))
    assert rules.too_late(due, local(2026, 4, 7, 21, 0))
    assert not policy(callback_max_lateness_minutes=0).too_late(due, local(2026, 4, 7, 21, 0))


# ----------------------------------------------------------------- SMS answers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", (5, "")),
        ("１", (1, "")),
        ("４ 师傅很耐心", (4, "师傅很耐心")),
        ("非常不满意，水还是没来", (1, "水还是没来")),
        ("不满意", (2, "")),
        ("基本满意。", (3, "")),
        ("满意", (4, "")),
        ("非常满意！", (5, "")),
        ("6", None),
        ("12", None),
        ("我家又停水了", None),
    ],
)
def test_sms_ratings_read_digits_full_width_digits_and_level_names(
    text: str, expected: tuple[int, str] | None
) -> None:
    assert voice.read_rating(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", True), ("２", False), ("已解决", True), ("未解决，还在漏", False), ("否", False)],
)
def test_sms_solved_answers(text: str, expected: bool) -> None:
    assert voice.read_solved(text) is expected


# ----------------------------------------------------------------------- pacing


def test_the_pacer_never_gives_one_second_more_than_its_calls() -> None:
    pacer = Pacer("test", calls_per_second=7, max_concurrent=100)
    start = dt.datetime(2026, 4, 7, 3, 0, tzinfo=dt.UTC)
    second, used, now = start, 0, start
    slots = []
    for _ in range(100):  # 100 workers asking at the same instant
        second, used, slot = pacer.next_slot(second, used, now)
        slots.append(slot)
    per_second: dict[dt.datetime, int] = {}
    for slot in slots:
        # Computed slots, not clock readings: each lies in its second's usable part.
        assert slot.microsecond < (1 - GUARD) * 1_000_000
        key = slot.replace(microsecond=0)
        per_second[key] = per_second.get(key, 0) + 1
    assert max(per_second.values()) == 7 and sum(per_second.values()) == 100
    assert slots == sorted(slots)


# -------------------------------------------------------- end to end: voice


@pytest.fixture
def fake_rest(fake_twilio: FakeTwilioRest, monkeypatch: pytest.MonkeyPatch) -> FakeTwilioRest:
    # The rows here fall due in 2026's spring; the test may run on any day and hour.
    monkeypatch.setenv("HOTLINE_CALLBACK_MAX_LATENESS_MINUTES", "0")
    return fake_twilio


@pytest.fixture
async def twilio(
    settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TwilioSide]:
    port = free_port()
    monkeypatch.setenv("HOTLINE_PUBLIC_URL", f"http://127.0.0.1:{port}")
    async for side in twilio_side(settings, port, clock):
        yield side


@pytest.fixture
async def desks(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[dict[str, Desk]]:
    async with open_desks(server, pool, "agent", "supervisor", "water") as opened:
        yield opened


async def attempts(pool: asyncpg.Pool, order_id: int) -> list[asyncpg.Record]:
    return await pool.fetch(  # type: ignore[no-any-return]
        """
        SELECT a.* FROM callback_attempts a JOIN callback_surveys s ON s.id = a.survey_id
         WHERE s.order_id = $1 ORDER BY a.id
        """,
        order_id,
    )


async def test_voice_survey_closes_the_loop_bad_rating_redo_then_good_rating(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    clock: Clock,
    fake_rest: FakeTwilioRest,
    twilio: TwilioSide,
) -> None:
    phone = mobile()

    async def run() -> None:
        await settle(pool, settings)

    # Completed at 19:50 on the Friday before 清明.
    clock.set(local(2026, 4, 3, 19, 50))
    order_id, first_dispatch = await completed_order(desks, "370281001", phone, settle=run)
    await run()

    (first,) = await attempts(pool, order_id)
    assert first["due_at"] == local(2026, 4, 7, 11, 0)
    assert first["state"] == "placed" and first["effect_key"].endswith(":1")
    (call,) = fake_rest.calls_to(phone)
    assert attempt_of(call) == first["id"] and call["MachineDetection"] == "Enable"
    assert call["StatusCallback"].startswith(twilio.base + "/twilio/callbacks/status")
    assert (await order_row(pool, order_id))["status"] == "callback"

    # Not solved, 非常不满意: reopened; routing sends it back to the same unit once the
    # reopen is announced (the outbox), flagged, redo count 1.
    await twilio.answer(call, "2", "1")
    await twilio.status(call, "completed")
    assert (await order_row(pool, order_id))["status"] == "reopened"
    await run()
    order = await desks["agent"].get(f"/api/v1/orders/{order_id}")
    assert order["status"] == "dispatched" and order["redo_count"] == 1
    redo = order["dispatches"][-1]
    assert redo["id"] != first_dispatch and redo["enterprise_id"] == order["lead_enterprise_id"]
    redispatched = [e for e in order["events"] if e["type"] == "order.dispatch"][-1]
    assert redispatched["data"]["reason"].startswith("回访不满意")
    reopened = [e for e in order["events"] if e["type"] == "order.reopen"][-1]
    assert reopened["data"]["survey_id"] == first["survey_id"]
    rated = await pool.fetchrow(
        "SELECT * FROM dispatch_ratings WHERE dispatch_id = $1", first_dispatch
    )
    assert (rated["rating"], rated["solved"], rated["callback_outcome"]) == (1, False, "bad")
    (done,) = await attempts(pool, order_id)
    assert done["state"] == "done" and done["outcome"] == "answered"
    # The agent who registered it owns it (首问负责制) and sees how it went.
    assert await my_order_outcome(desks["agent"], order_id) == ("dispatched", 1, 1, "reopened")

    # The redo is completed; the second callback is solved and 非常满意: closed.
    clock.set(local(2026, 4, 8, 10, 0))
    second_dispatch = await sign_and_complete(desks["water"], order_id)
    await run()
    second = (await attempts(pool, order_id))[-1]
    assert second["due_at"] == local(2026, 4, 8, 12, 0)
    (_, call) = fake_rest.calls_to(phone)
    twiml = await twilio.answer(call, "1", "5")
    assert "Record" in twiml  # the optional spoken comment
    await twilio.status(call, "completed")
    closed = await order_row(pool, order_id)
    assert closed["status"] == "closed" and closed["callback_rating"] == 5
    good = await pool.fetchrow(
        "SELECT * FROM dispatch_ratings WHERE dispatch_id = $1", second_dispatch
    )
    assert (good["rating"], good["solved"], good["callback_outcome"]) == (5, True, "good")
    assert len(fake_rest.calls_to(phone)) == 2  # each attempt placed exactly once

    surveys = await desks["agent"].get(f"/api/v1/orders/{order_id}/callbacks")
    assert [(s["round"], s["rating"], s["outcome"]) for s in surveys["items"]] == [
        (0, 1, "reopened"),
        (1, 5, "closed"),
    ]
    assert await my_order_outcome(desks["agent"], order_id) == ("closed", 1, 5, "closed")


async def my_order_outcome(agent: Desk, order_id: int) -> tuple[str, int, int, str]:
    """Status, redo count, and the last callback's rating and outcome in "my orders"."""
    (mine,) = [
        o for o in (await agent.get("/api/v1/agents/me/orders"))["items"] if o["id"] == order_id
    ]
    return mine["status"], mine["redo_count"], mine["answer"]["rating"], mine["answer"]["outcome"]


async def test_an_order_resolved_on_the_call_is_called_back_and_a_bad_answer_goes_to_the_centre(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    clock: Clock,
    fake_rest: FakeTwilioRest,
    twilio: TwilioSide,
) -> None:
    phone = mobile()
    clock.set(local(2026, 4, 8, 9, 30))  # a Wednesday
    order = await desks["agent"].post(
        "/api/v1/orders/resolved-on-call",
        {
            "hotline": "96111",
            "service_item": "W01",
            "area": "370281001",
            "description": "咨询水表读数",
            "caller_phone": phone,
            "reply": "已解释读数方法",
            "client_request_id": f"on-call-{phone}",
        },
        status=201,
    )
    await settle(pool, settings)

    (attempt,) = await attempts(pool, order["id"])
    assert attempt["due_at"] == local(2026, 4, 8, 11, 30) and attempt["state"] == "placed"
    (call,) = fake_rest.calls_to(phone)
    assert (await order_row(pool, order["id"]))["status"] == "callback"

    # No unit worked on it, so nobody to send it back to: the centre coordinates.
    await twilio.answer(call, "2", "2")
    await twilio.status(call, "completed")
    await settle(pool, settings)
    row = await order_row(pool, order["id"])
    assert (row["status"], row["redo_count"], row["callback_rating"]) == ("escalated", 1, 2)
    types = [
        e["type"] for e in (await desks["agent"].get(f"/api/v1/orders/{order['id']}"))["events"]
    ]
    assert types[-3:] == ["callback.answered", "order.reopen", "order.escalate"]


async def test_no_answer_busy_and_a_machine_are_retried_then_unreachable_and_counted(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    clock: Clock,
    fake_rest: FakeTwilioRest,
    twilio: TwilioSide,
) -> None:
    phone = mobile()

    async def run() -> None:
        await settle(pool, settings)

    clock.set(local(2026, 4, 7, 16, 0))
    order_id, dispatch_id = await completed_order(desks, "370281002", phone, settle=run)
    await run()
    clock.set(local(2026, 4, 8, 19, 0))  # the first call is not answered at 19:00
    await twilio.status(fake_rest.calls_to(phone)[0], "no-answer")
    second = (await attempts(pool, order_id))[-1]
    assert second["number"] == 2 and second["due_at"] == local(2026, 4, 9, 9, 0)
    await run()
    await twilio.status(fake_rest.calls_to(phone)[1], "busy")
    third = (await attempts(pool, order_id))[-1]
    assert third["number"] == 3 and third["due_at"] == local(2026, 4, 9, 19, 0)
    await run()
    call = fake_rest.calls_to(phone)[2]
    assert "Hangup" in await twilio.answer(call, answered_by="machine_start")
    await twilio.status(call, "completed", answered_by="machine_start")

    assert [(a["number"], a["outcome"]) for a in await attempts(pool, order_id)] == [
        (1, "no-answer"),
        (2, "busy"),
        (3, "machine"),
    ]
    assert len(fake_rest.calls_to(phone)) == 3
    assert (await order_row(pool, order_id))["status"] == "closed"
    assert (
        await pool.fetchval(
            "SELECT callback_outcome FROM dispatch_ratings WHERE dispatch_id = $1", dispatch_id
        )
        == "unreachable"
    )
    survey = (await desks["agent"].get(f"/api/v1/orders/{order_id}/callbacks"))["items"][0]
    assert survey["state"] == "unreachable"


async def test_a_spot_check_by_sms_reads_full_width_and_words_and_reopens_the_order(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    clock: Clock,
    fake_rest: FakeTwilioRest,
    twilio: TwilioSide,
) -> None:
    phone = mobile()

    async def run() -> None:
        await settle(pool, settings)

    # Completed and closed on a good voice callback in the week of 11 May 2026.
    clock.set(local(2026, 5, 12, 10, 0))
    order_id, _ = await completed_order(desks, "370281003", phone, settle=run)
    await run()
    await twilio.answer(fake_rest.calls_to(phone)[0], "1", "4")
    assert (await order_row(pool, order_id))["status"] == "closed"

    clock.set(local(2026, 5, 18, 10, 0))
    campaign = await desks["supervisor"].post(
        "/api/v1/callback-campaigns",
        {
            "kind": "spot_check",
            "name": "5月第2周抽查",
            "channel": "sms",
            "week_start": "2026-05-11",
            "share": 1,
        },
        status=201,
    )
    assert campaign["counts"]["surveys"] >= 1
    await run()
    (question,) = [m for m in fake_rest.messages if m["To"] == phone]
    assert "已解决请回复1" in question["Body"]

    reply = await sms(twilio, phone, "２")
    assert "5非常满意" in reply
    reply = await sms(twilio, phone, "不满意，水表还是走得快")
    assert "重新办理" in reply
    await run()
    order = await desks["agent"].get(f"/api/v1/orders/{order_id}")
    assert order["status"] == "dispatched" and order["redo_count"] == 1
    spot = [s for s in (await desks["agent"].get(f"/api/v1/orders/{order_id}/callbacks"))["items"]]
    assert spot[-1]["campaign_kind"] == "spot_check"
    assert (spot[-1]["solved"], spot[-1]["rating"], spot[-1]["comment"]) == (
        False,
        2,
        "水表还是走得快",
    )
    # An ordinary SMS afterwards is a new report again.
    assert "工单号" in await sms(twilio, phone, "我家门口井盖坏了")


async def sms(twilio: TwilioSide, phone: str, body: str) -> str:
    return await twilio.post(
        twilio.base + "/twilio/sms",
        {"MessageSid": sid("SM"), "From": phone, "To": "96111", "Body": body},
    )


async def test_agents_work_the_manual_queue_and_a_miss_is_retried(
    desks: dict[str, Desk], pool: asyncpg.Pool, clock: Clock
) -> None:
    reached, missed = mobile(), mobile()
    clock.set(local(2026, 6, 1, 10, 0))
    campaign = await desks["supervisor"].post(
        "/api/v1/callback-campaigns",
        {
            "kind": "proactive",
            "name": "营商环境专席 6月",
            "channel": "manual",
            "phones": [{"phone": reached, "name": "某公司"}, {"phone": missed}, {"phone": missed}],
        },
        status=201,
    )
    assert campaign["counts"]["surveys"] == 2
    queue = (await desks["agent"].get("/api/v1/callbacks/manual", limit="500"))["items"]
    mine = {item["phone"]: item for item in queue if item["campaign_name"] == "营商环境专席 6月"}
    assert set(mine) == {reached, missed}

    answered = await desks["agent"].post(
        f"/api/v1/callbacks/manual/{mine[reached]['id']}/answer",
        {"rating": 2, "comment": "审批太慢"},
    )
    assert answered["outcome"] == "recorded"
    await desks["agent"].post(
        f"/api/v1/callbacks/manual/{mine[reached]['id']}/answer", {"rating": 5}, status=409
    )
    await desks["agent"].post(
        f"/api/v1/callbacks/manual/{mine[missed]['id']}/answer",
        {"reached": False, "outcome": "no-answer"},
    )
    counts = await desks["agent"].get(f"/api/v1/callback-campaigns/{campaign['id']}")
    assert counts["counts"]["answered"] == 1 and counts["counts"]["bad"] == 1
    retry = await pool.fetchrow(
        """
        SELECT a.* FROM callback_attempts a JOIN callback_surveys s ON s.id = a.survey_id
         WHERE s.campaign_id = $1 AND s.phone = $2 AND a.number = 2
        """,
        campaign["id"],
        missed,
    )
    assert retry["state"] == "manual" and retry["due_at"] == local(2026, 6, 1, 12, 0)


# ------------------------------------------------------------ pacing, failures


async def proactive_campaign(
    pool: asyncpg.Pool, phones: list[str], now: dt.datetime, channel: str = "voice"
) -> int:
    """A proactive campaign made at ``now`` (its first attempts fall due then)."""
    settings = Settings()
    async with pool.acquire() as conn, conn.transaction():
        _, supervisor = await make_user(conn, "supervisor")
        rules = CallbackPolicy.from_settings(settings, await load_calendar(conn, settings))
        campaign, made = await do_create_campaign(
            conn,
            supervisor,
            CampaignInput(
                kind="proactive",
                name=f"营商环境专席 {uuid.uuid4().hex[:6]}",
                channel=channel,  # type: ignore[arg-type]
                phones=[PhoneEntry(phone=p) for p in phones],
            ),
            settings=settings,
            policy=rules,
            now=now,
        )
    assert made == len(phones)
    return int(campaign["id"])


async def test_a_thousand_calls_due_at_once_never_exceed_the_cap_in_any_second(
    pool: asyncpg.Pool,
    settings: Settings,
    redis_conn: Redis,
    fake_rest: FakeTwilioRest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cap = 40
    # An account of its own: its thousand calls never end, and must not hold the lines
    # of the other tests' account.
    monkeypatch.setenv("HOTLINE_TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
    monkeypatch.setenv("HOTLINE_CALLBACK_CALLS_PER_SECOND", str(cap))
    monkeypatch.setenv("HOTLINE_CALLBACK_MAX_CONCURRENT_CALLS", "5000")
    monkeypatch.setenv("HOTLINE_PUBLIC_URL", "http://127.0.0.1:9")  # Twilio never calls back
    # The workers run on the wall clock, long after the campaign's due time: without this
    # every attempt is checked against the calling hours again, and a run at night or on
    # a rest day defers them all instead of placing them.
    monkeypatch.setenv("HOTLINE_CALLBACK_MAX_LATENESS_MINUTES", "0")
    phones = [f"+8613{i:09d}" for i in random.sample(range(10**9), 1000)]
    await proactive_campaign(pool, phones, local(2026, 4, 7, 10, 0))

    relay = Relay(
        pool,
        Queue(settings.queue_name, connection=redis_conn),
        sources=(callback_source,),
        lease_seconds=600,
    )
    while (await relay.run_once())["callback"]:
        pass
    await asyncio.gather(*(run_worker() for _ in range(3)))

    calls = [c for c in fake_rest.calls if c["To"] in set(phones)]
    # When calls are missing, the attempts' rows say why (state, outcome, last error).
    left = await pool.fetch(
        """
        SELECT a.state, a.outcome, a.last_error, count(*) FROM callback_attempts a
          JOIN callback_surveys s ON s.id = a.survey_id
         WHERE s.phone = ANY($1) AND a.state <> 'placed' GROUP BY 1, 2, 3
        """,
        phones,
    )
    assert sorted(c["To"] for c in calls) == sorted(phones), [tuple(r) for r in left]
    per_second = Counter(int(c["received"]) for c in calls)
    assert max(per_second.values()) <= cap, per_second


class CountingProvider:
    """A provider that places nothing and counts what it was asked."""

    name = "counting"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def send_sms(self, to: str, from_: str, body: str, effect_key: str) -> str:
        raise AssertionError("no SMS here")

    def place_call(
        self, to: str, from_: str, twiml_url: str, effect_key: str, *, status_url: str | None = None
    ) -> str:
        self.calls.append(effect_key)
        return sid("CA")


async def campaign_attempts(pool: asyncpg.Pool, campaign_id: int) -> list[asyncpg.Record]:
    return await pool.fetch(  # type: ignore[no-any-return]
        """
        SELECT a.* FROM callback_attempts a JOIN callback_surveys s ON s.id = a.survey_id
         WHERE s.campaign_id = $1 ORDER BY a.id
        """,
        campaign_id,
    )


async def test_a_worker_that_dies_mid_attempt_never_places_it_twice(
    pool: asyncpg.Pool, settings: Settings, clock: Clock
) -> None:
    campaign_id = await proactive_campaign(pool, [mobile()], local(2026, 4, 7, 10, 0))
    (attempt,) = await campaign_attempts(pool, campaign_id)
    provider = CountingProvider()
    rules = settings.model_copy(update={"callback_max_lateness_minutes": 0})
    async with pool.acquire() as conn:
        # The dead worker committed that it was placing the call, then vanished.
        await callback_queries.start_placing(
            conn, attempt["id"], "counting", local(2026, 4, 7, 10, 0)
        )
        clock.set(local(2026, 4, 7, 10, 1))
        ctx = JobContext(rules, clock=clock, telephony=lambda _: provider)
        assert await process_attempt(conn, attempt["id"], ctx) == "waiting"
        assert provider.calls == []
        # No status callback came within the placing timeout: a failed attempt, then
        # the next one (a new effect key) by policy.
        later = local(2026, 4, 7, 10, 0) + dt.timedelta(
            seconds=rules.callback_placing_timeout_seconds + 1
        )
        clock.set(later)
        assert await process_attempt(conn, attempt["id"], ctx) == "lost"
        assert provider.calls == []
    first, second = await campaign_attempts(pool, campaign_id)
    assert (first["state"], first["outcome"]) == ("done", "lost")
    assert second["number"] == 2 and second["effect_key"] != first["effect_key"]


async def test_no_more_calls_at_once_than_the_account_allows(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    campaign_id = await proactive_campaign(
        pool, [mobile() for _ in range(3)], local(2026, 4, 7, 10, 0)
    )
    provider = CountingProvider()
    limits = settings.model_copy(
        update={
            "callback_max_lateness_minutes": 0,
            "callback_max_concurrent_calls": 2,
            "callback_calls_per_second": 1000,
        }
    )
    async with pool.acquire() as conn:
        ctx = JobContext(limits, clock=utcnow, telephony=lambda _: provider)
        results = [
            await process_attempt(conn, a["id"], ctx)
            for a in await campaign_attempts(pool, campaign_id)
        ]
        assert results == ["placed", "placed", "deferred"]
        assert len(provider.calls) == 2
        first = (await campaign_attempts(pool, campaign_id))[0]
        async with conn.transaction():  # one call ends: a line is free again
            await survey_call_ended(
                conn,
                first["id"],
                call_sid=sid("CA"),
                status="no-answer",
                answered_by="",
                now=local(2026, 4, 7, 10, 1),
                settings=limits,
                calendar=await ctx.calendar.get(conn),
            )
        third = (await campaign_attempts(pool, campaign_id))[2]
        await pool.execute("UPDATE callback_attempts SET due_at = now() WHERE id = $1", third["id"])
        assert await process_attempt(conn, third["id"], ctx) == "placed"


# ---------------------------------------------------------------------- figures


async def unit_dispatch(
    conn: asyncpg.Connection,
    unit: str,
    created: dt.datetime,
    *,
    signed: dt.datetime | None = None,
    completed: tuple[dt.datetime, bool] | None = None,
    answer: tuple[bool | None, int | None, str] | None = None,
) -> int:
    """A lead dispatch of a new order, signed for within 2 hours or not, completed (on
    time or not), and its callback's answer (solved, rating, outcome)."""
    order = await order_in_status(conn, "closed", created)
    # Plain SQL, not routing's insert: the migration tests run this on older schemas.
    dispatch = await conn.fetchrow(
        "INSERT INTO dispatches (order_id, enterprise_id, role, sign_for_due_at, created_at) "
        "VALUES ($1, $2, 'lead', $3, $4) RETURNING id",
        order["id"],
        await enterprise_id(conn, unit),
        created + dt.timedelta(hours=2),
        created,
    )
    if signed:
        await routing_queries.set_dispatch_state(conn, dispatch["id"], state="signed", now=signed)
    if completed:
        finished, on_time = completed
        await routing_queries.set_dispatch_state(
            conn, dispatch["id"], state="completed", now=finished, on_time=on_time
        )
    if answer:
        solved, rating, outcome = answer
        await callback_queries.rate_dispatch(
            conn, dispatch["id"], solved=solved, rating=rating, outcome=outcome, now=created
        )
    return int(dispatch["id"])


async def figures_week(pool: asyncpg.Pool, day: dt.datetime) -> int:
    """Two units' dispatches over the week from ``day`` (a Monday), with the counts the
    test below computes by hand, and one dispatch the week after; returns the appealed
    dispatch."""
    hour = dt.timedelta(hours=1)
    async with pool.acquire() as conn, conn.transaction():
        # 青岛水务集团: 4 dispatched, 2 signed in time; 3 completed, 2 in time; 2 rated.
        await unit_dispatch(
            conn,
            "qd-water",
            day,
            signed=day + hour,
            completed=(day + 24 * hour, True),
            answer=(True, 5, "good"),
        )
        await unit_dispatch(
            conn,
            "qd-water",
            day,
            signed=day + 3 * hour,
            completed=(day + 48 * hour, False),
            answer=(False, 2, "bad"),
        )
        await unit_dispatch(conn, "qd-water", day + 24 * hour)  # never signed, overdue
        await unit_dispatch(
            conn,
            "qd-water",
            day + 48 * hour,
            signed=day + 49 * hour,
            completed=(day + 72 * hour, True),
            answer=(None, None, "unreachable"),
        )
        # 公用事业收费服务中心: 2 dispatched and completed in time; one bad rating appealed.
        await unit_dispatch(
            conn,
            "qd-billing",
            day,
            signed=day + hour,
            completed=(day + 5 * hour, True),
            answer=(True, 3, "good"),
        )
        appealed = await unit_dispatch(
            conn,
            "qd-billing",
            day + 24 * hour,
            signed=day + 25 * hour,
            completed=(day + 30 * hour, True),
            answer=(True, 1, "bad"),
        )
        await callback_queries.exclude_from_score(conn, appealed)
    # Outside the period: not counted.
    async with pool.acquire() as conn:
        await unit_dispatch(conn, "qd-water", day + 7 * 24 * hour, signed=day)
    return appealed


async def test_figures_match_hand_computed_values(
    pool: asyncpg.Pool, desks: dict[str, Desk]
) -> None:
    await figures_week(pool, local(2025, 3, 3, 10, 0))
    figures = await desks["supervisor"].get(
        "/api/v1/figures", by="unit", start="2025-03-03", end="2025-03-09"
    )
    rows = {row["key"]: row for row in figures["items"]}
    async with pool.acquire() as conn:
        water = rows[str(await enterprise_id(conn, "qd-water"))]
        billing = rows[str(await enterprise_id(conn, "qd-billing"))]
    assert water["name"] == "青岛水务集团"
    assert {k: water[k] for k in FIGURES} == {
        "response_rate": 0.5,  # 2 of 4
        "on_time_rate": 0.6667,  # 2 of 3
        "callback_rate": 0.6667,  # 2 of 3 (1 unreachable)
        "reopen_rate": 0.3333,  # 1 of 3
        "resolution_rate": 0.5,  # 1 of 2
        "satisfaction_rate": 0.5,  # 1 of 2
        "score": 50.0,  # 30×0.5 + 35×0.5 + 35×0.5
    }
    assert water["unreachable"] == 1
    assert {k: billing[k] for k in FIGURES} == {
        "response_rate": 1.0,
        "on_time_rate": 1.0,
        "callback_rate": 1.0,
        "reopen_rate": 0.5,
        "resolution_rate": 1.0,  # the appealed rating no longer counts
        "satisfaction_rate": 1.0,
        "score": 100.0,
    }
    hotline = await desks["supervisor"].get(
        "/api/v1/figures", by="hotline", start="2025-03-03", end="2025-03-09"
    )
    (line,) = hotline["items"]
    assert (line["key"], line["dispatched"], line["signed_on_time"]) == ("12319", 6, 4)


async def test_a_groups_figures_add_its_branches(
    pool: asyncpg.Pool, desks: dict[str, Desk]
) -> None:
    """By group (集团汇总): a branch's dispatches count toward its parent, the kept
    counts and the late unsigned ones alike; by unit each is its own row."""
    monday, hour = local(2025, 4, 7, 10, 0), dt.timedelta(hours=1)
    async with pool.acquire() as conn:
        async with conn.transaction():
            await unit_dispatch(conn, "qd-water", monday, signed=monday + hour)
            await unit_dispatch(conn, "qd-water-east", monday, signed=monday + 3 * hour)
            await unit_dispatch(conn, "qd-water-south", monday, signed=monday + hour)
            await unit_dispatch(conn, "qd-water-east", monday + 24 * hour)  # never signed
        water = str(await enterprise_id(conn, "qd-water"))

    async def rows(by: str) -> dict[str, dict[str, Any]]:
        found = await desks["supervisor"].get(
            "/api/v1/figures", by=by, start="2025-04-07", end="2025-04-13"
        )
        return {row["key"]: row for row in found["items"]}

    units = await rows("unit")
    assert len(units) == 3 and units[water]["dispatched"] == 1
    groups = await rows("group")
    assert list(groups) == [water]
    group = groups[water]
    assert (group["name"], group["dispatched"], group["signed_on_time"]) == ("青岛水务集团", 4, 2)
    assert group["response_rate"] == 0.5


FIGURES = (
    "response_rate",
    "on_time_rate",
    "callback_rate",
    "reopen_rate",
    "resolution_rate",
    "satisfaction_rate",
    "score",
)


async def all_figures(pool: asyncpg.Pool, start: dt.date, end: dt.date) -> list[Any]:
    now = local(2025, 10, 1, 0, 0)
    async with pool.acquire() as conn:
        return [
            [
                dict(r)
                for r in await callback_queries.figures(conn, by, start, end, now, per_day=day)
            ]
            for by in ("unit", "service_item", "hotline")
            for day in (False, True)
        ]


async def assert_kept_counts_are_a_recount(conn: asyncpg.Connection) -> None:
    """The triggers' running sums are what counting every dispatch again gives (rows
    that went back to nothing aside); the counts are the recount's afterwards."""
    before = await conn.fetch("SELECT * FROM figure_day_counts ORDER BY 1, 2, 3, 4")
    await callback_queries.rebuild_figure_counts(conn)
    after = await conn.fetch("SELECT * FROM figure_day_counts ORDER BY 1, 2, 3, 4")
    assert [tuple(r) for r in after] == [tuple(r) for r in before if any(r[4:])]


async def test_counts_kept_by_the_writes_equal_a_count_from_scratch(pool: asyncpg.Pool) -> None:
    appealed = await figures_week(pool, local(2025, 9, 1, 10, 0))
    week = (dt.date(2025, 9, 1), dt.date(2025, 9, 8))
    kept = await all_figures(pool, *week)
    assert all(kept)
    async with pool.acquire() as conn:
        await assert_kept_counts_are_a_recount(conn)
    assert await all_figures(pool, *week) == kept

    # A late change (the appeal undone) is in the counts as soon as it commits.
    await pool.execute(
        "UPDATE dispatch_ratings SET score_excluded = false WHERE dispatch_id = $1", appealed
    )
    async with pool.acquire() as conn:
        billing = str(await enterprise_id(conn, "qd-billing"))
    (row,) = [r for r in (await all_figures(pool, *week))[0] if r["key"] == billing]
    assert (row["rated"], row["good"]) == (2, 1)  # the rating 1 counts again


async def rating_counts(conn: asyncpg.Connection, unit: str, day: dt.date) -> dict[str, int]:
    """A unit's kept completion counts of one day."""
    row = await conn.fetchrow(
        "SELECT completed, called_back, unreachable, reopened, answered, solved, rated, good "
        "FROM figure_day_counts WHERE day = $1 AND enterprise_id = $2",
        day,
        await enterprise_id(conn, unit),
    )
    return dict(row) if row else {}


async def test_a_rating_written_changed_excluded_or_deleted_moves_the_kept_counts(
    pool: asyncpg.Pool,
) -> None:
    """The ratings live in callbacks' dispatch_ratings: each write of a rating row moves
    the counts of its dispatch exactly, and a dispatch written later counts with it."""
    made, hour = local(2025, 11, 3, 10, 0), dt.timedelta(hours=1)
    day = made.date()
    unrated = {"completed": 1, "called_back": 0, "unreachable": 0, "reopened": 0}
    unrated |= {"answered": 0, "solved": 0, "rated": 0, "good": 0}
    async with pool.acquire() as conn:
        dispatch = await unit_dispatch(
            conn, "qd-billing", made, signed=made + hour, completed=(made + 5 * hour, True)
        )
        assert await rating_counts(conn, "qd-billing", day) == unrated

        async def rate(solved: bool | None, rating: int | None, outcome: str) -> None:
            await callback_queries.rate_dispatch(
                conn, dispatch, solved=solved, rating=rating, outcome=outcome, now=made
            )

        await rate(False, 2, "bad")
        bad = {**unrated, "called_back": 1, "reopened": 1, "answered": 1, "rated": 1}
        assert await rating_counts(conn, "qd-billing", day) == bad
        await assert_kept_counts_are_a_recount(conn)
        # The appeal approved: the rating leaves the resolution and satisfaction counts.
        await callback_queries.exclude_from_score(conn, dispatch)
        excluded = {**bad, "answered": 0, "rated": 0}
        assert await rating_counts(conn, "qd-billing", day) == excluded
        await assert_kept_counts_are_a_recount(conn)
        # A later callback of the same dispatch: its answer, the appeal still standing.
        await rate(True, 5, "good")
        assert await rating_counts(conn, "qd-billing", day) == {**excluded, "reopened": 0}
        await conn.execute(
            "UPDATE dispatch_ratings SET score_excluded = false WHERE dispatch_id = $1", dispatch
        )
        good = {**unrated, "called_back": 1, "answered": 1, "solved": 1, "rated": 1, "good": 1}
        assert await rating_counts(conn, "qd-billing", day) == good
        await assert_kept_counts_are_a_recount(conn)
        await conn.execute("DELETE FROM dispatch_ratings WHERE dispatch_id = $1", dispatch)
        assert await rating_counts(conn, "qd-billing", day) == unrated
        await assert_kept_counts_are_a_recount(conn)

        # Rated while only signed for: the completion, written later, counts the rating.
        signed = await unit_dispatch(conn, "qd-water", made, signed=made + hour)
        await callback_queries.rate_dispatch(
            conn, signed, solved=None, rating=None, outcome="unreachable", now=made
        )
        assert await rating_counts(conn, "qd-water", day) == {**unrated, "completed": 0}
        await routing_queries.set_dispatch_state(
            conn, signed, state="completed", now=made + 2 * hour, on_time=True
        )
        assert await rating_counts(conn, "qd-water", day) == {**unrated, "unreachable": 1}
        await assert_kept_counts_are_a_recount(conn)


@pytest.mark.parametrize("first", ["dispatch", "rating"])
async def test_a_rating_and_its_dispatch_written_at_once_count_both(
    pool: asyncpg.Pool, first: str
) -> None:
    """The completion and the rating of one dispatch in two open transactions: the
    second waits for the first (the rating's trigger share-locks the dispatch), then
    counts with the first's change, so neither is lost from the kept counts."""
    # A day of each case's own (the tests share a database).
    made = local(2025, 11, 10 if first == "dispatch" else 11, 10, 0)
    hour = dt.timedelta(hours=1)
    async with pool.acquire() as conn:
        dispatch = await unit_dispatch(conn, "qd-water", made, signed=made + hour)

    async def complete(conn: asyncpg.Connection) -> None:
        await routing_queries.set_dispatch_state(
            conn, dispatch, state="completed", now=made + 2 * hour, on_time=True
        )

    async def rate(conn: asyncpg.Connection) -> None:
        await callback_queries.rate_dispatch(
            conn, dispatch, solved=True, rating=4, outcome="good", now=made + 3 * hour
        )

    writes = {"dispatch": complete, "rating": rate}
    second = next(w for name, w in writes.items() if name != first)
    async with pool.acquire() as one, pool.acquire() as other:
        opened = one.transaction()
        await opened.start()
        await writes[first](one)
        waiting = asyncio.create_task(second(other))
        pid = other.get_server_pid()
        await until(lambda: backend_waits(pool, pid), "the second write waits for the first")
        await opened.commit()
        await waiting
        counts = await rating_counts(one, "qd-water", made.date())
        assert (counts["completed"], counts["good"]) == (1, 1)
        await assert_kept_counts_are_a_recount(one)


async def test_a_rating_the_previous_release_writes_into_dispatches_is_kept(
    pool: asyncpg.Pool,
) -> None:
    """During the rolling upgrade the previous release still writes its ratings into
    dispatches (migration 0017 keeps the columns one release): copied to
    dispatch_ratings, counted, and appealable, also in the write that completes."""
    made, hour = local(2025, 11, 17, 10, 0), dt.timedelta(hours=1)
    async with pool.acquire() as conn:
        dispatch = await unit_dispatch(conn, "qd-water", made, signed=made + hour)
        await conn.execute(
            "UPDATE dispatches SET state = 'completed', finished_at = $2, "
            "completed_on_time = true, solved = false, rating = 1, "
            "callback_outcome = 'bad', rated_at = $2 WHERE id = $1",
            dispatch,
            made + 2 * hour,
        )
        rated = await callback_queries.dispatch_rating(conn, dispatch)
        assert rated is not None
        assert (rated["callback_outcome"], rated["score_excluded"]) == ("bad", False)
        counts = await rating_counts(conn, "qd-water", made.date())
        assert (counts["completed"], counts["reopened"], counts["rated"]) == (1, 1, 1)
        await assert_kept_counts_are_a_recount(conn)
        await conn.execute("UPDATE dispatches SET score_excluded = true WHERE id = $1", dispatch)
        assert (await rating_counts(conn, "qd-water", made.date()))["rated"] == 0
        await assert_kept_counts_are_a_recount(conn)


async def test_the_migration_moves_the_ratings_and_leaves_the_counts(
    fresh_database: Callable[[str], Awaitable[str]], tmp_path: Path
) -> None:
    """Migration 0017 on a database whose ratings are still in dispatches: each one
    (an appealed one too) moves into dispatch_ratings, the counts stay as they were."""
    url = await fresh_database("ratings")
    await migrate(url, migrations_before(tmp_path, "0017"))
    made, hour = local(2025, 11, 24, 10, 0), dt.timedelta(hours=1)
    conn = await db.connect(url)
    try:
        await seed_old_schema(conn)
        async with with_todays_order_columns(conn):
            for excluded in (False, True):
                dispatch = await unit_dispatch(
                    conn, "qd-water", made, signed=made + hour, completed=(made + 5 * hour, True)
                )
                await conn.execute(
                    "UPDATE dispatches SET solved = false, rating = 2, callback_outcome = 'bad', "
                    "rated_at = $2, score_excluded = $3 WHERE id = $1",
                    dispatch,
                    made,
                    excluded,
                )
            await unit_dispatch(conn, "qd-water", made, signed=made + hour)  # not rated
        counts = "SELECT * FROM figure_day_counts ORDER BY 1, 2, 3, 4"
        before = await conn.fetch(counts)
        assert (await rating_counts(conn, "qd-water", made.date()))["rated"] == 1
        await migrate(url)
        assert await conn.fetch(counts) == before
        moved = await conn.fetch(
            "SELECT solved, rating, callback_outcome, score_excluded FROM dispatch_ratings "
            "ORDER BY dispatch_id"
        )
        assert [tuple(r) for r in moved] == [(False, 2, "bad", False), (False, 2, "bad", True)]
        await assert_kept_counts_are_a_recount(conn)
    finally:
        await conn.close()


async def test_an_unsigned_dispatch_counts_once_its_sign_for_deadline_passes(
    pool: asyncpg.Pool,
) -> None:
    made = local(2025, 9, 16, 19, 0)
    day = (dt.date(2025, 9, 16), dt.date(2025, 9, 17))
    async with pool.acquire() as conn:
        water = str(await enterprise_id(conn, "qd-water"))
        dispatch = await unit_dispatch(conn, "qd-water", made)  # sign-for due at 21:00

        async def counts(now: dt.datetime) -> tuple[int, int]:
            rows = await callback_queries.figures(conn, "unit", *day, now)
            (row,) = [r for r in rows if r["key"] == water]
            return row["dispatched"], row["signed_on_time"]

        assert not [r for r in await callback_queries.figures(conn, "unit", *day, made)]
        assert await counts(local(2025, 9, 16, 21, 1)) == (1, 0)  # counted live
        kept = (
            "SELECT coalesce(sum(dispatched), 0) FROM figure_day_counts "
            "WHERE day = $1 AND enterprise_id = $2"
        )
        assert await conn.fetchval(kept, day[0], int(water)) == 0
        # The ladder's reminder marks it: from then on a kept count, never counted twice.
        await routing_queries.mark_sign_for_missed(conn, dispatch, local(2025, 9, 16, 21, 0))
        assert await conn.fetchval(kept, day[0], int(water)) == 1
        assert await counts(local(2025, 9, 16, 21, 1)) == (1, 0)
        await routing_queries.set_dispatch_state(
            conn, dispatch, state="signed", now=local(2025, 9, 16, 22, 0)
        )
        assert await counts(local(2025, 9, 16, 22, 1)) == (1, 0)  # signed, late
        assert await conn.fetchval(kept, day[0], int(water)) == 1


@pytest.mark.parametrize("per_day", [False, True])
@pytest.mark.parametrize("by", ["unit", "group", "service_item", "hotline"])
async def test_figures_read_the_period_through_indexes(
    pool: asyncpg.Pool, by: str, per_day: bool
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        # With sequential scans priced out, a plan without one proves an index path.
        await conn.execute("SET LOCAL enable_seqscan = off")
        plan = await conn.fetch(
            "EXPLAIN " + callback_queries.figures_sql(by, per_day=per_day),
            dt.date(2025, 3, 3),
            dt.date(2025, 3, 10),
            local(2025, 3, 10, 0, 0),
        )
    text = "\n".join(r[0] for r in plan)
    for table in ("figure_day_counts", "dispatches", "work_orders", "order_suspensions"):
        assert f"Seq Scan on {table}" not in text, text


# ------------------------------------------------ campaigns, appeals and rulings


async def test_a_paused_campaign_holds_its_calls_until_resumed(
    desks: dict[str, Desk], pool: asyncpg.Pool, clock: Clock
) -> None:
    campaign_id = await proactive_campaign(pool, [mobile(), mobile()], local(2026, 4, 7, 10, 0))
    supervisor = desks["supervisor"]
    paused = await supervisor.post(f"/api/v1/callback-campaigns/{campaign_id}/pause")
    assert paused["state"] == "paused"
    assert {a["state"] for a in await campaign_attempts(pool, campaign_id)} == {"held"}
    await supervisor.post(f"/api/v1/callback-campaigns/{campaign_id}/pause", status=409)
    await desks["agent"].post(f"/api/v1/callback-campaigns/{campaign_id}/pause", status=403)

    clock.set(local(2026, 4, 7, 21, 0))  # resumed after the calling hours
    resumed = await supervisor.post(f"/api/v1/callback-campaigns/{campaign_id}/resume")
    assert resumed["state"] == "active" and resumed["counts"]["open"] == 2
    rows = await campaign_attempts(pool, campaign_id)
    assert {(a["state"], a["due_at"]) for a in rows} == {("pending", local(2026, 4, 8, 9, 0))}


async def test_spot_checks_sample_a_share_of_each_units_closed_orders(
    desks: dict[str, Desk], pool: asyncpg.Pool, clock: Clock
) -> None:
    week = local(2025, 6, 2, 10, 0)  # a Monday
    async with pool.acquire() as conn, conn.transaction():
        for unit, count in (("qd-water", 5), ("qd-billing", 2)):
            for i in range(count):
                await closed_order(conn, unit, week + dt.timedelta(days=i % 7))
        await closed_order(conn, "qd-water", week + dt.timedelta(days=7))  # the next week
    clock.set(local(2025, 6, 9, 10, 0))
    body = {"kind": "spot_check", "name": "6月第1周", "week_start": "2025-06-02", "share": 0.3}
    campaign = await desks["supervisor"].post("/api/v1/callback-campaigns", body, status=201)
    sampled = await pool.fetch(
        """
        SELECT o.lead_enterprise_id, count(*) FROM callback_surveys s
          JOIN work_orders o ON o.id = s.order_id
         WHERE s.campaign_id = $1 GROUP BY 1
        """,
        campaign["id"],
    )
    by_unit = {r["lead_enterprise_id"]: r["count"] for r in sampled}
    async with pool.acquire() as conn:
        water = await enterprise_id(conn, "qd-water")
        billing = await enterprise_id(conn, "qd-billing")
    assert by_unit == {water: 2, billing: 1}  # ceil(0.3 × 5), ceil(0.3 × 2)
    await desks["supervisor"].post(
        "/api/v1/callback-campaigns", {**body, "week_start": "2025-06-03"}, status=422
    )


async def closed_order(conn: asyncpg.Connection, unit: str, closed: dt.datetime) -> None:
    order = await order_in_status(conn, "closed", closed)
    await order_queries.update_status(
        conn,
        order["id"],
        current="closed",
        target="closed",
        now=closed,
        changes={
            "lead_enterprise_id": await enterprise_id(conn, unit),
            "closed_at": closed,
            "caller_phone": mobile(),
        },
    )


async def enterprise_id(conn: asyncpg.Connection, code: str) -> int:
    enterprise = await ref.get_enterprise_by_code(conn, code)
    assert enterprise is not None
    return int(enterprise["id"])


async def test_a_bad_rating_can_be_appealed_and_a_supervisor_closes_with_a_ruling(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    clock: Clock,
    fake_rest: FakeTwilioRest,
    twilio: TwilioSide,
) -> None:
    phone = mobile()

    async def run() -> None:
        await settle(pool, settings)

    clock.set(local(2026, 4, 14, 10, 0))
    order_id, dispatch_id = await completed_order(desks, "370281004", phone, settle=run)
    await run()
    await twilio.answer(fake_rest.calls_to(phone)[0], "2", "2")  # reopened, redone
    await run()
    appeal = await desks["water"].post(
        f"/api/v1/dispatches/{dispatch_id}/appeals",
        {"reason": "用户要求免除水费，超出服务范围"},
        status=201,
    )
    await desks["water"].post(
        f"/api/v1/dispatches/{dispatch_id}/appeals", {"reason": "再次申诉"}, status=409
    )
    pending = await desks["supervisor"].get("/api/v1/rating-appeals")
    assert appeal["id"] in [a["id"] for a in pending["items"]]
    decided = await desks["supervisor"].post(
        f"/api/v1/rating-appeals/{appeal['id']}/decision", {"decision": "approve", "note": "属实"}
    )
    assert decided["state"] == "approved"
    assert await pool.fetchval(
        "SELECT score_excluded FROM dispatch_ratings WHERE dispatch_id = $1", dispatch_id
    )

    # The redo is completed; the citizen still insists: the supervisor rules and closes.
    await sign_and_complete(desks["water"], order_id)
    await run()
    closed = await desks["supervisor"].post(
        f"/api/v1/orders/{order_id}/ruling", {"ruling": "诉求不合理：要求免除全部水费"}
    )
    assert closed["status"] == "closed"
    surveys = (await desks["agent"].get(f"/api/v1/orders/{order_id}/callbacks"))["items"]
    assert [s["state"] for s in surveys] == ["answered", "cancelled"]
