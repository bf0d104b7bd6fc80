"""Operations endpoints and logs: liveness, readiness, Prometheus metrics, JSON lines
with phone numbers masked."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from callbacks import queries as callback_queries
from callbacks.campaigns import schedule_order_surveys
from callbacks.policy import CallbackPolicy
from hotline import db
from hotline.logs import JsonFormatter, MaskingFormatter
from hotline.migrate import MIGRATIONS_DIR, migrate
from hotline.phones import mask_phone, mask_phones
from hotline.reference.calendar import load_calendar
from hotline.settings import Settings
from tests.factories import PASSWORD, make_user, register_order
from tests.process_support import new_database
from tests.routing_support import open_desks
from web.proxy import client_address, trusted_networks
from wiring.app import create_app
from wiring.services import ServiceUrls, database_of

Fresh = Callable[[str], Awaitable[str]]


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[aiohttp.ClientSession]:
    server = TestServer(create_app(settings))
    await server.start_server()
    try:
        async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as session:
            yield session
    finally:
        await server.close()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_health_is_alive_and_ready_says_the_schema_is_current(
    client: aiohttp.ClientSession,
) -> None:
    response = await client.get("/health")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok" and body["database"]["ok"] and body["redis"]["ok"]
    response = await client.get("/ready")
    body = await response.json()
    assert response.status == 200, body
    assert body["status"] == "ready" and body["problems"] == []
    assert body["migrations"] == {"ok": True, "pending": [], "changed": [], "ahead": []}


async def test_a_schema_behind_the_code_is_not_ready_and_has_no_callback_gauge(
    settings: Settings, fresh_database: Fresh
) -> None:
    url = await fresh_database("behind")
    await migrate(url)
    async with serving(settings.model_copy(update={"database_url": url})) as session:
        # The database loses a migration this code needs, and another one's file differs
        # from what was applied.
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("DROP TABLE callback_attempts CASCADE")
            await conn.execute("DELETE FROM schema_migrations WHERE version = 7")
            await conn.execute("UPDATE schema_migrations SET checksum = 'x' WHERE version = 6")
        finally:
            await conn.close()
        response = await session.get("/ready")
        body = await response.json()
        assert response.status == 503
        assert body["status"] == "not_ready" and body["migrations"]["ok"] is False
        assert body["migrations"]["pending"] == ["0007_callbacks"]
        assert body["migrations"]["changed"] == ["0006_telephony"]
        assert any("migrations not applied: 0007_callbacks" in p for p in body["problems"])
        assert (await session.get("/health")).status == 200
        page = await (await session.get("/metrics")).text()
    names = {name for name, _ in samples(page)}
    assert "hotline_orders_open" in names and "hotline_callbacks_due" not in names


async def test_a_database_ahead_of_the_code_is_still_ready(
    settings: Settings, fresh_database: Fresh, tmp_path: Path
) -> None:
    newer = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, newer)
    (newer / "0999_next_release.sql").write_text("CREATE TABLE next_release (id int);")
    url = await fresh_database("newer")
    await migrate(url, newer)
    async with serving(settings.model_copy(update={"database_url": url})) as session:
        response = await session.get("/ready")
        body = await response.json()
    assert response.status == 200, body
    assert body["migrations"]["ahead"] == ["0999"]


async def test_a_database_outage_keeps_liveness_and_fails_readiness(
    settings: Settings, services: ServiceUrls, fresh_database: Fresh
) -> None:
    url = await fresh_database("outage")
    await migrate(url)
    async with serving(settings.model_copy(update={"database_url": url})) as session:
        assert (await session.get("/ready")).status == 200
        # The database goes away under the running process.
        admin = await asyncpg.connect(services.database_url)
        try:
            await admin.execute(f'DROP DATABASE "{database_of(url)}" WITH (FORCE)')
        finally:
            await admin.close()
        response = await session.get("/health")
        body = await response.json()
        assert response.status == 200 and body["status"] == "ok"
        assert body["database"]["ok"] is False and body["redis"]["ok"] is True
        response = await session.get("/ready")
        body = await response.json()
        assert response.status == 503
        assert any(p.startswith("database does not answer") for p in body["problems"])
        page = await (await session.get("/metrics")).text()
    found = samples(page)
    assert found[("hotline_state_up", ())] == 0
    assert ("hotline_orders_open", ()) not in found


async def test_metrics_count_requests_by_route_and_report_the_backlog(
    server: TestServer, pool: asyncpg.Pool, settings: Settings, client: aiohttp.ClientSession
) -> None:
    async with open_desks(server, pool, "agent") as desks:
        agent = desks["agent"]
        async with pool.acquire() as conn:
            _, actor = await make_user(conn, "agent")
            orders = [
                await register_order(conn, actor, settings, dt.datetime.now(dt.UTC))
                for _ in range(2)
            ]
        for order in orders:
            await agent.get(f"/api/v1/orders/{order['id']}")
        assert (await agent.client.get("/api/v1/orders/999999999")).status == 404
    page = await (await client.get("/metrics")).text()
    found = samples(page)
    route = (("method", "GET"), ("route", "/api/v1/orders/{order_id}"))
    assert found[("hotline_http_requests_total", (*route, ("status", "200")))] >= 2
    assert found[("hotline_http_requests_total", (*route, ("status", "404")))] >= 1
    # One latency observation per request of the route, whatever its status.
    requests = sum(
        value
        for (name, labels), value in found.items()
        if name == "hotline_http_requests_total" and labels[:2] == route
    )
    assert found[("hotline_http_request_duration_seconds_count", route)] == requests
    # Route templates only: no series names a raw id.
    raw = f"/orders/{orders[0]['id']}"
    assert not any(raw in dict(labels).get("route", "") for _, labels in found)
    async with pool.acquire() as conn:
        pending = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE state IN ('pending', 'enqueued')"
        )
        has_callbacks = await conn.fetchval("SELECT to_regclass('callback_attempts') IS NOT NULL")
    assert found[("hotline_outbox_pending", ())] == pending >= 2
    assert found[("hotline_state_up", ())] == 1
    for name in ("hotline_deadlines_pending", "hotline_deadlines_late", "hotline_orders_open"):
        assert (name, ()) in found
    assert found[("hotline_orders_open", ())] >= 2
    assert (("hotline_callbacks_due", ()) in found) == has_callbacks
    for queue in (settings.queue_name, settings.timer_queue_name):
        assert ("hotline_rq_queue_jobs", (("queue", queue),)) in found


async def test_the_backlog_gauges_count_late_work_and_callbacks_due(
    settings: Settings, fresh_database: Fresh
) -> None:
    # A database of its own with no relay or worker draining it: the figures are exact.
    url = await new_database(fresh_database, "gauges")
    now = dt.datetime.now(dt.UTC)
    conn = await db.connect(url)
    try:
        _, actor = await make_user(conn, "agent")
        # Registered long ago and never worked on: past its resolution time, and every
        # deadline it has is late; the fresh one has none late.
        old = await register_order(conn, actor, settings, now - dt.timedelta(days=120))
        fresh = await register_order(conn, actor, settings, now)
        # Callbacks: one due a minute ago, one due tomorrow.
        policy = CallbackPolicy.from_settings(settings, await load_calendar(conn, settings))
        await schedule_order_surveys(
            conn,
            await callback_queries.post_completion_campaign(conn),
            [old, fresh],
            policy,
            first_at=[now - dt.timedelta(minutes=1), now + dt.timedelta(days=1)],
        )
        deadlines = {
            r["order_id"]: r["n"]
            for r in await conn.fetch(
                "SELECT order_id, count(*) AS n FROM deadlines GROUP BY order_id"
            )
        }
        unfolded = await conn.fetchval("SELECT count(*) FROM board_count_changes")
    finally:
        await conn.close()
    assert deadlines[old["id"]] > 0 and deadlines[fresh["id"]] > 0
    async with serving(settings.model_copy(update={"database_url": url})) as session:
        found = samples(await (await session.get("/metrics")).text())
    assert found[("hotline_state_up", ())] == 1
    assert found[("hotline_orders_open", ())] == 2
    assert found[("hotline_orders_overdue", ())] == 1
    assert found[("hotline_board_changes_pending", ())] == unfolded > 0  # no relay ran
    assert found[("hotline_deadlines_pending", ())] == deadlines[old["id"]] + deadlines[fresh["id"]]
    assert found[("hotline_deadlines_late", ())] == deadlines[old["id"]]
    assert found[("hotline_outbox_pending", ())] == 2
    assert found[("hotline_callbacks_due", ())] == 1


async def test_metrics_can_require_a_token(settings: Settings) -> None:
    guarded = settings.model_copy(update={"metrics_token": SecretStr("scrape-secret")})
    async with serving(guarded) as session:
        assert (await session.get("/metrics")).status == 401
        wrong = {"Authorization": "Bearer nope"}
        assert (await session.get("/metrics", headers=wrong)).status == 401
        right = {"Authorization": "Bearer scrape-secret"}
        response = await session.get("/metrics", headers=right)
        assert response.status == 200
        assert "hotline_http_requests_total" in await response.text()


# -------------------------------------------------------------------------- logs


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("0086 13812345678", "0086138****5678"),
        ("138 1234 5678", "138****5678"),
        ("0532-88889999", "053*****9999"),
        ("053288889999", "053*****9999"),
        ("+8653288889999", "+86532****9999"),
        ("phone=%2B8613812345678&x=1", "phone=%2B86138****5678&x=1"),
        ("来电13812345678，请回电", "来电138****5678，请回电"),
        # Not phone numbers: order numbers, short service numbers, ids, SIDs, times.
        ("96111-20261122-0042", "96111-20261122-0042"),
        ("12319", "12319"),
        ("order 1732260000000", "order 1732260000000"),
        ("CAf13812345678e", "CAf13812345678e"),
        ("2026-11-22T08:00:00", "2026-11-22T08:00:00"),
    ],
)
def test_phone_numbers_in_text_are_masked(text: str, masked: str) -> None:
    assert mask_phones(text) == masked


def test_one_number_keeps_its_prefix_and_first_three_and_last_four_digits() -> None:
    assert mask_phone("+8613812345678") == "+86138****5678"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("12319") == "*****"


def _log_through(formatter: logging.Formatter, emit: Callable[[logging.Logger], None]) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("hotline.test-logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_json_lines_carry_the_fields_and_mask_numbers_everywhere() -> None:
    def emit(logger: logging.Logger) -> None:
        logger.warning("SMS to %s failed", "+8613812345678")
        try:
            raise RuntimeError("caller 0532-88889999 hung up")
        except RuntimeError:
            logger.exception("call from 13812345678 dropped")

    output = _log_through(JsonFormatter("worker2"), emit)
    lines = output.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "WARNING" and first["logger"] == "hotline.test-logs"
    assert first["process"] == "worker2" and first["time"].endswith("+00:00")
    assert first["message"] == "SMS to +86138****5678 failed"
    assert second["message"] == "call from 138****5678 dropped"
    assert "RuntimeError: caller 053*****9999 hung up" in second["exception"]
    assert "13812345678" not in output and "88889999" not in output


def test_text_lines_mask_numbers_too() -> None:
    output = _log_through(
        MaskingFormatter("%(levelname)s %(message)s"),
        lambda logger: logger.info("from %s to %s", "13812345678", "96111"),
    )
    assert output == "INFO from 138****5678 to 96111\n"


def test_production_logs_json_by_default() -> None:
    assert Settings(env="production").effective_log_format == "json"
    assert Settings(env="development").effective_log_format == "text"
    assert Settings(env="production", log_format="text").effective_log_format == "text"


# --------------------------------------------------------------- behind the proxy


def test_the_client_is_the_last_address_the_trusted_proxy_saw() -> None:
    networks = trusted_networks("10.0.0.0/8, 127.0.0.1")
    # The proxy appends what it saw; whatever the client put before that is ignored.
    assert client_address("10.1.2.3", "1.2.3.4, 203.0.113.9", networks) == "203.0.113.9"
    assert client_address("10.1.2.3", "203.0.113.9, 10.9.9.9", networks) == "203.0.113.9"
    # Not from a trusted proxy: the header is the client's own word, not believed.
    assert client_address("198.51.100.7", "203.0.113.9", networks) == "198.51.100.7"
    assert client_address("10.1.2.3", "203.0.113.9", ()) == "10.1.2.3"
    with pytest.raises(ValueError):
        Settings(trusted_proxies="10.0.0.0/8, nonsense")


async def test_behind_a_trusted_proxy_a_login_records_the_clients_address(
    settings: Settings, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        username, _ = await make_user(conn, "agent")
    behind = settings.model_copy(update={"trusted_proxies": "127.0.0.1/32"})
    async with serving(behind) as session:
        response = await session.post(
            "/api/v1/auth/login",
            json={"username": username, "password": PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
        assert response.status == 200
    async with pool.acquire() as conn:
        ip = await conn.fetchval(
            "SELECT s.ip FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = $1",
            username,
        )
    assert ip == "203.0.113.9"
