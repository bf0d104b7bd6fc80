"""Agent presence follows the live connection (docs/console.md, "Agent presence"): real
socket.io consoles against a web server whose grace period is short. An agent whose
console closes goes offline after the grace period, and the board hears it; a reconnect
within the grace changes nothing; logging out sets offline at once; the connections of
a killed web process expire."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import socketio
from aiohttp.test_utils import TestServer

from hotline import db
from hotline.settings import Settings
from tests.factories import Clock, log_in, make_user
from tests.process_support import PUBLIC_URL, deployment, deployment_settings, new_database
from tests.routing_support import Desk
from tests.waiting import until
from web.live import PRESENCE
from wiring.app import create_app
from wiring.services import ServiceUrls

GRACE_SECONDS = 2.0
HEARTBEAT_SECONDS = 0.5
# Long enough that a reconnect is recorded within it on a busy machine.
RECONNECT_GRACE_SECONDS = 6.0


@contextlib.asynccontextmanager
async def short_grace(settings: Settings, clock: Clock, grace: float) -> AsyncIterator[TestServer]:
    """A web server of its own whose agents go offline ``grace`` seconds after their
    consoles close."""
    short = settings.model_copy(
        update={"agent_presence_grace_seconds": grace, "live_heartbeat_seconds": HEARTBEAT_SECONDS}
    )
    server = TestServer(create_app(short, clock=clock))
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def quick(settings: Settings, clock: Clock) -> AsyncIterator[TestServer]:
    async with short_grace(settings, clock, GRACE_SECONDS) as server:
        yield server


@pytest.fixture
async def patient(settings: Settings, clock: Clock) -> AsyncIterator[TestServer]:
    async with short_grace(settings, clock, RECONNECT_GRACE_SECONDS) as server:
        yield server


class Person:
    """A signed-in user of one web server, with its consoles."""

    def __init__(self, base_url: str, origin: str, user_id: int, desk: Desk) -> None:
        self.base_url, self.origin, self.user_id, self.desk = base_url, origin, user_id, desk
        self.consoles: list[socketio.AsyncClient] = []
        self.heard: list[dict[str, Any]] = []  # agent_status messages, in order

    async def open_console(self) -> socketio.AsyncClient:
        jar = self.desk.client.cookie_jar.filter_cookies(self.desk.client._base_url)  # type: ignore[arg-type]
        cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())
        console = socketio.AsyncClient(reconnection=False)
        console.on("agent_status", self.heard.append)
        await console.connect(
            self.base_url,
            headers={"Cookie": cookie, "Origin": self.origin},
            transports=["websocket"],
            wait_timeout=10,
        )
        self.consoles.append(console)
        return console

    async def set_status(self, status: str) -> None:
        response = await self.desk.client.put(
            "/api/v1/agents/me/status", json={"status": status}, headers=self._headers()
        )
        assert response.status == 200, await response.text()

    async def log_out(self) -> None:
        response = await self.desk.client.post("/api/v1/auth/logout", headers=self._headers())
        assert response.status == 204, await response.text()

    def _headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.desk.csrf, "Origin": self.origin}

    def told(self, user_id: int, status: str) -> bool:
        return any(m["user_id"] == user_id and m["status"] == status for m in self.heard)

    async def close(self) -> None:
        for console in self.consoles:
            if console.connected:
                await console.disconnect()
        await self.desk.client.close()


class People:
    """Signs users in; their sessions and consoles are closed at the end."""

    def __init__(self) -> None:
        self.made: list[Person] = []

    async def sign_in(self, pool: asyncpg.Pool, base_url: str, origin: str, role: str) -> Person:
        async with pool.acquire() as conn:
            username, actor = await make_user(conn, role)
        client = aiohttp.ClientSession(
            base_url=base_url,
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            headers={"Origin": origin},
        )
        assert actor.user_id is not None
        desk = Desk(client, await log_in(client, username))
        self.made.append(Person(base_url, origin, actor.user_id, desk))
        return self.made[-1]


@pytest.fixture
async def people() -> AsyncIterator[People]:
    made = People()
    yield made
    for person in made.made:
        await person.close()


async def board_status(supervisor: Person, user_id: int) -> str:
    agents = await supervisor.desk.get("/api/v1/agents")
    (row,) = [a for a in agents["items"] if a["id"] == user_id]
    return str(row["status"])


async def presence_row(pool: asyncpg.Pool, user_id: int) -> asyncpg.Record:
    row = await pool.fetchrow(
        "SELECT status, away_since FROM agent_status WHERE user_id = $1", user_id
    )
    assert row is not None
    return row


async def test_an_agent_whose_console_closes_goes_offline_after_the_grace_and_the_board_hears_it(
    quick: TestServer,
    settings: Settings,
    pool: asyncpg.Pool,
    people: People,
) -> None:
    url = str(quick.make_url("/"))
    supervisor = await people.sign_in(pool, url, settings.base_url, "supervisor")
    agent = await people.sign_in(pool, url, settings.base_url, "agent")
    await supervisor.open_console()
    console = await agent.open_console()
    await agent.set_status("available")

    async def board_told_available() -> bool:
        return supervisor.told(agent.user_id, "available")

    await until(board_told_available, "the board hears the agent is available")
    assert agent.told(agent.user_id, "available")  # the agent's own console too
    assert await board_status(supervisor, agent.user_id) == "available"

    await console.disconnect()

    async def board_told_offline() -> bool:
        return supervisor.told(agent.user_id, "offline")

    await until(board_told_offline, "the board hears the agent went offline", attempts=600)
    assert await board_status(supervisor, agent.user_id) == "offline"


async def test_a_console_reconnecting_within_the_grace_changes_nothing(
    patient: TestServer,
    settings: Settings,
    pool: asyncpg.Pool,
    people: People,
) -> None:
    url = str(patient.make_url("/"))
    presence = patient.app[PRESENCE]
    supervisor = await people.sign_in(pool, url, settings.base_url, "supervisor")
    agent = await people.sign_in(pool, url, settings.base_url, "agent")
    await supervisor.open_console()
    console = await agent.open_console()
    await agent.set_status("busy")
    await console.disconnect()

    async def noticed_away() -> bool:
        return (await presence_row(pool, agent.user_id))["away_since"] is not None

    await until(noticed_away, "a sweep notices the agent has no console", attempts=600)
    away_since = (await presence_row(pool, agent.user_id))["away_since"]
    await agent.open_console()  # a page reload, a network blip

    async def noticed_back() -> bool:
        return (await presence_row(pool, agent.user_id))["away_since"] is None

    await until(noticed_back, "a sweep notices the agent is back", attempts=600)

    # Sweeps go on past the moment the agent would have gone offline.
    async def grace_long_past() -> bool:
        return bool(
            await pool.fetchval(
                "SELECT now() > $1::timestamptz + 2 * $2::interval",
                away_since,
                dt.timedelta(seconds=RECONNECT_GRACE_SECONDS),
            )
        )

    await until(grace_long_past, "twice the grace period", attempts=600)
    target = presence.passes + 2
    await until(_at_least(lambda: presence.passes, target), "two more sweeps")
    row = await presence_row(pool, agent.user_id)
    assert row["status"] == "busy" and row["away_since"] is None
    assert not supervisor.told(agent.user_id, "offline")
    assert await board_status(supervisor, agent.user_id) == "busy"


def _at_least(value: Callable[[], int], target: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return value() >= target

    return check


async def test_logging_out_sets_the_agent_offline_at_once(
    server: TestServer,
    settings: Settings,
    pool: asyncpg.Pool,
    people: People,
) -> None:
    # The shared server's grace period is the default 30 s: no sweep does this.
    url = str(server.make_url("/"))
    supervisor = await people.sign_in(pool, url, settings.base_url, "supervisor")
    agent = await people.sign_in(pool, url, settings.base_url, "agent")
    await supervisor.open_console()
    await agent.open_console()
    await agent.set_status("available")
    await agent.log_out()
    assert await board_status(supervisor, agent.user_id) == "offline"

    async def board_told_offline() -> bool:
        return supervisor.told(agent.user_id, "offline")

    await until(board_told_offline, "the board hears the agent logged out")


async def test_the_connections_of_a_killed_web_process_expire(
    services: ServiceUrls,
    fresh_database: Callable[[str], Awaitable[str]],
    tmp_path: Path,
    people: People,
) -> None:
    url = await new_database(fresh_database, "presence")
    settings = deployment_settings(url, services.redis_url)
    pool = await db.create_pool(url, min_size=1, max_size=2)
    try:
        async with deployment(
            settings,
            tmp_path,
            HOTLINE_LIVE_CHANNEL=f"live-{uuid.uuid4().hex[:8]}",
            HOTLINE_AGENT_PRESENCE_GRACE_SECONDS=str(GRACE_SECONDS),
            HOTLINE_LIVE_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS),
        ) as processes:
            web_a, web_b = processes.start("web", "web-a"), processes.start("web", "web-b")
            await processes.wait_until_healthy(web_a, web_b)
            agent = await people.sign_in(pool, web_a.url, PUBLIC_URL, "agent")
            supervisor = await people.sign_in(pool, web_b.url, PUBLIC_URL, "supervisor")
            await supervisor.open_console()
            await agent.open_console()
            await agent.set_status("available")

            async def connected_on_a() -> bool:
                return bool(
                    await pool.fetchval(
                        "SELECT count(*) FROM live_connections WHERE user_id = $1",
                        agent.user_id,
                    )
                )

            await until(connected_on_a, "web A records the agent's console")
            web_a.kill()  # no disconnect, no cleanup: its rows stay until they expire

            async def board_told_offline() -> bool:
                return supervisor.told(agent.user_id, "offline")

            await until(board_told_offline, "web B's sweep sets the agent offline", attempts=800)
            assert await board_status(supervisor, agent.user_id) == "offline"
            assert not await connected_on_a()
    finally:
        await pool.close()
