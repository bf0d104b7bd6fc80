"""The browser tests' stack and helpers: the running system (``hotline web``, a worker
and the relay on a database of each test module's own), a headless Chromium driven by
Playwright, and what the tests do with pages. ``tests/conftest.py`` makes the fixtures
(``stack``, ``consoles``) every module's; a module imports the helpers it uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    async_playwright,
    expect,
)

from hotline import db
from hotline.migrate import migrate
from hotline.settings import Settings
from testkit.local_server import free_port
from testkit.twilio import ACCOUNT_SID, TOKEN, FakeTwilioRest, post_webhook, sid
from tests.factories import PASSWORD, make_user
from tests.test_twilio_intake import call_params, gather_params
from wiring.seed import seed_reference

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A browser test module's mark: ``pytestmark = needs_chromium``.
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (.ci/run installs it)"
)


# Every Content-Security-Policy violation, logged as an error the test then fails on
# (Chromium logs most as "Refused to …" itself; this catches them all, with the source).
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.effectiveDirective} blocked ${event.blockedURI}`
    + ` at ${event.sourceFile}:${event.lineNumber}`);
});
"""


@dataclass
class Stack:
    """The running system: its URL, its database, the people who sign in."""

    base: str
    pool: asyncpg.Pool
    users: dict[str, str]
    logs: Path
    session: aiohttp.ClientSession
    # Twilio's REST API, which keeps the recorded messages the consoles play.
    rest: FakeTwilioRest
    browser: Browser | None = None
    contexts: list[BrowserContext] = field(default_factory=list)
    # What went wrong in the pages' scripts: uncaught errors and console.error (the
    # console's Vue error handler logs there), each test's checked when it ends.
    script_errors: list[str] = field(default_factory=list)

    def watch(self, page: Page, name: str) -> None:
        def console(message: ConsoleMessage) -> None:
            # Chromium logs every 4xx answer too, and some tests provoke one on purpose:
            # those are the API's to judge (a fresh visit has none: see the quiet test).
            if message.type == "error" and not message.text.startswith("Failed to load resource"):
                self.script_errors.append(f"{name}: {message.text}")

        page.on("pageerror", lambda error: self.script_errors.append(f"{name}: {error}"))
        page.on("console", console)

    async def twilio(self, path: str, params: dict[str, str]) -> str:
        """POST as Twilio does: form fields signed for the public URL."""
        return await post_webhook(self.session, self.base + path, params)

    async def queue_caller(self, hotline: str, phone: str) -> None:
        """A caller dials ``hotline``, presses 1 (repairs) and waits for an agent."""
        call_sid = sid("CA")
        await self.twilio("/twilio/voice", call_params(call_sid, hotline, phone))
        await self.twilio("/twilio/voice/menu", gather_params(call_sid, hotline, "1"))

    async def api(self, username: str) -> Desk:
        # unsafe: keep cookies of an IP-address host (127.0.0.1).
        client = aiohttp.ClientSession(
            base_url=self.base, cookie_jar=aiohttp.CookieJar(unsafe=True)
        )
        response = await client.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert response.status == 200, await response.text()
        return Desk(client, (await response.json())["csrf_token"])

    async def page(self, name: str, **options: Any) -> Page:
        """A browser of its own (``options`` for its context), watched for script errors
        and CSP violations."""
        assert self.browser is not None
        context = await self.browser.new_context(
            **{"viewport": {"width": 1600, "height": 1000}, **options}
        )
        self.contexts.append(context)
        await context.add_init_script(CSP_WATCH)
        page = await context.new_page()
        self.watch(page, name)
        return page

    async def console(self, name: str, **options: Any) -> Page:
        """A browser of its own (``options`` for its context), signed in through the login
        page as ``name``."""
        page = await self.page(name, **options)
        await page.goto(self.base + "/")
        await page.locator("input[name=username]").fill(self.users[name])
        await page.locator("input[name=password]").fill(PASSWORD)
        await page.locator("[data-test=login-submit]").click()
        await expect(page.locator("[data-test=live-state].connected")).to_be_visible(timeout=10000)
        return page


@dataclass
class Desk:
    client: aiohttp.ClientSession
    csrf: str

    async def post(self, path: str, body: dict[str, Any], status: int = 200) -> Any:
        response = await self.client.post(path, json=body, headers={"X-CSRF-Token": self.csrf})
        text = await response.text()
        assert response.status == status, f"{path}: {response.status} {text}"
        return await response.json()

    async def get(self, path: str, **params: str) -> Any:
        response = await self.client.get(path, params=params)
        assert response.status == 200, await response.text()
        return await response.json()


@contextlib.contextmanager
def processes(env: dict[str, str], logs: Path) -> Iterator[None]:
    """``hotline web``, a worker and the relay, stopped at the end."""
    started = []
    try:
        for command in ("web", "worker", "relay"):
            log = (logs / f"{command}.log").open("wb")
            started.append(
                subprocess.Popen(
                    [sys.executable, "-m", "wiring.cli", command],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        yield
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


async def _wait_until_up(session: aiohttp.ClientSession, base: str, logs: Path) -> None:
    for _ in range(150):
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(base + "/health") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.2)
    raise AssertionError("hotline web did not start:\n" + (logs / "web.log").read_text())


@pytest.fixture(scope="module")
async def stack(
    settings: Settings,
    fresh_database: Callable[[str], Awaitable[str]],
    tmp_path_factory: Any,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Stack]:
    # A database per module: other modules use this stack too (one each).
    url = await fresh_database("console_" + request.module.__name__.rsplit(".", 1)[-1])
    await migrate(url)
    pool = await db.create_pool(url)
    async with pool.acquire() as conn:
        await seed_reference(conn)
        users = {
            "agent": (await make_user(conn, "agent", hotline_code="96111"))[0],
            "supervisor": (await make_user(conn, "supervisor"))[0],
            "water": (await make_user(conn, "enterprise_user", enterprise_code="qd-water"))[0],
            "colleague": (await make_user(conn, "agent", hotline_code="96111"))[0],
        }
        # Names as people have them, for the screenshots.
        for name, shown in (
            ("agent", "王芳"),
            ("supervisor", "张伟"),
            ("water", "刘洋"),
            ("colleague", "李娜"),
        ):
            await conn.execute(
                "UPDATE users SET display_name = $2 WHERE username = $1", users[name], shown
            )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("console-logs")
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": url,
        "HOTLINE_REDIS_URL": settings.redis_url or "",
        "HOTLINE_QUEUE_NAME": f"console-{uuid.uuid4().hex[:8]}",
        "HOTLINE_PORT": str(port),
        "HOTLINE_PUBLIC_URL": base,
        "HOTLINE_TWILIO_AUTH_TOKEN": TOKEN,
        "HOTLINE_RELAY_INTERVAL": "0.1",
    }
    ARTIFACTS.mkdir(exist_ok=True)
    async with aiohttp.ClientSession() as session, async_playwright() as playwright:
        with (
            FakeTwilioRest() as rest,
            processes(
                {
                    **env,
                    "HOTLINE_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                    "HOTLINE_TWILIO_API_BASE": rest.base,
                },
                logs,
            ),
        ):
            await _wait_until_up(session, base, logs)
            stack = Stack(base, pool, users, logs, session, rest)
            supervisor = await stack.api(users["supervisor"])
            ids = {
                e["code"]: e["id"] for e in (await supervisor.get("/api/v1/enterprises"))["items"]
            }
            for domain, unit in (("water", "qd-water"), ("heating", "qd-energy")):
                await supervisor.post(
                    "/api/v1/routing/rules",
                    {"domain": domain, "candidates": [ids[unit]], "note": "默认承办"},
                    status=201,
                )
            await supervisor.client.close()
            stack.browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                yield stack
            finally:
                await stack.browser.close()
    await pool.close()


@pytest.fixture
async def consoles(stack: Stack) -> AsyncIterator[Stack]:
    """The stack, with the browser contexts a test opened closed after it."""
    yield stack
    for context in stack.contexts:
        await context.close()
    stack.contexts.clear()
    errors = list(stack.script_errors)
    stack.script_errors.clear()
    assert errors == [], "errors in the consoles' scripts"


async def register_with_keys(agent: Page) -> dict[str, Any]:
    """Ctrl+Enter on the entry form; the order the API answered."""
    async with agent.expect_response(
        lambda r: r.url.endswith("/api/v1/orders") and r.request.method == "POST"
    ) as info:
        await agent.keyboard.press("Control+Enter")
    response = await info.value
    assert response.status == 201, await response.text()
    order: dict[str, Any] = await response.json()
    return order


async def dispatched_order(stack: Stack, phone: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """An order the agent registers, once routing has dispatched it to 青岛水务集团; returns
    the order and the unit's inbox row."""
    agent = await stack.api(stack.users["agent"])
    water = await stack.api(stack.users["water"])
    try:
        order = await agent.post(
            "/api/v1/orders",
            {
                "hotline": "96111",
                "service_item": "W05",
                "description": "延安三路小区门口水管破裂，路面积水",
                "address": "延安三路 88 号",
                "caller_phone": phone,
                "caller_name": "李女士",
            },
            status=201,
        )
        dispatch = None
        for _ in range(50):
            rows = (await water.get("/api/v1/inbox"))["items"]
            dispatch = next((r for r in rows if r["order_id"] == order["id"]), None)
            if dispatch:
                break
            await asyncio.sleep(0.2)
        assert dispatch is not None, "the order never reached the unit"
    finally:
        await agent.client.close()
        await water.client.close()
    return order, dispatch


PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


async def shoot(page: Page, path: Path, *, full_page: bool = False) -> None:
    """A screenshot of the screen once the messages that come and go over it have gone."""
    await expect(page.locator(".el-message")).to_have_count(0, timeout=10000)
    await page.screenshot(path=path, full_page=full_page)


# The innermost elements reaching past the screen's right edge, to say what is too wide.
# (innerWidth will not do: a phone widens its layout viewport to what the page needs.)
WIDEST = """(width) =>
[...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().right > width + 1)
  .filter((e) => ![...e.children].some((c) => c.getBoundingClientRect().right > width + 1))
  .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")}`)
"""


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    wide = await page.evaluate(WIDEST, 390)
    assert width <= 390, f"the page is {width} px wide at 390: {wide}"


async def switch_language(page: Page) -> None:
    await page.locator("[data-test=lang]").first.click()


async def settled(page: Page) -> None:
    """Until the page's transitions (a dialog opening) have ended."""
    await page.evaluate(
        "Promise.all(document.getAnimations().map((a) => a.finished.catch(() => null)))"
    )
