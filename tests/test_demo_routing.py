"""A fresh install routes (issue 15, item 1): on a database loaded as ``hotline seed
--demo-users`` loads it, the demo agents' orders reach the expected units through the
real relay and worker; the domain fallback; an item of no domain goes to coordination;
``hotline call`` places a signed test SMS and call on a running web."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from hotline import db
from hotline.context import utcnow
from hotline.migrate import migrate
from hotline.settings import Settings
from testkit.local_server import free_port
from testkit.twilio import TOKEN
from tests.conftest import MakeDatabase
from tests.factories import Clock
from tests.routing_support import Desk, settle
from wiring.app import create_app
from wiring.seed import DEMO_USERS, seed_demo_users, seed_reference, seed_routing

FALLBACK = "没有匹配的派单规则，按领域兜底"


@pytest.fixture(scope="module")
def demo_url(fresh_database: MakeDatabase) -> str:
    """A new database, migrated and loaded with the demo data and users."""

    async def make() -> str:
        url = await fresh_database("demo_routing")
        await migrate(url)
        conn = await db.connect(url)
        try:
            await seed_reference(conn)
            await seed_routing(conn, utcnow())
            await seed_demo_users(conn)
        finally:
            await conn.close()
        return url

    return asyncio.run(make())


@pytest.fixture
def demo_settings(
    demo_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """The run's settings on the demo database; the worker of ``settle`` reads it from
    the environment. The web's public URL is its own address, its Twilio token known."""
    base = f"http://127.0.0.1:{free_port()}"
    for name, value in (
        ("HOTLINE_DATABASE_URL", demo_url),
        ("HOTLINE_PUBLIC_URL", base),
        ("HOTLINE_TWILIO_AUTH_TOKEN", TOKEN),
    ):
        monkeypatch.setenv(name, value)
    yield settings.model_copy(
        update={
            "database_url": demo_url,
            "public_url": base,
            "twilio_auth_token": SecretStr(TOKEN),
        }
    )


@pytest.fixture
async def demo(demo_settings: Settings) -> AsyncIterator[tuple[TestServer, asyncpg.Pool]]:
    assert demo_settings.public_url and demo_settings.database_url
    port = int(demo_settings.public_url.rsplit(":", 1)[1])
    server = TestServer(create_app(demo_settings, clock=Clock()), host="127.0.0.1", port=port)
    await server.start_server()
    pool = await db.create_pool(demo_settings.database_url, min_size=1, max_size=2)
    try:
        yield server, pool
    finally:
        await pool.close()
        await server.close()


@contextlib.asynccontextmanager
async def demo_desk(server: TestServer, username: str) -> AsyncIterator[Desk]:
    """Signed in as a demo user, with the password the README gives."""
    password = next(u["password"] for u in DEMO_USERS if u["username"] == username)
    async with aiohttp.ClientSession(
        base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as client:
        response = await client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert response.status == 200, await response.text()
        yield Desk(client, str((await response.json())["csrf_token"]))


async def register(agent: Desk, hotline: str, item: str, area: str | None) -> int:
    body: dict[str, Any] = {
        "hotline": hotline,
        "service_item": item,
        "description": "来电反映问题",
        "address": "测试路 1 号",
    }
    if area is not None:
        body["area"] = area
    return int((await agent.post("/api/v1/orders", body, status=201))["id"])


async def routed(agent: Desk, order_id: int) -> tuple[str, str | None, str]:
    """(status, the lead unit's code, the routing reason) of an order after routing."""
    order = await agent.get(f"/api/v1/orders/{order_id}")
    last = [e for e in order["events"] if e["type"] in ("order.dispatch", "order.escalate")][-1]
    units = {e["id"]: e["code"] for e in (await agent.get("/api/v1/enterprises"))["items"]}
    return order["status"], units.get(order["lead_enterprise_id"]), last["data"]["reason"]


# (hotline, item, area) → the unit the demo sends it to
EXPECTED = [
    ("96111", "W05", "370202001", "qd-water-south"),  # 市南: the southern branch
    ("96111", "W01", "370213001", "qd-water-east"),  # 李沧: the eastern branch
    ("96111", "W02", "370281001", "qd-water"),  # 胶州: the group itself
    ("96556", "G05", "370203002", "qd-energy-gas"),  # gas anywhere: 泰能燃气
    ("96556", "H05", "370203001", "huadian-heat"),  # 市北: 华电热力
    ("96556", "H05", "370211001", "jinhu-heat"),  # 黄岛: 金湖热力
    ("96556", "H02", "370202001", "qd-energy-heat"),  # 市南: 能源热电
    ("12319", "B03", "370215001", "qd-billing"),  # billing anywhere
]
AGENTS = {"96111": "agent96111", "96556": "agent96556", "12319": "agent"}


async def test_the_demo_routes_each_domain_by_district(
    demo: tuple[TestServer, asyncpg.Pool], demo_settings: Settings
) -> None:
    server, pool = demo
    async with contextlib.AsyncExitStack() as stack:
        agents = {
            code: await stack.enter_async_context(demo_desk(server, name))
            for code, name in AGENTS.items()
        }
        orders = [
            (hotline, await register(agents[hotline], hotline, item, area), unit)
            for hotline, item, area, unit in EXPECTED
        ]
        no_area = await register(agents["96111"], "96111", "W05", None)
        complaint = await register(agents["12319"], "12319", "G-COMPLAINT", "370202001")
        await settle(pool, demo_settings)

        # Each agent reads its own hotline's orders (another's are not found).
        for hotline, order_id, unit in orders:
            status, lead, reason = await routed(agents[hotline], order_id)
            assert (status, lead) == ("dispatched", unit), reason
            assert reason.startswith("规则 "), reason
        # An area no rule names (here: none given): the domain's group, and it says so.
        assert await routed(agents["96111"], no_area) == (
            "dispatched",
            "qd-water",
            f"{FALLBACK}：供水类事项 → 青岛水务集团",
        )
        # An item of no domain has no group: coordination, as before.
        assert await routed(agents["12319"], complaint) == (
            "escalated",
            None,
            "没有匹配的派单规则",
        )


async def test_a_district_without_its_rule_goes_to_the_domains_group(
    demo: tuple[TestServer, asyncpg.Pool], demo_settings: Settings
) -> None:
    server, pool = demo
    async with (
        demo_desk(server, "supervisor") as supervisor,
        demo_desk(server, "agent96556") as agent,
    ):
        rules = (await supervisor.get("/api/v1/routing/rules"))["items"]
        laixi = next(r for r in rules if r["domain"] == "heating" and r["area_code"] == "370285")
        await supervisor.post(f"/api/v1/routing/rules/{laixi['id']}/disable")
        order_id = await register(agent, "96556", "H01", "370285001")
        await settle(pool, demo_settings)
        assert await routed(agent, order_id) == (
            "dispatched",
            "qd-energy",
            f"{FALLBACK}：供热类事项 → 青岛能源集团",
        )

    # Loading the demo again keeps the supervisor's change and adds nothing twice.
    async with pool.acquire() as conn:
        assert await seed_routing(conn, utcnow()) == {"domain_groups": 4, "rules": 0}
        assert not await conn.fetchval(
            "SELECT active FROM routing_rules WHERE id = $1", laixi["id"]
        )


async def run_call(*args: str) -> tuple[int, str]:
    """The ``hotline call`` command in its own process, on the environment set."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wiring.cli",
        "call",
        *args,
        env=dict(os.environ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_hotline_call_places_a_signed_sms_and_call(
    demo: tuple[TestServer, asyncpg.Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, pool = demo
    code, output = await run_call("+8613800000015", "家里停水了", "--hotline", "96111")
    assert code == 0, output
    sms = await pool.fetchrow(
        "SELECT hotline_code, body, order_id FROM sms_messages WHERE from_phone = $1",
        "+8613800000015",
    )
    assert sms is not None and (sms["hotline_code"], sms["body"]) == ("96111", "家里停水了")
    draft = await pool.fetchrow(
        "SELECT status, channel FROM work_orders WHERE id = $1", sms["order_id"]
    )
    assert draft is not None and (draft["status"], draft["channel"]) == ("draft", "sms")

    code, output = await run_call("+8613800000016", "--hotline", "96556")
    assert code == 0, output
    call = await pool.fetchrow(
        "SELECT hotline_code, direction FROM calls WHERE from_phone = $1", "+8613800000016"
    )
    assert call is not None and tuple(call) == ("96556", "inbound")

    # A wrong token is what Twilio's real signature check refuses: the command says so.
    monkeypatch.setenv("HOTLINE_TWILIO_AUTH_TOKEN", "not-the-token")
    code, output = await run_call("+8613800000017", "再试一次")
    assert code == 1 and "403" in output

    monkeypatch.setenv("HOTLINE_ENV", "production")
    code, output = await run_call("+8613800000018", "生产环境")
    assert code == 2 and "refused in production" in output
