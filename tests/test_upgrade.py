"""Migrations under a running app: with ``hotline web`` serving a steady stream of reads
and writes, an additive migration (the real ones plus a new one, from a directory of
its own) is applied, and no request fails. docs/deploy.md states the rule."""

from __future__ import annotations

import asyncio
import collections
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import asyncpg

from hotline import db
from hotline.migrate import MIGRATIONS_DIR, migrate
from tests.factories import PASSWORD, make_user
from tests.process_support import PUBLIC_URL, deployment, deployment_settings, new_database
from wiring.services import ServiceUrls

# What a next release might add: columns on the busiest tables (read with SELECT * and
# RETURNING * by the running code), a new table and an index.
ADDITIVE = """
ALTER TABLE work_orders ADD COLUMN channel_ref text;
ALTER TABLE order_events ADD COLUMN next_release_note text;
ALTER TABLE outbox ADD COLUMN next_release_note text;
ALTER TABLE users ADD COLUMN next_release_note text;
ALTER TABLE sessions ADD COLUMN next_release_note text;
CREATE TABLE order_tags (
    order_id bigint NOT NULL REFERENCES work_orders (id),
    tag      text NOT NULL,
    PRIMARY KEY (order_id, tag)
);
CREATE INDEX work_orders_channel_ref_idx ON work_orders (channel_ref)
    WHERE channel_ref IS NOT NULL;
"""
LANES = 6
BEFORE = AFTER = 150  # requests answered before the migration starts and after it ends


async def test_an_additive_migration_applied_under_load_fails_no_request(
    services: ServiceUrls,
    fresh_database: Callable[[str], Awaitable[str]],
    tmp_path: Path,
) -> None:
    url = await new_database(fresh_database, "upgrade")
    settings = deployment_settings(url, services.redis_url)
    next_release = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, next_release)
    (next_release / "0999_next_release.sql").write_text(ADDITIVE)
    pool = await db.create_pool(url, min_size=1, max_size=2)
    async with pool.acquire() as conn:
        username, _ = await make_user(conn, "agent")
    await pool.close()

    answered: collections.Counter[tuple[str, int]] = collections.Counter()
    failures: list[str] = []
    count = 0
    stop = asyncio.Event()

    async def lane(session: aiohttp.ClientSession, csrf: str, n: int) -> None:
        nonlocal count
        while not stop.is_set():
            n += LANES
            requests = [
                (
                    "register",
                    session.post(
                        "/api/v1/orders",
                        json={
                            "hotline": "96111",
                            "service_item": "W01",
                            "area": "370202",
                            "description": f"升级中受理 #{n}",
                            "caller_phone": "13812345678",
                        },
                        headers={"X-CSRF-Token": csrf},
                    ),
                ),
                ("list", session.get("/api/v1/orders", params={"limit": "20"})),
                ("ready", session.get("/ready")),
            ]
            order_id = None
            for name, request in requests:
                async with request as response:
                    answered[(name, response.status)] += 1
                    body = await response.json()
                    if response.status not in (200, 201):
                        failures.append(f"{name} {response.status}: {body}")
                    if name == "register" and response.status == 201:
                        order_id = body["id"]
            if order_id is not None:
                follow_ups = [
                    ("detail", session.get(f"/api/v1/orders/{order_id}")),
                    # A state change: the order locked, moved and logged in one transaction.
                    (
                        "resolve",
                        session.post(
                            f"/api/v1/orders/{order_id}/resolve-on-call",
                            json={"reply": "已当场答复"},
                            headers={"X-CSRF-Token": csrf},
                        ),
                    ),
                ]
                for name, request in follow_ups:
                    async with request as response:
                        answered[(name, response.status)] += 1
                        if response.status != 200:
                            failures.append(f"{name} {response.status}: {await response.text()}")
            count += 1

    async def answered_at_least(target: int) -> None:
        while count < target:
            assert not failures, failures
            await asyncio.sleep(0.05)

    async with deployment(settings, tmp_path) as processes:
        web = await processes.start_web("web")
        async with aiohttp.ClientSession(
            base_url=web.url,
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            headers={"Origin": PUBLIC_URL},
        ) as session:
            login = await session.post(
                "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
            )
            csrf = (await login.json())["csrf_token"]
            lanes = [asyncio.create_task(lane(session, csrf, n)) for n in range(LANES)]
            try:
                await answered_at_least(BEFORE // 4)
                applied = await migrate(url, next_release)
                after_migration = count
                await answered_at_least(after_migration + AFTER // 4)
            finally:
                stop.set()
                await asyncio.gather(*lanes)
        ready = await (await aiohttp.ClientSession().get(f"{web.url}/ready")).json()
    assert [m.name for m in applied] == ["next_release"]
    assert failures == []
    assert set(answered) == {
        ("register", 201),
        ("list", 200),
        ("ready", 200),
        ("detail", 200),
        ("resolve", 200),
    }
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM work_orders WHERE channel_ref IS NULL") > 0
    finally:
        await conn.close()
    assert ready["migrations"]["ahead"] == ["0999"]
