"""Twilio voice and SMS intake, call records, outbound SMS, the agent taking a call.

Webhooks go to a test server of their own whose public URL is its real address and
whose auth token is known, signed the way Twilio signs them. Outbound SMS go through
Twilio's real client to a fake Twilio REST API on 127.0.0.1. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import random
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import pytest
import socketio
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from redis import Redis
from rq import SimpleWorker

from hotline.phones import mask_phone
from hotline.relay import Relay
from hotline.settings import Settings, SettingsError
from integrations.telephony import voice
from integrations.telephony.jobs import RETRY, outbound_source
from integrations.telephony.outbound import queue_sms
from integrations.telephony.provider import LogProvider
from routing import queries as routing_queries
from testkit.local_server import free_port
from testkit.twilio import (
    ACCOUNT_SID,
    API_VERSION,
    TOKEN,
    FakeTwilioRest,
    post_webhook,
    sid,
    webhook_signature,
)
from tests.factories import Clock, log_in, make_user, register_order
from tests.test_relay import fresh_queue, run
from web.keys import API
from wiring.app import create_app

HOTLINE_12319_NUMBER = "+8653266612319"  # the carrier number routed to 12319 in these tests


def mobile() -> str:
    """A fresh mainland mobile number in E.164, so rate limits and citizens do not mix."""
    return f"+86138{random.randrange(10**8):08d}"


# ------------------------------------------------------------------- fixtures


@dataclass
class Twilio:
    """Twilio, as far as our webhooks can tell: signed form POSTs to the test server."""

    server: TestServer
    base: str
    session: aiohttp.ClientSession

    def sign(self, url: str, params: dict[str, str], token: str = TOKEN) -> str:
        return webhook_signature(url, params, token)

    async def post(
        self,
        path: str,
        params: dict[str, str],
        *,
        signature: str | None = None,
        signed_url: str | None = None,
        status: int = 200,
    ) -> str:
        """POST ``params`` to ``path``, signed for ``signed_url`` (default: the real URL)."""
        return await post_webhook(
            self.session,
            self.base + path,
            params,
            signed_url=signed_url,
            signed=signature,
            status=status,
            twiml=True,
        )


@pytest.fixture(scope="module")
async def twilio(settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[Twilio]:
    async with twilio_server(settings, pool) as server:
        yield server


@contextlib.asynccontextmanager
async def twilio_server(
    settings: Settings, pool: asyncpg.Pool, **changes: Any
) -> AsyncIterator[Twilio]:
    """An app on ``settings`` (with ``changes``) whose public URL is its own address and
    whose Twilio token is known, with 12319's carrier number set."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app_settings = settings.model_copy(
        update={"twilio_auth_token": SecretStr(TOKEN), "public_url": base, **changes}
    )
    server = TestServer(create_app(app_settings, clock=Clock()), host="127.0.0.1", port=port)
    await server.start_server()
    await pool.execute(
        "UPDATE hotlines SET voice_number = $1 WHERE code = '12319'", HOTLINE_12319_NUMBER
    )
    async with aiohttp.ClientSession() as session:
        yield Twilio(server, base, session)
    await server.close()


def call_params(
    call_sid: str, to: str, from_: str = "+8613812345678", status: str = "ringing"
) -> dict[str, str]:
    """What Twilio posts for an inbound call (voice URL, gather and status callbacks)."""
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": API_VERSION,
        "CallSid": call_sid,
        "CallStatus": status,
        "Called": to,
        "CalledCountry": "CN",
        "Caller": from_,
        "CallerCountry": "CN",
        "Direction": "inbound",
        "From": from_,
        "FromCity": "",
        "FromCountry": "CN",
        "FromState": "",
        "FromZip": "",
        "To": to,
        "ToCity": "",
        "ToCountry": "CN",
        "ToState": "",
        "ToZip": "",
    }


def gather_params(call_sid: str, to: str, digits: str | None) -> dict[str, str]:
    params = {**call_params(call_sid, to, status="in-progress"), "FinishedOnKey": ""}
    if digits is not None:
        params |= {"Digits": digits, "msg": "Gather End"}
    return params


def status_params(call_sid: str, to: str, status: str, duration: int | None) -> dict[str, str]:
    params = {
        **call_params(call_sid, to, status=status),
        "CallbackSource": "call-progress-events",
        "SequenceNumber": "0",
        "Timestamp": "Sun, 22 Nov 2026 02:00:00 +0000",
    }
    if duration is not None:
        params |= {"CallDuration": str(duration), "Duration": str(max(1, duration // 60))}
    return params


def queue_params(call_sid: str, result: str | None, queue_time: int) -> dict[str, str]:
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": API_VERSION,
        "CallSid": call_sid,
        "QueueSid": sid("QU"),
        "QueueTime": str(queue_time),
        "AvgQueueTime": str(queue_time),
        "CurrentQueueSize": "1",
        "QueuePosition": "1",
    }
    if result is not None:
        params["QueueResult"] = result
    return params


def recording_params(call_sid: str, recording_sid: str) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "CallSid": call_sid,
        "ErrorCode": "0",
        "RecordingChannels": "1",
        "RecordingDuration": "14",
        "RecordingSid": recording_sid,
        "RecordingSource": "RecordVerb",
        "RecordingStartTime": "Sun, 22 Nov 2026 02:01:00 +0000",
        "RecordingStatus": "completed",
        "RecordingUrl": (
            f"https://api.twilio.com/{API_VERSION}/Accounts/{ACCOUNT_SID}/Recordings/{recording_sid}"
        ),
    }


def sms_params(message_sid: str, from_: str, to: str, body: str) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": API_VERSION,
        "Body": body,
        "From": from_,
        "FromCity": "",
        "FromCountry": "CN",
        "FromState": "",
        "FromZip": "",
        "MessageSid": message_sid,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsMessageSid": message_sid,
        "SmsSid": message_sid,
        "SmsStatus": "received",
        "To": to,
        "ToCity": "",
        "ToCountry": "CN",
        "ToState": "",
        "ToZip": "",
    }


def twiml(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == "Response"
    return root


async def call_row(pool: asyncpg.Pool, call_sid: str) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT * FROM calls WHERE call_sid = $1", call_sid)


async def deliveries(pool: asyncpg.Pool, sid: str) -> int:
    """How many deliveries were kept for one CallSid, MessageSid or RecordingSid."""
    return int(await pool.fetchval("SELECT count(*) FROM twilio_deliveries WHERE sid = $1", sid))


async def start_call(twilio: Twilio, to: str, from_: str = "+8613812345678") -> str:
    call_sid = sid("CA")
    await twilio.post(voice_path(), call_params(call_sid, to, from_))
    return call_sid


def voice_path() -> str:
    return "/twilio/voice"


# ---------------------------------------------------------------- greeting


@pytest.mark.parametrize(("code", "to"), [("96111", "96111"), ("12319", HOTLINE_12319_NUMBER)])
@pytest.mark.usefixtures("no_running_outages")
async def test_a_call_is_greeted_by_its_hotline_and_offered_the_menu(
    twilio: Twilio, pool: asyncpg.Pool, code: str, to: str
) -> None:
    call_sid = sid("CA")
    root = twiml(await twilio.post("/twilio/voice", call_params(call_sid, to)))

    greeting_zh = await pool.fetchval("SELECT greeting_zh FROM hotlines WHERE code = $1", code)
    say, gather, redirect = list(root)
    assert say.tag == "Say" and say.get("language") == "zh-CN" and say.text == greeting_zh
    assert code in greeting_zh
    assert gather.tag == "Gather"
    assert gather.get("action") == f"{twilio.base}/twilio/voice/menu"
    assert gather.get("numDigits") == "1" and gather.get("timeout") == "6"
    (prompt,) = list(gather)
    assert prompt.tag == "Say" and prompt.get("language") == "zh-CN"
    assert prompt.text == "故障报修请按1，业务咨询请按2，投诉请按3，人工服务请按0"
    # No digit: Twilio goes on to the redirect, which queues the caller.
    assert redirect.tag == "Redirect" and redirect.text == f"{twilio.base}/twilio/voice/menu"

    call = await call_row(pool, call_sid)
    assert call is not None
    assert call["hotline_code"] == code and call["from_phone"] == "+8613812345678"
    assert (
        call["to_number"] == to and call["status"] == "ringing" and call["direction"] == "inbound"
    )


async def test_a_call_to_an_unknown_number_hears_sorry_and_is_hung_up(
    twilio: Twilio, pool: asyncpg.Pool
) -> None:
    call_sid = sid("CA")
    root = twiml(await twilio.post("/twilio/voice", call_params(call_sid, "+8653200000000")))
    assert [e.tag for e in root] == ["Say", "Hangup"]
    assert root[0].get("language") == "zh-CN"
    call = await call_row(pool, call_sid)
    assert call is not None and call["hotline_code"] is None


@pytest.fixture
async def no_running_outages(pool: asyncpg.Pool) -> None:
    """Outages other tests left running would be announced too (the database is the
    session's): a test of the announcements starts with none running."""
    await pool.execute(
        "UPDATE outage_notices SET cancelled_at = now()"
        " WHERE cancelled_at IS NULL AND ends_at > now()"
    )


def outage_values(
    domain: str, title: str, area: str, starts_at: dt.datetime, ends_at: dt.datetime
) -> dict[str, Any]:
    return {
        "domain": domain,
        "kind": "emergency",
        "title": title,
        "description": "",
        "area_codes": [area],
        "starts_at": starts_at,
        "ends_at": ends_at,
        "created_by": None,
    }


def announcements(root: ET.Element) -> list[str]:
    """What is said inside the menu's Gather before the menu prompt."""
    (gather,) = [e for e in root if e.tag == "Gather"]
    says = [e.text or "" for e in gather]
    assert says[-1] == voice.MENU_PROMPT
    return says[:-1]


@pytest.mark.usefixtures("no_running_outages")
async def test_every_caller_hears_the_dialled_hotlines_running_outages(
    twilio: Twilio, pool: asyncpg.Pool, settings: Settings
) -> None:
    """Newest first, at most three, of the hotline's utilities only; a known caller's own
    area first; said inside the Gather, so a digit skips them."""
    now = dt.datetime.now(dt.UTC)
    tz = ZoneInfo(settings.timezone)
    tomorrow_9 = dt.datetime.combine(
        now.astimezone(tz).date() + dt.timedelta(days=1), dt.time(9), tzinfo=tz
    )
    later = now + dt.timedelta(days=3)
    water = [
        ("崂山区管网抢修临时停水", "370212", now - dt.timedelta(hours=5), tomorrow_9),
        ("香港中路停水", "370202", now - dt.timedelta(hours=3), later),
        ("辽阳西路停水", "370203", now - dt.timedelta(hours=2), later),
        ("延吉路停水", "370203", now - dt.timedelta(hours=1), later),
    ]
    async with pool.acquire() as conn:
        _, agent = await make_user(conn, "agent", hotline_code="96111")
        known = mobile()
        await register_order(conn, agent, settings, now, caller_phone=known, area="370212")
        rows = [
            await routing_queries.insert_outage(conn, outage_values("water", *w)) for w in water
        ]
        rows.append(
            await routing_queries.insert_outage(
                conn,
                outage_values("gas", "李沧区停气", "370213", now - dt.timedelta(hours=1), later),
            )
        )
        # Not running: over, not begun, cancelled.
        rows.append(
            await routing_queries.insert_outage(
                conn,
                outage_values(
                    "water",
                    "已结束停水",
                    "370202",
                    now - dt.timedelta(days=2),
                    now - dt.timedelta(days=1),
                ),
            )
        )
        rows.append(
            await routing_queries.insert_outage(
                conn,
                outage_values(
                    "water", "明日计划停水", "370202", later, later + dt.timedelta(hours=4)
                ),
            )
        )
        cancelled = await routing_queries.insert_outage(
            conn,
            outage_values("water", "已取消停水", "370202", now - dt.timedelta(minutes=5), later),
        )
        rows.append(cancelled)
        await conn.execute(
            "UPDATE outage_notices SET cancelled_at = now() WHERE id = $1", cancelled["id"]
        )
    try:
        # A first-time caller to 96111: the three newest water outages.
        said = announcements(
            twiml(await twilio.post("/twilio/voice", call_params(sid("CA"), "96111", mobile())))
        )
        assert [line.split("，")[0] for line in said] == [
            "目前延吉路停水",
            "目前辽阳西路停水",
            "目前香港中路停水",
        ]
        assert all(line.endswith("恢复。") for line in said)
        # A caller known in 崂山 hears their area's outage first, with when it should end.
        said = announcements(
            twiml(await twilio.post("/twilio/voice", call_params(sid("CA"), "96111", known)))
        )
        assert said[0] == "目前崂山区管网抢修临时停水，预计明天9时恢复。"
        assert len(said) == 3 and said[1].startswith("目前延吉路停水")
        # 96556 (gas and heating) announces the gas outage only; 12319 all utilities.
        said = announcements(
            twiml(await twilio.post("/twilio/voice", call_params(sid("CA"), "96556", mobile())))
        )
        assert [line.split("，")[0] for line in said] == ["目前李沧区停气"]
        said = announcements(
            twiml(
                await twilio.post(
                    "/twilio/voice", call_params(sid("CA"), HOTLINE_12319_NUMBER, mobile())
                )
            )
        )
        assert [line.split("，")[0] for line in said] == [
            "目前李沧区停气",
            "目前延吉路停水",
            "目前辽阳西路停水",
        ]
    finally:
        await pool.execute(
            "UPDATE outage_notices SET cancelled_at = now() WHERE id = ANY($1::bigint[])",
            [r["id"] for r in rows],
        )


def test_an_outage_says_when_it_should_end_in_few_words() -> None:
    today = dt.date(2026, 12, 5)
    tz = ZoneInfo("Asia/Shanghai")

    def line(title: str, ends_at: dt.datetime) -> str:
        return voice.outage_line(voice.OutageNotice(title, ends_at), today)

    assert line("香港中路停水", dt.datetime(2026, 12, 5, 18, 30, tzinfo=tz)) == (
        "目前香港中路停水，预计今天18时30分恢复。"
    )
    assert line("香港中路停水", dt.datetime(2026, 12, 7, 9, tzinfo=tz)) == (
        "目前香港中路停水，预计12月7日9时恢复。"
    )
    long = "市北区" * 20
    assert line(long, dt.datetime(2026, 12, 6, 0, tzinfo=tz)) == (
        f"目前{long[: voice.OUTAGE_TITLE_CHARS]}等，预计明天0时恢复。"
    )


# ------------------------------------------------------------------------ menu


@pytest.mark.parametrize(
    ("code", "digit", "choice"),
    [
        ("96111", "1", "repair"),
        ("96111", "2", "consultation"),
        ("12319", "3", "complaint"),
        ("96556", "0", "agent"),
        ("12319", None, "none"),
    ],
)
async def test_a_menu_choice_queues_the_caller_for_the_hotline(
    twilio: Twilio, pool: asyncpg.Pool, code: str, digit: str | None, choice: str
) -> None:
    to = HOTLINE_12319_NUMBER if code == "12319" else code
    call_sid = await start_call(twilio, to)
    root = twiml(await twilio.post("/twilio/voice/menu", gather_params(call_sid, to, digit)))
    (enqueue,) = list(root)
    assert enqueue.tag == "Enqueue" and enqueue.text == f"hotline-{code}"
    assert enqueue.get("action") == f"{twilio.base}/twilio/voice/queue-exit"
    assert enqueue.get("waitUrl") == f"{twilio.base}/twilio/voice/wait"
    call = await call_row(pool, call_sid)
    assert call is not None and call["menu_choice"] == choice and call["queued_at"] is not None


async def test_a_wrong_digit_repeats_the_menu_once(twilio: Twilio, pool: asyncpg.Pool) -> None:
    call_sid = await start_call(twilio, "96111")
    root = twiml(await twilio.post("/twilio/voice/menu", gather_params(call_sid, "96111", "9")))
    assert [e.tag for e in root] == ["Say", "Gather", "Redirect"]
    assert root[0].text == voice.INVALID_DIGIT
    retry = f"{twilio.base}/twilio/voice/menu?attempt=2"
    assert root[1].get("action") == retry and root[2].text == retry
    call = await call_row(pool, call_sid)
    assert call is not None and call["queued_at"] is None

    # The same wrong digit on the second menu is no repeat: the caller goes to an agent.
    root = twiml(
        await twilio.post("/twilio/voice/menu?attempt=2", gather_params(call_sid, "96111", "9"))
    )
    assert [e.tag for e in root] == ["Enqueue"] and root[0].text == "hotline-96111"
    call = await call_row(pool, call_sid)
    assert call is not None and call["menu_choice"] == "none" and call["queued_at"] is not None


# ------------------------------------------------------------------ signatures


async def test_unsigned_or_badly_signed_requests_are_refused_and_write_nothing(
    twilio: Twilio, pool: asyncpg.Pool
) -> None:
    call_sid = sid("CA")
    params = call_params(call_sid, "96111")
    good = twilio.sign(f"{twilio.base}/twilio/voice", params)
    attempts = {
        "missing": "",
        "another token": twilio.sign(f"{twilio.base}/twilio/voice", params, token="not-it"),
        "another URL": twilio.sign("https://hotline.example.cn/twilio/voice", params),
        "another path": twilio.sign(f"{twilio.base}/twilio/sms", params),
        "tampered": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
    }
    for label, signature in attempts.items():
        async with twilio.session.post(
            f"{twilio.base}/twilio/voice",
            data=params,
            headers={"X-Twilio-Signature": signature} if signature else {},
        ) as response:
            assert response.status == 403, label
            assert (await response.json())["error"]["code"] == "bad_signature"
    # A signature for other fields than those sent.
    await twilio.post(
        "/twilio/voice", {**params, "From": "+8613900000000"}, signature=good, status=403
    )
    assert await call_row(pool, call_sid) is None
    assert await deliveries(pool, call_sid) == 0


async def test_the_session_server_without_a_token_refuses_every_webhook(
    client: aiohttp.ClientSession,
) -> None:
    params = call_params(sid("CA"), "96111")
    signature = webhook_signature("http://localhost:8080/x", params)
    response = await client.post(
        "/twilio/voice", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert response.status == 403


async def test_a_body_over_the_limit_is_refused(twilio: Twilio, settings: Settings) -> None:
    params = {**call_params(sid("CA"), "96111"), "Padding": "x" * (settings.max_body_bytes + 1)}
    async with twilio.session.post(f"{twilio.base}/twilio/voice", data=params) as response:
        assert response.status == 413


async def test_a_multipart_body_without_a_boundary_is_400_on_every_webhook(
    twilio: Twilio, pool: asyncpg.Pool
) -> None:
    paths = [p for p in twilio.server.app[API].openapi(twilio.base)["paths"] if "/twilio/" in p]
    assert len(paths) > 10
    for path in paths:
        async with twilio.session.post(
            twilio.base + path,
            data=b"--x\r\n\r\n--x--\r\n",
            headers={"Content-Type": "multipart/form-data", "X-Twilio-Signature": "x"},
        ) as response:
            assert response.status == 400, path
            assert (await response.json())["error"]["code"] == "bad_form", path


async def test_a_nul_character_in_a_signed_field_is_422_and_stores_nothing(
    twilio: Twilio, pool: asyncpg.Pool
) -> None:
    message_sid = sid("SM")
    params = sms_params(message_sid, "+8613812345678", "96111", "a\x00b")
    async with twilio.session.post(
        twilio.base + "/twilio/sms",
        data=params,
        headers={"X-Twilio-Signature": twilio.sign(twilio.base + "/twilio/sms", params)},
    ) as response:
        assert response.status == 422
        answer = await response.json()
    assert answer["error"] == {
        "code": "nul_character",
        "message": "文本不能包含 NUL 字符",
        "fields": {"Body": "包含 NUL 字符"},
    }
    assert await deliveries(pool, message_sid) == 0


@pytest.mark.parametrize("phone", ["1", "a1"])
async def test_a_one_digit_or_lettered_sender_is_no_server_error(
    twilio: Twilio, pool: asyncpg.Pool, phone: str
) -> None:
    """Twilio sends what the network gave it (an alphanumeric sender, a short code)."""
    message_sid = sid("SM")
    text = await twilio.post("/twilio/sms", sms_params(message_sid, phone, "96111", "路灯不亮"))
    twiml(text)
    await twilio.post("/twilio/voice", call_params(sid("CA"), "96111", phone))


# ---------------------------------------------------------------------- dedupe


async def test_a_repeated_delivery_gets_the_same_answer_and_does_nothing_more(
    twilio: Twilio, pool: asyncpg.Pool
) -> None:
    call_sid = sid("CA")
    params = call_params(call_sid, "96111")
    first = await twilio.post("/twilio/voice", params)
    second = await twilio.post("/twilio/voice", params)
    assert first == second
    assert await pool.fetchval("SELECT count(*) FROM calls WHERE call_sid = $1", call_sid) == 1
    menu = gather_params(call_sid, "96111", "1")
    assert await twilio.post("/twilio/voice/menu", menu) == await twilio.post(
        "/twilio/voice/menu", menu
    )
    assert await deliveries(pool, call_sid) == 2  # voice, gather "1"


async def test_call_statuses_only_move_forward(twilio: Twilio, pool: asyncpg.Pool) -> None:
    call_sid = await start_call(twilio, "96111")
    sent = [("in-progress", None), ("completed", 42), ("ringing", None), ("in-progress", None)]
    for status, duration in sent:
        root = twiml(
            await twilio.post(
                "/twilio/voice/status", status_params(call_sid, "96111", status, duration)
            )
        )
        assert list(root) == []
    await twilio.post("/twilio/voice/status", status_params(call_sid, "96111", "completed", 42))
    call = await call_row(pool, call_sid)
    assert call is not None
    assert call["status"] == "completed" and call["status_rank"] == 4
    assert call["duration_seconds"] == 42 and call["ended_at"] is not None


async def test_a_status_callback_before_the_voice_webhook_makes_the_call(
    twilio: Twilio, pool: asyncpg.Pool
) -> None:
    call_sid = sid("CA")
    await twilio.post("/twilio/voice/status", status_params(call_sid, "96111", "in-progress", None))
    await twilio.post("/twilio/voice", call_params(call_sid, "96111"))  # late: ringing
    call = await call_row(pool, call_sid)
    assert call is not None and call["status"] == "in-progress" and call["hotline_code"] == "96111"


# ---------------------------------------------------------- queue and messages


async def test_the_wait_music_holds_then_leaves_after_the_answer_time(
    twilio: Twilio, settings: Settings
) -> None:
    call_sid = sid("CA")
    root = twiml(await twilio.post("/twilio/voice/wait", queue_params(call_sid, None, 10)))
    assert [e.tag for e in root] == ["Say", "Pause"]
    waited = settings.agent_answer_seconds
    root = twiml(await twilio.post("/twilio/voice/wait", queue_params(call_sid, None, waited)))
    assert [e.tag for e in root] == ["Leave"]


async def test_no_agent_means_a_recorded_message_that_becomes_a_draft_linked_to_the_call(
    twilio: Twilio, pool: asyncpg.Pool, settings: Settings
) -> None:
    phone = mobile()
    # A known caller: the draft takes their area and is theirs.
    citizen_id = await pool.fetchval(
        "INSERT INTO citizens (phone, name, area_code) VALUES ($1, '市民丙', '370202') "
        "RETURNING id",
        phone,
    )
    call_sid = await start_call(twilio, "96111", phone)
    await twilio.post("/twilio/voice/menu", gather_params(call_sid, "96111", "1"))
    root = twiml(await twilio.post("/twilio/voice/queue-exit", queue_params(call_sid, "leave", 60)))
    assert [e.tag for e in root] == ["Say", "Record", "Say", "Hangup"]
    record = root[1]
    assert record.get("maxLength") == "120" and record.get("playBeep") == "true"
    assert record.get("recordingStatusCallback") == f"{twilio.base}/twilio/recording"
    assert record.get("action") == f"{twilio.base}/twilio/voice/goodbye"
    call = await call_row(pool, call_sid)
    assert call is not None and call["left_queue_at"] is not None
    assert call["queue_result"] == "leave"

    recording_sid = sid("RE")
    params = recording_params(call_sid, recording_sid)
    first = await twilio.post("/twilio/recording", params)
    assert await twilio.post("/twilio/recording", params) == first  # a repeat: no second draft

    call = await call_row(pool, call_sid)
    assert call is not None
    assert call["recording_sid"] == recording_sid and call["recording_seconds"] == 14
    orders = await pool.fetch("SELECT * FROM work_orders WHERE call_id = $1", call["id"])
    (order,) = orders
    assert order["status"] == "draft" and order["channel"] == "voice"
    assert order["hotline_code"] == "96111" and order["service_item_code"] is None
    assert order["media_url"] == params["RecordingUrl"]
    # The carrier's address is kept for the server alone: the console plays it through us.
    assert "twilio" not in order["description"] and "故障报修" in order["description"]
    assert order["caller_phone"] == phone
    assert order["area_code"] == "370202" and order["citizen_id"] == citizen_id

    # An agent sees the call with its draft.
    async with pool.acquire() as conn:
        username, _ = await make_user(conn, "agent", hotline_code="96111")
    async with aiohttp.ClientSession(
        base_url=twilio.base, cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as agent:
        await log_in(agent, username)
        response = await agent.get(f"/api/v1/calls/{call['id']}")
        assert response.status == 200
        detail = await response.json()
        assert detail["call_sid"] == call_sid and [o["id"] for o in detail["orders"]] == [
            order["id"]
        ]
        assert detail["recording"] == f"/api/v1/calls/{call['id']}/recording"
        assert "twilio.com" not in json.dumps(detail)
        assert (await agent.get("/api/v1/calls/999999999")).status == 404


async def test_a_caller_bridged_to_an_agent_hears_nothing_more(
    twilio: Twilio, pool: asyncpg.Pool
) -> None:
    call_sid = await start_call(twilio, "96111")
    root = twiml(
        await twilio.post("/twilio/voice/queue-exit", queue_params(call_sid, "bridged", 5))
    )
    assert list(root) == []
    call = await call_row(pool, call_sid)
    assert call is not None and call["left_queue_at"] is None


# ------------------------------------------------------------------------- SMS


async def test_an_sms_becomes_a_draft_and_is_answered_with_its_number_once(
    twilio: Twilio, pool: asyncpg.Pool
) -> None:
    phone = mobile()
    message_sid = sid("SM")
    params = sms_params(message_sid, phone, "96111", "香港中路100号楼下水管爆裂，水流到马路上")
    answer = await twilio.post("/twilio/sms", params)
    (message,) = list(twiml(answer))
    sms = await pool.fetchrow("SELECT * FROM sms_messages WHERE message_sid = $1", message_sid)
    assert sms is not None and sms["order_id"] is not None and sms["from_phone"] == phone
    order = await pool.fetchrow("SELECT * FROM work_orders WHERE id = $1", sms["order_id"])
    assert order["status"] == "draft" and order["channel"] == "sms"
    assert order["description"] == params["Body"] and order["caller_phone"] == phone
    assert message.tag == "Message"
    assert message.text == (
        f"已收到您的短信，工单号 {order['number']}，话务员将尽快处理。查询进度请回复“查询”。"
    )
    assert sms["citizen_id"] == order["citizen_id"] is not None

    assert await twilio.post("/twilio/sms", params) == answer
    count = "SELECT count(*) FROM sms_messages WHERE message_sid = $1"
    assert await pool.fetchval(count, message_sid) == 1
    drafts = "SELECT count(*) FROM work_orders WHERE caller_phone = $1 AND channel = 'sms'"
    assert await pool.fetchval(drafts, phone) == 1


async def test_one_number_sending_too_many_sms_gets_no_more_drafts(
    twilio: Twilio, pool: asyncpg.Pool, settings: Settings
) -> None:
    phone = mobile()
    for i in range(settings.public_rate_per_phone):
        answer = await twilio.post("/twilio/sms", sms_params(sid("SM"), phone, "96111", f"第{i}条"))
        assert [e.tag for e in twiml(answer)] == ["Message"]
    over = sid("SM")
    answer = await twilio.post("/twilio/sms", sms_params(over, phone, "96111", "再来一条"))
    assert list(twiml(answer)) == []
    sms = await pool.fetchrow("SELECT * FROM sms_messages WHERE message_sid = $1", over)
    assert sms is not None and sms["order_id"] is None  # kept, but no draft
    drafts = "SELECT count(*) FROM work_orders WHERE caller_phone = $1 AND channel = 'sms'"
    assert await pool.fetchval(drafts, phone) == settings.public_rate_per_phone


# -------------------------------------------------------------- outbound SMS


def queue_one(settings: Settings, effect_key: str, to: str, body: str) -> int:
    async def work(pool: asyncpg.Pool) -> int:
        async with pool.acquire() as conn, conn.transaction():
            for _ in range(2):  # the same effect twice is one message
                await queue_sms(
                    conn, effect_key=effect_key, to_phone=to, from_number="96111", body=body
                )
            return int(
                await conn.fetchval(
                    "SELECT id FROM outbound_messages WHERE effect_key = $1", effect_key
                )
            )

    return run(settings, work)


def relay_and_send(settings: Settings, redis_conn: Redis, *, passes: int) -> list[str]:
    """Relay due outbound messages (a lease of zero: every pass takes them again, as
    after a lost relay), run every job; returns the jobs' results."""
    queue = fresh_queue(redis_conn)

    async def relay(pool: asyncpg.Pool) -> None:
        outbound = Relay(pool, queue, lease_seconds=0, sources=(outbound_source,))
        for _ in range(passes):
            await outbound.run_once()

    run(settings, relay)
    job_ids = queue.get_job_ids()
    SimpleWorker([queue], connection=redis_conn).work(burst=True)
    jobs = [queue.fetch_job(job_id) for job_id in job_ids]
    return sorted(str(job.return_value()) for job in jobs if job is not None)


def outbound_row(settings: Settings, row_id: int) -> asyncpg.Record:
    async def work(pool: asyncpg.Pool) -> asyncpg.Record:
        return await pool.fetchrow("SELECT * FROM outbound_messages WHERE id = $1", row_id)

    return run(settings, work)


def test_an_outbound_sms_reaches_twilio_exactly_once(
    settings: Settings, redis_conn: Redis, fake_twilio: FakeTwilioRest
) -> None:
    to = mobile()
    key = f"test.survey:{uuid.uuid4().hex}"
    row_id = queue_one(settings, key, to, "请对本次服务评价：满意请回复1，不满意请回复2")

    results = relay_and_send(settings, redis_conn, passes=2)
    assert results.count("sent") == 1 and set(results) <= {"sent", "skipped"}
    assert relay_and_send(settings, redis_conn, passes=1) == []  # nothing left to send

    (request,) = [r for r in fake_twilio.messages if r["To"] == to]
    assert request["account"] == ACCOUNT_SID and request["auth"] == ACCOUNT_SID
    assert request["From"] == "96111" and request["Body"].startswith("请对本次服务评价")
    row = outbound_row(settings, row_id)
    assert row["state"] == "sent" and row["provider"] == "twilio"
    assert row["provider_sid"].startswith("SM") and row["sent_at"] is not None


def test_a_number_twilio_refuses_fails_at_once(
    settings: Settings, redis_conn: Redis, fake_twilio: FakeTwilioRest
) -> None:
    fake_twilio.statuses = [400]
    row_id = queue_one(settings, f"test.bad:{uuid.uuid4().hex}", mobile(), "测试")
    assert relay_and_send(settings, redis_conn, passes=1) == ["failed"]
    row = outbound_row(settings, row_id)
    assert row["state"] == "failed" and "21211" in row["last_error"]


def test_retries_back_off_and_end_after_five_attempts() -> None:
    assert [RETRY.retry_in(n) for n in range(1, 6)] == [
        dt.timedelta(seconds=30),
        dt.timedelta(seconds=60),
        dt.timedelta(seconds=120),
        dt.timedelta(seconds=240),
        None,
    ]


def test_the_log_provider_masks_numbers(caplog: pytest.LogCaptureFixture) -> None:
    assert mask_phone("+8613812345678") == "+86138****5678"
    with caplog.at_level("INFO"):
        provider_sid = LogProvider().send_sms("+8613812345678", "96111", "正文", "k:1")
    assert provider_sid.startswith("LOG-")
    assert "+8613812345678" not in caplog.text and "+86138****5678" in caplog.text


def test_production_needs_twilio_credentials_for_the_twilio_provider() -> None:
    production = Settings(
        env="production",
        secret_key=SecretStr("s" * 40),
        database_url="postgresql://db/hotline",
        redis_url="redis://redis:6379/0",
        public_url="https://hotline.example.cn",
        metrics_token=SecretStr("m" * 40),
    )
    production.check_production()  # the log provider needs nothing more
    twilio = production.model_copy(update={"telephony_provider": "twilio"})
    with pytest.raises(SettingsError, match="HOTLINE_TWILIO_AUTH_TOKEN"):
        twilio.check_production()
    twilio.model_copy(
        update={"twilio_auth_token": SecretStr("t"), "twilio_account_sid": ACCOUNT_SID}
    ).check_production()


# ---------------------------------------------------------- the agent's turn


@contextlib.asynccontextmanager
async def call_taker(
    twilio: Twilio, pool: asyncpg.Pool, hotline_code: str
) -> AsyncIterator[tuple[aiohttp.ClientSession, Callable[[], Awaitable[aiohttp.ClientResponse]]]]:
    """A new agent of ``hotline_code``, signed in and available, and its "take next call"
    (calls earlier tests left waiting on the hotline are taken first)."""
    async with pool.acquire() as conn:
        username, _ = await make_user(conn, "agent", hotline_code=hotline_code)
    async with aiohttp.ClientSession(
        base_url=twilio.base, cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as agent:
        csrf = await log_in(agent, username)
        ready = await agent.put(
            "/api/v1/agents/me/status", json={"status": "available"}, headers={"X-CSRF-Token": csrf}
        )
        assert ready.status == 200, await ready.text()

        async def take_next() -> aiohttp.ClientResponse:
            return await agent.post("/api/v1/calls/next", headers={"X-CSRF-Token": csrf})

        while (await take_next()).status == 200:
            pass
        yield agent, take_next


@pytest.mark.usefixtures("no_running_outages")
async def test_a_returning_callers_screen_pop_names_each_orders_owner_and_the_outages(
    twilio: Twilio, pool: asyncpg.Pool, settings: Settings
) -> None:
    """首问负责制: the agent who registered an order stays its owner; whoever takes the
    citizen's next call sees who that is and where the order stands, and the running
    outages the caller heard of."""
    phone = mobile()
    now = dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn:
        _, owner = await make_user(conn, "agent", hotline_code="96111")
        order = await register_order(conn, owner, settings, now, caller_phone=phone)
        outage = await routing_queries.insert_outage(
            conn,
            outage_values(
                "water",
                "香港中路停水",
                "370202",
                now - dt.timedelta(hours=1),
                now + dt.timedelta(hours=2),
            ),
        )
    try:
        async with call_taker(twilio, pool, "96111") as (_, take_next):
            call_sid = await start_call(twilio, "96111", phone)
            await twilio.post("/twilio/voice/menu", gather_params(call_sid, "96111", "1"))
            offered = await (await take_next()).json()
    finally:
        await pool.execute(
            "UPDATE outage_notices SET cancelled_at = now() WHERE id = $1", outage["id"]
        )
    assert offered["call_sid"] == call_sid
    (mine,) = offered["caller"]["open_orders"]
    assert mine["number"] == order["number"] and mine["status"] == order["status"]
    assert (mine["owner_id"], mine["owner_name"]) == (owner.user_id, owner.name)
    assert [o["title"] for o in offered["outages"]] == ["香港中路停水"]
    assert offered["outages"][0]["domain"] == "water"


async def test_an_agent_takes_the_oldest_waiting_call_and_gets_a_screen_pop(
    twilio: Twilio, pool: asyncpg.Pool
) -> None:
    async with call_taker(twilio, pool, "96556") as (agent, take_next):
        assert (await agent.post("/api/v1/calls/next")).status == 403  # no CSRF token

        known = mobile()
        async with pool.acquire() as conn:
            await conn.execute("INSERT INTO citizens (phone, name) VALUES ($1, '市民乙')", known)
        older = await start_call(twilio, "96556", known)
        await twilio.post("/twilio/voice/menu", gather_params(older, "96556", "1"))
        newer = await start_call(twilio, "96556", mobile())
        await twilio.post("/twilio/voice/menu", gather_params(newer, "96556", "2"))
        elsewhere = await start_call(twilio, "96111", mobile())  # not this agent's hotline
        await twilio.post("/twilio/voice/menu", gather_params(elsewhere, "96111", "2"))

        jar = agent.cookie_jar.filter_cookies(twilio.server.make_url("/"))
        cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())
        heard: list[Any] = []
        pushed = asyncio.Event()

        def on_call_event(data: Any) -> None:
            heard.append(data)
            pushed.set()

        console = socketio.AsyncClient(reconnection=False)
        console.on("call_event", on_call_event)
        await console.connect(
            twilio.base,
            headers={"Cookie": cookie, "Origin": twilio.base},
            transports=["websocket"],
            wait_timeout=5,
        )
        try:
            response = await take_next()
            assert response.status == 200
            offered = await response.json()
            # The push itself, however long a loaded machine takes to deliver it.
            await asyncio.wait_for(pushed.wait(), timeout=60)
        finally:
            await console.disconnect()

        assert offered["type"] == "call.offered" and offered["call_sid"] == older
        assert offered["hotline"] == "96556"
        assert offered["caller"]["known"] and offered["caller"]["phone"] == known
        assert offered["caller"]["citizen"]["name"] == "市民乙"
        assert heard == [offered]
        call = await call_row(pool, older)
        assert call is not None and call["agent_user_id"] is not None

        second = await take_next()
        assert (await second.json())["call_sid"] == newer
        assert (await take_next()).status == 204  # the 96111 call is not theirs
        waiting = await call_row(pool, elsewhere)
        assert waiting is not None and waiting["agent_user_id"] is None
