"""Redis away: every intake path stores and answers 2xx, and what Redis carries (jobs,
live events) waits in PostgreSQL and happens, once and in order, when Redis is back.

Each test runs an application on a Redis of its own (a redis-server on a free port,
with no persistence) that it stops and starts again, empty, on the same port; the
machine's Redis is never touched.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from rq import Queue

from hotline.fallbacks import Fallback, Fallbacks, fail_fast_redis
from hotline.orders.models import NewDraft
from hotline.orders.service import do_register_draft
from hotline.relay import Relay
from hotline.settings import Settings
from hotline.stream import queries as stream
from integrations.open311 import service
from integrations.ratelimit import FAIL_OPEN, limiter, phone_key
from testkit.local_server import free_port
from testkit.twilio import sid
from tests.factories import Clock
from tests.process_support import OwnRedis
from tests.routing_support import open_desks, settle
from tests.test_live import Console, Running, consoles
from tests.test_open311 import report_form, request_fields
from tests.test_twilio_intake import (
    HOTLINE_12319_NUMBER,
    Twilio,
    call_params,
    gather_params,
    mobile,
    queue_params,
    recording_params,
    sms_params,
    status_params,
    twilio_server,
)
from tests.waiting import until
from wiring.app import create_app

BOUND = 1200  # checks of 0.05 s: a minute, for a slow shared machine


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[OwnRedis]:
    redis = OwnRedis(tmp_path)
    await redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def outage_settings(
    settings: Settings, own_redis: OwnRedis, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The run's settings on the test's Redis, with queues and a live channel of their
    own; worker processes started by the test read the same from the environment."""
    label = f"outage-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("HOTLINE_REDIS_URL", own_redis.url)
    monkeypatch.setenv("HOTLINE_QUEUE_NAME", label)
    monkeypatch.setenv("HOTLINE_LIVE_CHANNEL", label)
    return settings.model_copy(
        update={"redis_url": own_redis.url, "queue_name": label, "live_channel": label}
    )


@pytest.fixture
async def intake(outage_settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[Twilio]:
    async with twilio_server(outage_settings, pool) as server:
        yield server


async def test_every_intake_path_stores_once_and_answers_2xx_while_redis_is_down(
    intake: Twilio,
    own_redis: OwnRedis,
    outage_settings: Settings,
    pool: asyncpg.Pool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    twilio, session = intake, intake.session
    async with pool.acquire() as conn, conn.transaction():
        _, api_key = await service.do_create_client(conn, "outage test", Clock()())
    call_sid, recording_sid, message_sid = sid("CA"), sid("RE"), sid("SM")
    caller, texter = mobile(), mobile()
    sms_body = f"停电了 {uuid.uuid4().hex}"
    open311_text, form_text = f"井盖丢失 {uuid.uuid4().hex}", f"路灯不亮 {uuid.uuid4().hex}"
    own_redis.stop()

    # Every kind of webhook, each delivered twice (Twilio retries what it thinks failed).
    for path, params in (
        ("/twilio/voice", call_params(call_sid, HOTLINE_12319_NUMBER, caller)),
        ("/twilio/voice/menu", gather_params(call_sid, HOTLINE_12319_NUMBER, "1")),
        ("/twilio/voice/wait", queue_params(call_sid, None, 30)),
        ("/twilio/voice/queue-exit", queue_params(call_sid, "leave", 300)),
        ("/twilio/voice/goodbye", call_params(call_sid, HOTLINE_12319_NUMBER, caller)),
        ("/twilio/recording", recording_params(call_sid, recording_sid)),
        ("/twilio/voice/status", status_params(call_sid, HOTLINE_12319_NUMBER, "completed", 40)),
        ("/twilio/sms", sms_params(message_sid, texter, HOTLINE_12319_NUMBER, sms_body)),
    ):
        for _ in range(2):
            await twilio.post(path, params)
    # A burst, as in the outage that lost 117 messages: each one twice, all at once.
    burst = [
        sms_params(sid("SM"), mobile(), HOTLINE_12319_NUMBER, f"没水了 {i}") for i in range(20)
    ]
    await asyncio.gather(*(twilio.post("/twilio/sms", p) for p in burst for _ in range(2)))
    base = twilio.base
    response = await session.post(
        f"{base}/open311/v2/requests.json",
        data=request_fields(api_key, description=open311_text, phone=mobile()),
    )
    assert response.status == 201, await response.text()
    response = await session.post(
        f"{base}/api/v1/public/reports", data=report_form(description=form_text)
    )
    assert response.status == 201, await response.text()

    # Each stored once: the call, its recording's draft, the SMS and its draft, the two
    # reports.
    call = await pool.fetchrow(
        """
        SELECT id, status, menu_choice, queue_result, recording_sid
          FROM calls WHERE call_sid = $1
        """,
        call_sid,
    )
    assert call is not None and call["status"] == "completed"
    assert (call["menu_choice"], call["queue_result"]) == ("repair", "leave")
    assert call["recording_sid"] == recording_sid
    drafts = await pool.fetch(
        """
        SELECT id, channel FROM work_orders
         WHERE call_id = $1 OR description = ANY($2::text[])
        """,
        call["id"],
        [sms_body, open311_text, form_text],
    )
    assert sorted(d["channel"] for d in drafts) == ["open311", "sms", "voice", "web"]
    sms = await pool.fetch("SELECT order_id FROM sms_messages WHERE message_sid = $1", message_sid)
    assert len(sms) == 1 and sms[0]["order_id"] in {d["id"] for d in drafts}

    stored = await pool.fetch(
        "SELECT order_id FROM sms_messages WHERE message_sid = ANY($1::text[])",
        [p["MessageSid"] for p in burst],
    )
    assert len(stored) == 20 and all(row["order_id"] is not None for row in stored)

    # The limits let these through, and said so in the metrics.
    async with session.get(f"{base}/metrics") as response:
        text = await response.text()
    (line,) = [
        line
        for line in text.splitlines()
        if line.startswith('hotline_fallbacks_total{fallback="ratelimit_open"}')
    ]
    assert float(line.split()[-1]) >= 5  # the SMS, two limits each for the reports

    # The drafts' announcements wait in the outbox: a relay pass cannot enqueue them and
    # hands them back.
    keys = [f"order.drafted:{d['id']}" for d in drafts]
    connection = Redis.from_url(own_redis.url, socket_connect_timeout=1, socket_timeout=1)
    relay = Relay(pool, Queue(outage_settings.queue_name, connection=connection))
    with pytest.raises(RedisError):
        await relay.run_once()
    states = await pool.fetch("SELECT state FROM outbox WHERE key = ANY($1::text[])", keys)
    assert sorted(r["state"] for r in states) == ["pending"] * 4
    connection.close()

    # Redis comes back, empty: the relay and a worker carry them out.
    await own_redis.start()
    await settle(pool, outage_settings)
    states = await pool.fetch("SELECT state FROM outbox WHERE key = ANY($1::text[])", keys)
    assert sorted(r["state"] for r in states) == ["done"] * 4

    # A delivery that comes again after the outage is still the one already stored.
    await twilio.post(
        "/twilio/sms", sms_params(message_sid, texter, HOTLINE_12319_NUMBER, sms_body)
    )
    assert (
        await pool.fetchval("SELECT count(*) FROM sms_messages WHERE message_sid = $1", message_sid)
        == 1
    )


async def test_events_committed_while_redis_is_down_reach_the_consoles_once_in_order(
    outage_settings: Settings, own_redis: OwnRedis, pool: asyncpg.Pool
) -> None:
    server = TestServer(create_app(outage_settings, clock=Clock()))
    await server.start_server()
    publisher = Running(outage_settings)
    try:
        await publisher.leading()
        async with (
            open_desks(server, pool, "supervisor") as desks,
            consoles(server, outage_settings, desks["supervisor"]) as (console,),
        ):
            before = await _draft(pool, "before the outage")
            await until(
                _heard(console, before), "the console hears the first draft", attempts=BOUND
            )
            own_redis.stop()
            during = [await _draft(pool, f"during the outage {i}") for i in range(3)]
            # The publisher tried, and keeps them for later rather than giving up: they
            # are not counted as published.
            away = publisher.publisher.redis_away
            tried = away.count
            await until(
                _async(lambda: away.count > tried + 1), "publishes while Redis is away", BOUND
            )
            async with pool.acquire() as conn:
                assert await stream.published_seq(conn) < min(during)
            await own_redis.start()
            after = await _draft(pool, "after the outage")
            await until(_heard(console, after), "the console hears the last draft", attempts=BOUND)
        mine = [seq for seq in console.seqs() if seq >= before]
        expected = await pool.fetch(
            "SELECT seq FROM order_events WHERE seq >= $1 AND seq <= $2 ORDER BY seq",
            before,
            after,
        )
        assert mine == [r["seq"] for r in expected]
        assert set(during) <= set(mine)
    finally:
        await publisher.stop()
        await server.close()


async def _draft(pool: asyncpg.Pool, text: str) -> int:
    """A draft order registered straight in the database; the seq of its event."""
    async with pool.acquire() as conn, conn.transaction():
        order = await do_register_draft(
            conn,
            NewDraft(hotline="12319", channel="web", description=text),
            Clock()(),
        )
        seq = await conn.fetchval(
            "SELECT max(seq) FROM order_events WHERE order_id = $1", order["id"]
        )
    return int(seq)


def _heard(console: Console, seq: int) -> Callable[[], Awaitable[bool]]:
    return _async(lambda: seq in console.seqs())


def _async(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def checked() -> bool:
        return check()

    return checked


def test_a_fallback_is_logged_once_a_minute_while_it_lasts_and_counted_every_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    fallback = Fallback(
        "test_open", "limits let requests through", log=logging.getLogger("t"), clock=lambda: now[0]
    )
    error = RedisConnectionError("refused")
    with caplog.at_level("WARNING", logger="t"):
        for second in range(0, 130):  # ten requests a second for 13 s, then 117 s more
            now[0] = float(second)
            for _ in range(10 if second < 13 else 1):
                fallback.happened(error)
        fallback.ended()
        fallback.ended()
    lines = [r.getMessage() for r in caplog.records]
    assert fallback.count == 130 + 117
    # At 0 s, 60 s and 120 s, each with what happened since the line before.
    assert [line.split("; ")[-1] for line in lines[:3]] == [
        f"{n} time(s) since the last such line)" for n in (1, 9 + 120 + 47 + 1, 60)
    ]
    assert all(
        line.startswith("limits let requests through (ConnectionError") for line in lines[:3]
    )
    assert lines[3:] == ["test_open: no longer (the dependency answers again)"]


def test_a_fallback_just_taken_is_taken_again_without_asking_until_a_second_passes() -> None:
    now = [100.0]
    fallback = Fallback(
        "test_open", "let through", log=logging.getLogger("t"), clock=lambda: now[0]
    )
    assert not fallback.failed_within(1.0)
    fallback.happened(RedisConnectionError("refused"))
    now[0] = 100.5
    assert fallback.failed_within(1.0)
    fallback.skipped()  # counted, but it does not make the failure any more recent
    now[0] = 101.0
    assert not fallback.failed_within(1.0)
    assert fallback.count == 2
    fallback.happened(RedisConnectionError("refused"))
    fallback.ended()
    assert not fallback.failed_within(1.0)


async def test_a_redis_that_accepts_but_never_answers_does_not_hold_a_limit() -> None:
    # A listener that takes connections and says nothing: a stalled or half-dead Redis.
    held: list[asyncio.StreamWriter] = []

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    port = free_port()
    listener = await asyncio.start_server(silent, "127.0.0.1", port)
    client = AsyncRedis.from_url(f"redis://127.0.0.1:{port}/0", **fail_fast_redis())
    fallbacks = Fallbacks()
    limits = limiter(client, fallbacks)
    try:
        for _ in range(3):
            await limits.hit(phone_key("test", "+8613800000000"), limit=1, window_seconds=60)
    finally:
        await client.aclose()
        for writer in held:
            writer.close()
        listener.close()
        await listener.wait_closed()
    assert fallbacks.counts() == {FAIL_OPEN: 3}
