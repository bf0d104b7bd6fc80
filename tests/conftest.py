"""Test fixtures on real PostgreSQL and Redis.

With HOTLINE_DATABASE_URL / HOTLINE_REDIS_URL set (CI), the tests use those servers;
otherwise they start the embedded ones, as ``hotline up`` does. Either way each run
gets its own fresh database (dropped at the end) and its own RQ queue name.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from redis import Redis

from hotline import db, jobs
from hotline.settings import Settings
from testkit.twilio import FakeTwilioRest
from tests.browser_support import consoles, stack  # noqa: F401 (the browser tests' fixtures)
from tests.factories import Clock
from tests.process_support import new_database
from wiring.app import create_app
from wiring.jobs import job_context
from wiring.services import ServiceUrls, running_services, with_database

RUN_ID = uuid.uuid4().hex[:8]


# Makes an empty database named for this run and a label; returns its URL.
MakeDatabase = Callable[[str], Awaitable[str]]


@pytest.fixture(scope="session")
def services() -> Iterator[ServiceUrls]:
    # Not under pytest's base temporary folder: a run started meanwhile (other work on
    # the machine) may prune it, and the embedded servers' data with it.
    var_dir = Path(tempfile.mkdtemp(prefix="hotline-test-var-"))
    try:
        with running_services(Settings(var_dir=var_dir)) as urls:
            yield urls
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


async def _admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def fresh_database(services: ServiceUrls) -> Iterator[MakeDatabase]:
    """Makes empty databases for this run and drops them at the end."""
    made: list[str] = []

    async def make(label: str) -> str:
        name = f"hotline_test_{RUN_ID}_{label}"
        await _admin(services.database_url, f'CREATE DATABASE "{name}"')
        made.append(name)
        return with_database(services.database_url, name)

    yield make
    for name in made:
        asyncio.run(_admin(services.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def settings(services: ServiceUrls, fresh_database: MakeDatabase) -> Iterator[Settings]:
    url = asyncio.run(new_database(fresh_database, "main"))
    values = {
        "HOTLINE_DATABASE_URL": url,
        "HOTLINE_REDIS_URL": services.redis_url,
        "HOTLINE_QUEUE_NAME": f"hotline-test-{RUN_ID}",
        # Runs sharing a Redis must not hear each other's live events.
        "HOTLINE_LIVE_CHANNEL": f"hotline-live-test-{RUN_ID}",
        # Every test logs in from 127.0.0.1: one client address for the whole run, whose
        # wrong passwords (tests of them, generated requests) must not slow down the
        # next test's login. tests/test_login_throttling.py has a server of its own with
        # small limits.
        "HOTLINE_LOGIN_ADDRESS_FREE_FAILURES": "1000000",
        # Likewise its public reports (Open311, the form), malformed ones included: the
        # address limit is tested on a server of its own (tests/test_open311.py, strict).
        "HOTLINE_PUBLIC_RATE_PER_IP": "1000000",
        # The process stacks (hotline up, relays) would train a first classifier version,
        # a minute of CPU each; tests/test_suggest.py trains its own.
        "HOTLINE_SUGGEST_FIRST_RUN": "false",
    }
    saved = {k: os.environ.get(k) for k in values}
    # RQ jobs read their settings from the environment, as in a worker process.
    os.environ.update(values)
    yield Settings()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    assert settings.database_url
    pool = await db.create_pool(settings.database_url)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def redis_conn(settings: Settings) -> Iterator[Redis]:
    assert settings.redis_url
    conn = Redis.from_url(settings.redis_url)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def clock() -> Clock:
    return Clock()


@pytest.fixture(autouse=True)
def _real_time(clock: Clock) -> None:
    clock.reset()


@pytest.fixture(autouse=True)
def _job_context(clock: Clock) -> None:
    """Jobs run in this process (SimpleWorker, a job called directly) get a context of
    the environment as the test set it, and the test's clock."""
    jobs.install(lambda: job_context(Settings(), clock=clock))


@pytest.fixture(scope="session")
async def server(settings: Settings, clock: Clock) -> AsyncIterator[TestServer]:
    server = TestServer(create_app(settings, clock=clock))
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def client(server: TestServer) -> AsyncIterator[aiohttp.ClientSession]:
    """A browser of its own: its own cookie jar, talking to the shared test server."""
    async with aiohttp.ClientSession(
        base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as session:
        yield session


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture
def fake_twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilioRest]:
    """Twilio's REST API on 127.0.0.1; jobs read their settings from the environment, as
    in a worker: they send through Twilio, to it."""
    with FakeTwilioRest() as rest:
        for name, value in rest.environment().items():
            monkeypatch.setenv(name, value)
        yield rest
