"""Helpers for tests that drive orders through routing with the real relay and worker."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from redis import Redis
from rq import Queue

from hotline.context import utcnow
from hotline.relay import CORE_CHORES, Chore, Relay
from hotline.settings import Settings
from tests.factories import log_in, make_user
from wiring.subscriptions import relay_sources


class Desk:
    """A logged-in browser: its session and CSRF token."""

    def __init__(self, client: ClientSession, csrf: str) -> None:
        self.client = client
        self.csrf = csrf

    async def get(self, path: str, **params: str) -> Any:
        response = await self.client.get(path, params=params)
        assert response.status == 200, f"{path}: {response.status} {await response.text()}"
        return await response.json()

    async def post(self, path: str, body: dict[str, Any] | None = None, status: int = 200) -> Any:
        response = await self.client.post(
            path, json=body or {}, headers={"X-CSRF-Token": self.csrf}
        )
        text = await response.text()
        assert response.status == status, f"{path}: {response.status} {text}"
        return await response.json() if text else None


async def desk(
    server_url: str,
    pool: asyncpg.Pool,
    role: str,
    *,
    enterprise_code: str | None = None,
    hotline_code: str | None = None,
) -> Desk:
    async with pool.acquire() as conn:
        username, _ = await make_user(
            conn, role, enterprise_code=enterprise_code, hotline_code=hotline_code
        )
    client = ClientSession(base_url=server_url, cookie_jar=_jar())
    return Desk(client, await log_in(client, username))


# The people tests sign in as: role and, for enterprise users, their enterprise.
DESK_ROLES: dict[str, tuple[str, str | None]] = {
    "agent": ("agent", None),
    "supervisor": ("supervisor", None),
    "water": ("enterprise_user", "qd-water"),
    "billing": ("enterprise_user", "qd-billing"),
    "heat": ("enterprise_user", "huadian-heat"),
    "energy": ("enterprise_user", "qd-energy"),
}


@contextlib.asynccontextmanager
async def open_desks(
    server: TestServer, pool: asyncpg.Pool, *names: str
) -> AsyncIterator[dict[str, Desk]]:
    """Signed-in desks by name (see DESK_ROLES), closed at the end."""
    url = str(server.make_url("/"))
    made = {}
    try:
        for name in names:
            role, enterprise = DESK_ROLES[name]
            made[name] = await desk(url, pool, role, enterprise_code=enterprise)
        yield made
    finally:
        for opened in made.values():
            await opened.client.close()


def _jar() -> Any:
    import aiohttp

    return aiohttp.CookieJar(unsafe=True)


async def enterprise_ids(desk: Desk) -> dict[str, int]:
    """Enterprise code → id, as the API lists them."""
    items = (await desk.get("/api/v1/enterprises"))["items"]
    return {e["code"]: e["id"] for e in items}


async def run_worker() -> None:
    """One burst of the real worker command, in its own process."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wiring.cli",
        "worker",
        "--burst",
        env=dict(os.environ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()


def relay_for_tests(
    pool: asyncpg.Pool,
    settings: Settings,
    *,
    at: dt.datetime | None = None,
    chores: tuple[Chore, ...] = CORE_CHORES,
) -> Relay:
    """A relay of every package's sources into the test run's queues, on the clock of
    ``at`` (default now), doing ``chores``."""
    assert settings.redis_url
    connection = Redis.from_url(settings.redis_url)
    return Relay(
        pool,
        Queue(settings.queue_name, connection=connection),
        sources=relay_sources(),
        chores=chores,
        clock=(lambda: at) if at else utcnow,
        timer_queue=Queue(settings.timer_queue_name, connection=connection),
    )


async def settle(
    pool: asyncpg.Pool, settings: Settings, *, at: dt.datetime | None = None, rounds: int = 6
) -> None:
    """Relay what is due (at ``at``, default now) and let the worker run it, until quiet."""
    relay = relay_for_tests(pool, settings, at=at)
    for _ in range(rounds):
        counts = await relay.run_once()
        if not any(counts.values()):
            return
        await run_worker()
    raise AssertionError("jobs kept coming")


async def order_events(desk: Desk, order_id: int) -> list[str]:
    return [e["type"] for e in (await desk.get(f"/api/v1/orders/{order_id}"))["events"]]
