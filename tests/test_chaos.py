"""Chaos under ``hotline up``: signed webhooks of every kind keep arriving, some twice,
while Redis is stopped and started again, the worker is killed and the database drops
the connections of every process. Every webhook is answered 2xx (the database never
went away), every one is stored exactly once, the work they started gets done once
Redis is back, and ``hotline up`` is still serving at the end.

Everything runs on a database and a Redis of the test's own (the machine's Redis is
shared: never stopped)."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
import psutil

from integrations.open311 import service
from testkit.twilio import TOKEN, sid, webhook_signature
from tests.factories import Clock
from tests.process_support import (
    PUBLIC_URL,
    OwnRedis,
    Running,
    deployment,
    deployment_settings,
    new_database,
    wait_until_healthy,
)
from tests.test_open311 import report_form, request_fields
from tests.test_supervision import MINUTES, child, logged
from tests.test_twilio_intake import (
    HOTLINE_12319_NUMBER,
    call_params,
    gather_params,
    mobile,
    queue_params,
    recording_params,
    sms_params,
    status_params,
)
from tests.waiting import until


@dataclass
class Traffic:
    """What the citizens sent and what they were answered."""

    web: str
    session: aiohttp.ClientSession
    open311_key: str
    calls: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)  # Open311 and form descriptions
    answers: list[tuple[str, int]] = field(default_factory=list)
    answered: asyncio.Event = field(default_factory=asyncio.Event)  # this round's first

    async def twilio(self, path: str, params: dict[str, str]) -> None:
        # Signed for the public URL the deployment runs behind, as Twilio signs.
        signed = webhook_signature(PUBLIC_URL + path, params)
        await self._post(path, data=params, headers={"X-Twilio-Signature": signed})

    async def _post(self, path: str, **kwargs: object) -> None:
        timeout = aiohttp.ClientTimeout(total=120)
        async with self.session.post(self.web + path, timeout=timeout, **kwargs) as response:  # type: ignore[arg-type]
            await response.read()
            self.answers.append((path, response.status))
            self.answered.set()

    async def _after_first_answer(self, during: Callable[[], Awaitable[None]] | None) -> None:
        """``during`` once the round's first delivery is answered: mid-round, for sure."""
        if during is not None:
            await self.answered.wait()
            await during()

    async def round(self, during: Callable[[], Awaitable[None]] | None = None) -> None:
        """One call through every webhook, one SMS, each delivered twice at once (as
        Twilio does when it believes a delivery failed), with ``during`` happening
        meanwhile; then an Open311 request and a report from the public form."""
        self.answered.clear()
        call_sid, caller = sid("CA"), mobile()
        message_sid, text = sid("SM"), f"没水了 {uuid.uuid4().hex[:8]}"
        self.calls.append(call_sid)
        self.messages.append(message_sid)
        steps = [
            ("/twilio/voice", call_params(call_sid, HOTLINE_12319_NUMBER, caller)),
            ("/twilio/voice/menu", gather_params(call_sid, HOTLINE_12319_NUMBER, "1")),
            ("/twilio/voice/wait", queue_params(call_sid, None, 30)),
            ("/twilio/voice/queue-exit", queue_params(call_sid, "leave", 300)),
            ("/twilio/voice/goodbye", call_params(call_sid, HOTLINE_12319_NUMBER, caller)),
            ("/twilio/recording", recording_params(call_sid, sid("RE"))),
            ("/twilio/voice/status", status_params(call_sid, HOTLINE_12319_NUMBER, "completed", 9)),
        ]

        async def call() -> None:
            for path, params in steps:
                await asyncio.gather(self.twilio(path, params), self.twilio(path, params))

        sms = sms_params(message_sid, mobile(), HOTLINE_12319_NUMBER, text)
        await asyncio.gather(
            call(),
            self.twilio("/twilio/sms", sms),
            self.twilio("/twilio/sms", sms),
            self._after_first_answer(during),
        )
        open311_text, form_text = (f"{what} {uuid.uuid4().hex[:8]}" for what in ("井盖", "路灯"))
        self.reports += [open311_text, form_text]
        fields = request_fields(self.open311_key, description=open311_text, phone=mobile())
        await self._post("/open311/v2/requests.json", data=fields)
        form = report_form(description=form_text, phone=mobile())
        await self._post("/api/v1/public/reports", data=form)


async def test_webhooks_survive_redis_the_worker_and_the_database_connections_failing(
    fresh_database: Callable[[str], Awaitable[str]], tmp_path: Path
) -> None:
    database_url = await new_database(fresh_database, "chaos")
    # Named, so that dropping "every connection" spares the test's own.
    pool = await asyncpg.create_pool(
        database_url, min_size=1, max_size=3, server_settings={"application_name": "chaos"}
    )
    assert pool is not None
    redis = OwnRedis(tmp_path)
    await redis.start()
    settings = deployment_settings(database_url, redis.url)
    try:
        await pool.execute(
            "UPDATE hotlines SET voice_number = $1 WHERE code = '12319'", HOTLINE_12319_NUMBER
        )
        async with pool.acquire() as conn, conn.transaction():
            _, open311_key = await service.do_create_client(conn, "chaos", Clock()())
        async with (
            deployment(
                settings,
                tmp_path,
                HOTLINE_TWILIO_AUTH_TOKEN=TOKEN,
                HOTLINE_LIVE_CHANNEL=f"hotline-live-test-{uuid.uuid4().hex[:8]}",
                # Every report comes from this one address: its limit is not under test.
                HOTLINE_PUBLIC_RATE_PER_IP="10000",
            ) as processes,
            aiohttp.ClientSession() as session,
        ):
            up = processes.start("up", "up")
            await wait_until_healthy(up, attempts=MINUTES // 5)
            traffic = Traffic(up.url, session, open311_key)
            await traffic.round()

            # Redis stops in the middle of a round and stays away for two more.
            await traffic.round(during=_soon(redis.stop))
            await traffic.round()
            await redis.start()
            await traffic.round()

            # The worker is killed in the middle of a round; the supervisor restarts it.
            worker = await _worker(up)
            await traffic.round(during=_soon(lambda: worker.send_signal(signal.SIGKILL)))
            await until(logged(up, "restarting worker1"), "the worker is restarted", MINUTES)

            # The database drops every process's connections, three times, mid-round.
            for _ in range(3):
                await traffic.round(during=lambda: _drop_connections(pool))

            await traffic.round()
            # Nothing failed: every delivery answered 2xx (Twilio's 200, the reports' 201).
            failed = [(path, status) for path, status in traffic.answers if status >= 300]
            assert not failed, failed
            await _stored_once(pool, traffic)
            # The work the deliveries started is done, Redis outage and all.
            await until(lambda: _outbox_done(pool), "the outbox is carried out", MINUTES)
            assert up.process.poll() is None, up.output()
            await wait_until_healthy(up)
    finally:
        redis.stop()
        await pool.close()


def _soon(action: Callable[[], object]) -> Callable[[], Awaitable[None]]:
    async def now() -> None:
        action()

    return now


async def _worker(up: Running) -> psutil.Process:
    async def started() -> bool:
        return child(up, "worker1") is not None

    await until(started, "the worker runs", attempts=MINUTES)
    found = child(up, "worker1")
    assert found is not None
    return found


async def _drop_connections(pool: asyncpg.Pool) -> None:
    """What a database restart does to the processes: every connection but ours ends."""
    await pool.execute(
        """
        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()
           AND application_name <> 'chaos'
        """
    )


async def _stored_once(pool: asyncpg.Pool, traffic: Traffic) -> None:
    calls = await pool.fetch(
        """
        SELECT call_sid, count(*) AS n, min(status) AS status, count(recording_sid) AS recorded
          FROM calls WHERE call_sid = ANY($1::text[]) GROUP BY call_sid
        """,
        traffic.calls,
    )
    assert len(calls) == len(traffic.calls)
    assert {(r["n"], r["status"], r["recorded"]) for r in calls} == {(1, "completed", 1)}
    recorded = await pool.fetchval(
        """
        SELECT count(*) FROM work_orders w JOIN calls c ON c.id = w.call_id
         WHERE c.call_sid = ANY($1::text[])
        """,
        traffic.calls,
    )
    assert recorded == len(traffic.calls)  # one draft per recording
    messages = await pool.fetch(
        """
        SELECT message_sid, count(*) AS n, count(order_id) AS drafted FROM sms_messages
         WHERE message_sid = ANY($1::text[]) GROUP BY message_sid
        """,
        traffic.messages,
    )
    assert len(messages) == len(traffic.messages)
    assert {(r["n"], r["drafted"]) for r in messages} == {(1, 1)}
    reports = await pool.fetch(
        """
        SELECT description, count(*) AS n FROM work_orders
         WHERE description = ANY($1::text[]) GROUP BY description
        """,
        traffic.reports,
    )
    assert len(reports) == len(traffic.reports) and {r["n"] for r in reports} == {1}


async def _outbox_done(pool: asyncpg.Pool) -> bool:
    return not await pool.fetchval("SELECT count(*) FROM outbox WHERE state <> 'done'")
