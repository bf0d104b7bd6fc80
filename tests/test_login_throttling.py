"""Login throttling (issue 14, item 5): wrong passwords slow an account and an address
down (429 with Retry-After), then lock the account until an admin unlocks it; every
attempt is recorded where supervisors can read it.

A server of its own, with small limits, its own clock (waits pass by setting it, not by
sleeping) and 127.0.0.1 as a trusted proxy, so each test speaks from addresses of its own
through X-Forwarded-For.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from hotline.settings import Settings
from hotline.users.throttle import address_key
from tests.factories import PASSWORD, Clock, make_user
from wiring.app import create_app
from wiring.cli import main

FREE, ADDRESS_FREE, LOCKOUT = 3, 6, 6
_addresses = itertools.count(1)


def new_address() -> str:
    return f"198.51.100.{next(_addresses)}"


@pytest.fixture(scope="module")
def login_clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
async def throttled(settings: Settings, login_clock: Clock) -> AsyncIterator[TestServer]:
    limits = {
        "login_free_failures": FREE,
        "login_address_free_failures": ADDRESS_FREE,
        "login_lockout_failures": LOCKOUT,
        "login_max_delay_seconds": 60,
        "trusted_proxies": "127.0.0.1/32",
    }
    server = TestServer(create_app(settings.model_copy(update=limits), clock=login_clock))
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def browser(throttled: TestServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        base_url=str(throttled.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as session:
        yield session


@pytest.fixture(autouse=True)
def _start_now(login_clock: Clock) -> Clock:
    login_clock.set(dt.datetime.now(dt.UTC))
    return login_clock


async def attempt(
    browser: aiohttp.ClientSession, username: str, password: str, address: str
) -> tuple[int, dict[str, Any], str | None]:
    """A login as a fresh browser would send it (a live session's cookie would also ask
    for its CSRF token); the session it opens stays in the jar."""
    browser.cookie_jar.clear()
    async with browser.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": address},
    ) as response:
        return response.status, await response.json(), response.headers.get("Retry-After")


async def new_user(pool: asyncpg.Pool, role: str = "agent", **kwargs: str) -> str:
    async with pool.acquire() as conn:
        username, _ = await make_user(conn, role, **kwargs)
    return username


def later(clock: Clock, seconds: float) -> None:
    assert clock.fixed is not None
    clock.set(clock.fixed + dt.timedelta(seconds=seconds))


async def test_wrong_passwords_get_401_then_429_then_a_lockout_that_an_admin_lifts(
    browser: aiohttp.ClientSession, pool: asyncpg.Pool, login_clock: Clock
) -> None:
    victim = await new_user(pool, "admin")
    address = new_address()
    for _ in range(FREE):
        status, body, _ = await attempt(browser, victim, "wrong-password", address)
        assert (status, body["error"]["code"]) == (401, "bad_credentials")

    # The wait after each failure beyond the free ones doubles: 1 s, 2 s, 4 s …
    status, body, retry = await attempt(browser, victim, "wrong-password", address)
    assert (status, body["error"]["code"], retry) == (429, "too_many_requests", "1")
    # Refused before its password is looked at: even the right one waits.
    status, _, retry = await attempt(browser, victim, PASSWORD, address)
    assert (status, retry) == (429, "1")
    # Another address changes nothing: the account itself waits.
    status, _, _ = await attempt(browser, victim, "wrong-password", new_address())
    assert status == 429
    for failures in range(FREE, LOCKOUT):
        later(login_clock, 2 ** (failures - FREE))
        status, _, _ = await attempt(browser, victim, "wrong-password", address)
        assert status == 401
        status, _, retry = await attempt(browser, victim, "wrong-password", address)
        if failures + 1 < LOCKOUT:
            assert (status, retry) == (429, str(2 ** (failures + 1 - FREE)))

    # Locked: no wait helps, and the right password is refused too.
    later(login_clock, 3600)
    status, body, retry = await attempt(browser, victim, PASSWORD, new_address())
    assert (status, body["error"]["code"], retry) == (403, "account_locked", None)

    admin = await new_user(pool, "admin")
    status, body, _ = await attempt(browser, admin, PASSWORD, new_address())
    assert status == 200
    unlock = await browser.post(
        "/api/v1/auth/unlock",
        json={"username": victim.upper()},
        headers={"X-CSRF-Token": body["csrf_token"]},
    )
    assert unlock.status == 200 and (await unlock.json())["unlocked"] is True
    status, body, _ = await attempt(browser, victim, PASSWORD, address)
    assert status == 200, body
    # A success forgets the account's failures: it starts afresh.
    status, _, _ = await attempt(browser, victim, "wrong-password", address)
    assert status == 401


async def test_attempts_sent_at_once_are_counted_one_after_another(
    browser: aiohttp.ClientSession, pool: asyncpg.Pool
) -> None:
    """Twenty wrong passwords at once on a fresh account: as many get checked as one
    after another would (the free ones), the rest wait; none fails with a 5xx."""
    victim = await new_user(pool)
    address = new_address()

    async def one() -> int:
        async with browser.post(
            "/api/v1/auth/login",
            json={"username": victim, "password": "wrong-password"},
            headers={"X-Forwarded-For": address},
        ) as response:
            return response.status

    statuses = sorted(await asyncio.gather(*(one() for _ in range(20))))
    assert statuses == [401] * FREE + [429] * (20 - FREE)


async def test_the_command_unlocks_an_account(
    browser: aiohttp.ClientSession, pool: asyncpg.Pool, login_clock: Clock, settings: Settings
) -> None:
    victim = await new_user(pool)
    address = new_address()
    for failures in range(LOCKOUT):
        later(login_clock, 3600)  # never made to wait: only the lockout stands
        status, _, _ = await attempt(browser, victim, "wrong-password", address)
        assert status == 401, failures
    status, body, _ = await attempt(browser, victim, PASSWORD, address)
    assert (status, body["error"]["code"]) == (403, "account_locked")

    # The command runs its own event loop: in a thread of its own, as from a shell.
    assert await asyncio.to_thread(main, ["user", "unlock", victim]) == 0
    later(login_clock, 60)  # the address's own wait, after its failures
    status, _, _ = await attempt(browser, victim, PASSWORD, address)
    assert status == 200


async def test_one_address_is_throttled_across_accounts(
    browser: aiohttp.ClientSession, pool: asyncpg.Pool, login_clock: Clock
) -> None:
    """An address trying many names (none more than twice) is slowed down all the same,
    whether the names exist or not; other addresses are not."""
    address = new_address()
    names = [await new_user(pool) for _ in range(3)] + ["nobody-such", "nor-this-one"]
    tried = itertools.cycle(names)
    for _ in range(ADDRESS_FREE):
        status, _, _ = await attempt(browser, next(tried), "wrong-password", address)
        assert status == 401
    fresh = await new_user(pool)
    status, _, retry = await attempt(browser, fresh, PASSWORD, address)
    assert (status, retry) == (429, "1")
    # The same address in another IPv6 spelling, another in its /64: the same client.
    assert address_key("2001:db8:1:2::5") == address_key("2001:db8:1:2:ffff::1")
    assert address_key(f"::ffff:{address}") == address
    status, _, _ = await attempt(browser, fresh, PASSWORD, f"::ffff:{address}")
    assert status == 429
    status, _, _ = await attempt(browser, fresh, PASSWORD, new_address())
    assert status == 200
    later(login_clock, 1)
    status, _, _ = await attempt(browser, fresh, PASSWORD, address)
    assert status == 200
    # A success ends the address's run of failures: the next wrong one is a plain 401.
    status, _, _ = await attempt(browser, "nobody-such", "wrong-password", address)
    assert status == 401


async def test_attempts_are_recorded_and_read_by_supervisors_only(
    browser: aiohttp.ClientSession,
    pool: asyncpg.Pool,
    client: aiohttp.ClientSession,
    throttled: TestServer,
) -> None:
    victim = await new_user(pool)
    address = new_address()
    for password in ("wrong-password", PASSWORD):
        await attempt(browser, victim, password, address)
    await attempt(browser, "no-such-user-at-all", "wrong-password", address)

    supervisor = await new_user(pool, "supervisor")
    status, _, _ = await attempt(browser, supervisor, PASSWORD, new_address())
    assert status == 200
    page = await browser.get("/api/v1/auth/attempts", params={"address": address, "limit": "2"})
    assert page.status == 200, await page.text()
    first = await page.json()
    assert [(a["username"], a["result"]) for a in first["items"]] == [
        ("no-such-user-at-all", "bad_credentials"),
        (victim, "success"),
    ]
    assert first["items"][0]["user_id"] is None and first["items"][1]["user_id"] is not None
    assert first["items"][1]["address"] == address and first["items"][1]["at"]
    rest = await browser.get(
        "/api/v1/auth/attempts", params={"address": address, "cursor": first["next_cursor"]}
    )
    second = await rest.json()
    assert [(a["username"], a["result"]) for a in second["items"]] == [(victim, "bad_credentials")]
    assert second["next_cursor"] is None
    by_name = await browser.get("/api/v1/auth/attempts", params={"username": victim.upper()})
    assert len((await by_name.json())["items"]) == 2
    bad = await browser.get("/api/v1/auth/attempts", params={"cursor": "x"})
    assert bad.status == 422 and (await bad.json())["error"]["code"] == "invalid_cursor"

    for role, extra in (("agent", {}), ("enterprise_user", {"enterprise_code": "qd-water"})):
        async with aiohttp.ClientSession(
            base_url=str(throttled.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
        ) as other:
            name = await new_user(pool, role, **extra)
            status, body, _ = await attempt(other, name, PASSWORD, new_address())
            assert status == 200
            refused = await other.get("/api/v1/auth/attempts")
            assert (await refused.json())["error"]["code"] == "role_forbidden"
            unlock = await other.post(
                "/api/v1/auth/unlock",
                json={"username": victim},
                headers={"X-CSRF-Token": body["csrf_token"]},
            )
            assert (unlock.status, (await unlock.json())["error"]["code"]) == (
                403,
                "role_forbidden",
            )
    anonymous = await client.get("/api/v1/auth/attempts")
    assert anonymous.status == 401


def test_user_add_refuses_a_short_password(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["user", "add", "short-pw", "--role", "agent", "--password", "elevenchars"]) == 2
    assert "password: must be at least 12 characters" in capsys.readouterr().err
    assert main(["user", "add", "long-pw", "--role", "agent", "--password", "twelve-chars"]) == 0
