"""Enterprise webhooks: one signed delivery per dispatch, retries, where they may go, the API.

The delivery tests are synchronous like tests/test_relay.py: RQ's SimpleWorker runs the
jobs in the main thread, each job with its own event loop and connection. The enterprise
is a real HTTP server on 127.0.0.1 (a thread with its own loop) that checks every
signature. Nothing is ever sent anywhere but 127.0.0.1: public addresses appear only in
checks that make no connection.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientSession, web
from aiohttp.abc import AbstractResolver, ResolveResult
from redis import Redis
from rq import Queue, SimpleWorker

from hotline.outbox import queries as outbox_queries
from hotline.outbox.handlers import topics
from hotline.outbox.jobs import run_outbox_row
from hotline.reference import queries as ref
from hotline.registry import HandlerRegistry
from hotline.relay import Relay, job_id
from hotline.settings import Settings, parse_ports
from integrations.enterprise_webhooks import handlers, queries
from integrations.enterprise_webhooks.addresses import (
    PublicOnlyResolver,
    RefusedDestination,
    check_destination,
    check_url,
)
from integrations.enterprise_webhooks.delivery import (
    RETRY,
    Outcome,
    deliver_webhook,
    next_state,
    post,
    webhook_source,
)
from integrations.enterprise_webhooks.signing import encode_body, signed_headers, verify
from testkit.local_server import Fake, LocalServer
from tests.factories import dispatch_to, log_in, make_user, register_order, unique
from tests.test_relay import fresh_queue, run
from wiring import subscriptions
from wiring.jobs import job_context

SECRET = "test-secret-" + "x" * 32
# The production allow-list, and the one the tests give their jobs: local fakes listen on
# random unprivileged ports.
PORTS = parse_ports(str(Settings.model_fields["webhook_ports"].default))
LOCAL_PORTS_SETTING = "1024-65535"
LOCAL_PORTS = parse_ports(LOCAL_PORTS_SETTING)

# ------------------------------------------------------------------ the receiver


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool


@dataclass
class FakeEnterprise(Fake):
    """An enterprise's receiver on 127.0.0.1 and a random port: answers ``statuses`` in
    turn (then 200), after ``delay`` seconds, checking each signature with ``secret`` the
    way docs/integrations.md tells receivers to."""

    secret: str = SECRET
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    server: LocalServer | None = None
    name = "fake enterprise"

    @property
    def port(self) -> int:
        assert self.server is not None, "enter it first"
        return self.server.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def requests_for(self, delivery: str) -> list[Received]:
        return [r for r in self.received if r.headers.get("X-Hotline-Delivery") == delivery]

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = request.headers.get("X-Hotline-Timestamp", "")
        expected = hmac.new(
            self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        sent = request.headers.get("X-Hotline-Signature", "")
        self.received.append(
            Received(dict(request.headers), body, hmac.compare_digest("sha256=" + expected, sent))
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status, text="ok" if status < 300 else "no")

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/hook", self._receive)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# ----------------------------------------------------------------------- helpers


@pytest.fixture
def allow_private(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jobs read Settings() from the environment: let them reach 127.0.0.1 over http, on
    the random unprivileged ports the local fakes listen on."""
    monkeypatch.setenv("HOTLINE_WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("HOTLINE_WEBHOOK_PORTS", LOCAL_PORTS_SETTING)


@pytest.fixture(autouse=True)
def _our_handler() -> None:
    handlers.subscribe()  # as subscribe_all does in a worker; a repeat is ignored


async def new_enterprise(conn: asyncpg.Connection, url: str | None) -> tuple[int, str]:
    """A fresh enterprise of its own (id, code), with a webhook when ``url`` is given."""
    code = unique("hook-")
    enterprise_id = await ref.upsert_enterprise(
        conn,
        {"code": code, "name_zh": "测试供水公司", "name_en": "Test Water"},
        kind="company",
        parent_id=None,
    )
    if url is not None:
        await queries.set_webhook(conn, enterprise_id, url=url, secret=SECRET)
    return enterprise_id, code


def outbox_payload(dispatch: asyncpg.Record) -> dict[str, Any]:
    """What the routing engine writes in the outbox for a new dispatch."""
    return {
        "dispatch_id": dispatch["id"],
        "order_id": dispatch["order_id"],
        "enterprise_id": dispatch["enterprise_id"],
    }


@dataclass(frozen=True)
class Dispatched:
    order: asyncpg.Record
    dispatch: asyncpg.Record
    outbox_id: int

    @property
    def key(self) -> str:
        return f"dispatch.created:{self.dispatch['id']}"

    @property
    def payload(self) -> dict[str, Any]:
        return outbox_payload(self.dispatch)


async def dispatch_with_outbox(
    conn: asyncpg.Connection, settings: Settings, enterprise_code: str
) -> Dispatched:
    """An order dispatched to the enterprise, with the outbox row routing writes."""
    now = dt.datetime.now(dt.UTC)
    _, agent = await make_user(conn, "agent", hotline_code="96111")
    order = await register_order(conn, agent, settings, now)
    dispatch = await dispatch_to(conn, order["id"], enterprise_code, now)
    outbox_id = await outbox_queries.insert(
        conn,
        topic="dispatch.created",
        key=f"dispatch.created:{dispatch['id']}",
        payload=outbox_payload(dispatch),
    )
    assert outbox_id is not None
    return Dispatched(order, dispatch, outbox_id)


def prepare(settings: Settings, url: str | None) -> tuple[Dispatched, int | None]:
    """A dispatch to a new enterprise whose outbox row has run; and its delivery id."""

    async def work(pool: asyncpg.Pool) -> Dispatched:
        async with pool.acquire() as conn:
            _, code = await new_enterprise(conn, url)
            return await dispatch_with_outbox(conn, settings, code)

    made = run(settings, work)
    assert run_outbox_row(made.outbox_id) == "done"
    return made, delivery_id(settings, made.key)


def delivery_id(settings: Settings, key: str) -> int | None:
    async def work(pool: asyncpg.Pool) -> int | None:
        value = await pool.fetchval("SELECT id FROM webhook_deliveries WHERE effect_key = $1", key)
        return None if value is None else int(value)

    return run(settings, work)


def relay_and_work(
    settings: Settings, redis_conn: Redis, *, passes: int = 1, lease_seconds: int = 60
) -> Queue:
    """Relay due deliveries into a fresh queue (``passes`` times), then run every job."""
    queue = fresh_queue(redis_conn)

    async def relay(pool: asyncpg.Pool) -> None:
        webhooks = Relay(pool, queue, lease_seconds=lease_seconds, sources=(webhook_source,))
        for _ in range(passes):
            await webhooks.run_once()

    run(settings, relay)
    SimpleWorker([queue], connection=redis_conn).work(burst=True)
    return queue


def delivery_state(settings: Settings, row_id: int) -> tuple[asyncpg.Record, list[asyncpg.Record]]:
    """The delivery (with ``wait``: due_at minus its last attempt) and its attempts."""

    async def work(pool: asyncpg.Pool) -> tuple[asyncpg.Record, list[asyncpg.Record]]:
        async with pool.acquire() as conn:
            attempts = await queries.list_attempts(conn, [row_id])
            row = await conn.fetchrow(
                "SELECT *, due_at - $2::timestamptz AS wait FROM webhook_deliveries WHERE id = $1",
                row_id,
                attempts[-1]["attempted_at"] if attempts else None,
            )
        return row, attempts

    return run(settings, work)


def make_due(settings: Settings, row_id: int, later: dt.timedelta = dt.timedelta(0)) -> None:
    """Bring a pending delivery's next attempt forward to now (or to ``later`` from now),
    instead of waiting out the backoff."""

    async def work(pool: asyncpg.Pool) -> None:
        assert await pool.fetchval(
            "UPDATE webhook_deliveries SET due_at = now() + $2 "
            "WHERE id = $1 AND state = 'pending' RETURNING id",
            row_id,
            later,
        )

    run(settings, work)


# -------------------------------------------------------------- delivered once


@pytest.mark.usefixtures("allow_private")
def test_a_dispatch_is_delivered_once_signed_despite_repeats(
    settings: Settings, redis_conn: Redis
) -> None:
    with FakeEnterprise() as enterprise:
        made, row_id = prepare(settings, enterprise.url)
        assert row_id is not None

        async def repeat_handler(pool: asyncpg.Pool) -> None:
            async with pool.acquire() as conn, conn.transaction():
                await handlers.on_dispatch_created(conn, made.payload, job_context(settings))

        run(settings, repeat_handler)  # the handler again: no second delivery
        assert run_outbox_row(made.outbox_id) == "skipped"
        assert delivery_id(settings, made.key) == row_id

        # A lease of zero: the second pass takes the row again, as after a lost relay.
        # The jobs run in this process: its clock, read around them, brackets theirs.
        started = int(time.time())
        queue = relay_and_work(settings, redis_conn, passes=2, lease_seconds=0)
        finished = time.time()
        jobs = [queue.fetch_job(job_id("webhook", row_id, claim, queue)) for claim in (1, 2)]
        results = sorted(str(job.return_value()) for job in jobs if job is not None)

    assert results == ["delivered", "skipped"]  # the second job found it delivered

    (request,) = enterprise.requests_for(made.key)
    assert request.signature_ok
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Hotline-Event"] == "dispatch.created"
    # Signed with the moment the job sent it, by the job's clock.
    assert started <= int(request.headers["X-Hotline-Timestamp"]) <= finished
    assert made.order["description"] in request.body.decode()  # UTF-8, not \u escapes
    body = json.loads(request.body)
    assert body["event"] == "dispatch.created" and body["delivery"] == made.key
    assert body["order"]["id"] == made.order["id"]
    assert body["order"]["number"] == made.order["number"]
    assert body["order"]["description"] == made.order["description"]
    assert body["order"]["service_item"] == "W01" and body["order"]["service_item_name"]
    assert body["order"]["caller_phone"] == made.order["caller_phone"]
    assert (
        dt.datetime.fromisoformat(body["order"]["resolution_due_at"])
        == (made.order["resolution_due_at"])
    )
    assert body["dispatch"] == {
        "id": made.dispatch["id"],
        "role": "lead",
        "sign_for_due_at": None,
        "reason": "",
    }
    row, attempts = delivery_state(settings, row_id)
    assert row["state"] == "delivered" and row["delivered_at"] is not None
    assert [a["status_code"] for a in attempts] == [200]


def test_an_enterprise_without_a_webhook_gets_no_delivery(settings: Settings) -> None:
    _, row_id = prepare(settings, None)
    assert row_id is None


# -------------------------------------------------------------------- retries


@pytest.mark.usefixtures("allow_private")
def test_server_errors_are_retried_with_backoff_until_delivered(
    settings: Settings, redis_conn: Redis
) -> None:
    with FakeEnterprise(statuses=[500, 500]) as enterprise:
        made, row_id = prepare(settings, enterprise.url)
        assert row_id is not None
        relay_and_work(settings, redis_conn)
        row, _ = delivery_state(settings, row_id)
        assert row["state"] == "pending" and row["wait"] == dt.timedelta(seconds=10)
        assert row["lease_until"] is None

        # Not due yet: nothing is sent. (Due in an hour rather than the backoff's 10 s,
        # which a busy machine can spend before the next pass.)
        make_due(settings, row_id, later=dt.timedelta(hours=1))
        relay_and_work(settings, redis_conn)
        assert len(enterprise.requests_for(made.key)) == 1

        make_due(settings, row_id)
        relay_and_work(settings, redis_conn)
        row, _ = delivery_state(settings, row_id)
        assert row["state"] == "pending" and row["wait"] == dt.timedelta(seconds=20)

        make_due(settings, row_id)
        relay_and_work(settings, redis_conn)
        relay_and_work(settings, redis_conn)  # delivered: never claimed again

    row, attempts = delivery_state(settings, row_id)
    assert row["state"] == "delivered"
    assert [a["status_code"] for a in attempts] == [500, 500, 200]
    assert attempts[0]["error"] == "no"  # what the receiver said
    requests = enterprise.requests_for(made.key)
    assert len(requests) == 3 and all(r.signature_ok for r in requests)


@pytest.mark.usefixtures("allow_private")
def test_gone_fails_after_one_attempt(settings: Settings, redis_conn: Redis) -> None:
    with FakeEnterprise(statuses=[410]) as enterprise:
        made, row_id = prepare(settings, enterprise.url)
        assert row_id is not None
        relay_and_work(settings, redis_conn)

    row, attempts = delivery_state(settings, row_id)
    assert row["state"] == "failed" and row["lease_until"] is None
    assert [a["status_code"] for a in attempts] == [410]
    assert len(enterprise.requests_for(made.key)) == 1


@pytest.mark.usefixtures("allow_private")
def test_a_refused_connection_is_logged_and_retried_later(
    settings: Settings, redis_conn: Redis
) -> None:
    _, row_id = prepare(settings, f"http://127.0.0.1:{closed_port()}/hook")
    assert row_id is not None
    relay_and_work(settings, redis_conn)

    row, attempts = delivery_state(settings, row_id)
    assert row["state"] == "pending" and row["wait"] == dt.timedelta(seconds=10)
    (attempt,) = attempts
    assert attempt["status_code"] is None
    assert "ClientConnectorError" in attempt["error"]


@pytest.mark.usefixtures("allow_private")
def test_a_slow_receiver_times_out_and_is_retried(
    settings: Settings, redis_conn: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_WEBHOOK_TIMEOUT", "0.3")
    with FakeEnterprise(delay=2) as enterprise:
        _, row_id = prepare(settings, enterprise.url)
        assert row_id is not None
        relay_and_work(settings, redis_conn)

    row, attempts = delivery_state(settings, row_id)
    assert row["state"] == "pending"
    # The receiver would have answered 200 after 2 s: the error proves the cut.
    assert [(a["status_code"], a["error"]) for a in attempts] == [(None, "no answer within 0.3 s")]


def test_a_destination_refused_at_send_time_fails_without_a_request(
    settings: Settings, redis_conn: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Configured while private addresses were allowed; now they are not.
    monkeypatch.delenv("HOTLINE_WEBHOOK_ALLOW_PRIVATE", raising=False)
    with FakeEnterprise() as enterprise:
        _, row_id = prepare(settings, enterprise.url)
        assert row_id is not None
        relay_and_work(settings, redis_conn)

    row, attempts = delivery_state(settings, row_id)
    assert row["state"] == "failed"
    (attempt,) = attempts
    assert attempt["status_code"] is None and attempt["error"].startswith("refused:")
    assert enterprise.received == []


def test_a_removed_webhook_fails_its_pending_deliveries(settings: Settings) -> None:
    made, row_id = prepare(settings, f"http://127.0.0.1:{closed_port()}/hook")
    assert row_id is not None

    async def remove(pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn:
            await queries.set_webhook(conn, made.dispatch["enterprise_id"], url=None, secret=None)

    run(settings, remove)
    assert deliver_webhook(row_id) == "failed"
    assert deliver_webhook(row_id) == "skipped"
    _, attempts = delivery_state(settings, row_id)
    assert [a["error"] for a in attempts] == ["the enterprise no longer has a webhook"]


def test_backoff_and_final_states() -> None:
    assert [RETRY.wait(n).total_seconds() for n in range(1, 11)] == [
        10,
        20,
        40,
        80,
        160,
        320,
        640,
        1280,
        2560,
        3600,
    ]

    def answer(code: int) -> Outcome:
        return Outcome(code, "", 5)

    assert next_state(answer(204), 1) == ("delivered", None)
    assert next_state(answer(503), 1) == ("pending", dt.timedelta(seconds=10))
    assert next_state(answer(302), 2) == ("pending", dt.timedelta(seconds=20))
    assert next_state(answer(429), 3) == ("pending", dt.timedelta(seconds=40))
    assert next_state(answer(408), 1)[0] == "pending"
    assert next_state(answer(404), 1) == ("failed", None)
    assert next_state(answer(503), RETRY.max_attempts) == ("failed", None)
    assert next_state(Outcome(None, "refused", 0, final=True), 1) == ("failed", None)


def test_signatures_verify_only_unchanged_and_recent() -> None:
    body = encode_body({"event": "dispatch.created", "text": "停水"})
    assert "停水".encode() in body
    headers = signed_headers(SECRET, event="e", delivery="d:1", timestamp=1_700_000_000, body=body)

    def check(secret: str, sent: bytes, now: float) -> bool:
        return verify(
            secret,
            timestamp=headers["X-Hotline-Timestamp"],
            body=sent,
            signature_header=headers["X-Hotline-Signature"],
            now=now,
        )

    assert check(SECRET, body, 1_700_000_100)
    assert not check(SECRET, body + b" ", 1_700_000_100)
    assert not check("another secret", body, 1_700_000_100)
    assert not check(SECRET, body, 1_700_001_000)  # replayed later


def test_subscribe_all_hangs_the_handler_and_the_source(monkeypatch: pytest.MonkeyPatch) -> None:
    # A registry of our own for the test: routing's handlers stay out of the other tests.
    monkeypatch.setattr(topics, "_handlers", HandlerRegistry()._handlers)
    subscriptions.subscribe_all()
    subscriptions.subscribe_all()
    assert topics.handlers_for("dispatch.created").count(handlers.on_dispatch_created) == 1
    assert webhook_source in subscriptions.relay_sources()


# ---------------------------------------------------------------- destinations


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/x",
        "https://127.0.0.1/x",
        "https://169.254.169.254/latest",
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[fd00::1]/",
        "https://[fe80::1]/",
        "https://100.64.0.1/",
        "https://192.168.1.1/",
        "https://172.16.0.1/",
        "https://0.0.0.0/",
        "https://224.0.0.1/",
        "https://203.0.113.5/hook",  # documentation range: ipaddress says not global
        "https://2130706433/",  # 127.0.0.1 written as a number
        "http://example.com",
        "ftp://example.com/x",
        "https://user:pw@host/",
        "https://:443/x",
        "https://example.com:99999/",
    ],
)
async def test_refused_destinations(url: str) -> None:
    with pytest.raises(RefusedDestination):
        await check_destination(url, allow_private=False, ports=PORTS)


@pytest.mark.parametrize("url", ["https://8.8.8.8/hook", "https://[2001:4860:4860::8888]/hook"])
async def test_public_addresses_are_allowed(url: str) -> None:
    # IP literals: no lookup, no request
    await check_destination(url, allow_private=False, ports=PORTS)


def test_allow_private_lets_in_loopback_but_never_metadata() -> None:
    loopback = check_url("http://127.0.0.1:8080/hook", allow_private=True, ports=LOCAL_PORTS)
    assert loopback == "127.0.0.1"
    assert check_url("https://10.1.2.3/hook", allow_private=True, ports=PORTS) == "10.1.2.3"
    with pytest.raises(RefusedDestination, match="link-local"):
        check_url("https://169.254.169.254/latest", allow_private=True, ports=PORTS)


class FixedResolver(AbstractResolver):
    """Answers from a table, as a DNS server under someone else's control might."""

    def __init__(self, answers: dict[str, Sequence[str]]) -> None:
        self.answers = answers

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=0,
            )
            for address in self.answers[host]
        ]

    async def close(self) -> None:
        pass


async def test_the_resolver_drops_internal_addresses() -> None:
    dns = FixedResolver({"mixed.test": ["10.0.0.7", "8.8.8.8"], "inside.test": ["169.254.169.254"]})
    resolver = PublicOnlyResolver(allow_private=False, inner=dns)
    assert [r["host"] for r in await resolver.resolve("mixed.test", 443)] == ["8.8.8.8"]
    with pytest.raises(RefusedDestination, match="no public address"):
        await resolver.resolve("inside.test", 443)
    # Configuring demands that every address be public.
    with pytest.raises(
        RefusedDestination, match=r"10\.0\.0\.7 is not a public address \(private\)"
    ):
        await check_destination(
            "https://mixed.test/hook", allow_private=False, ports=PORTS, resolver=dns
        )


async def test_localhost_is_refused_at_configuration() -> None:
    with pytest.raises(RefusedDestination, match="loopback"):
        await check_destination("https://localhost/hook", allow_private=False, ports=PORTS)


def test_the_resolver_refuses_localhost_at_send_time_without_a_request() -> None:
    body = encode_body({"event": "test"})
    headers = signed_headers(SECRET, event="test", delivery="test:1", timestamp=0, body=body)
    with FakeEnterprise() as enterprise:
        # https with a name passes the static check; only the resolver stands in the way.
        refused = asyncio.run(
            post(
                f"https://localhost:{enterprise.port}/hook",
                body,
                headers,
                time_limit=5,
                allow_private=False,
                ports=LOCAL_PORTS,
            )
        )
        assert enterprise.received == []
        allowed = asyncio.run(
            post(
                f"http://localhost:{enterprise.port}/hook",
                body,
                headers,
                time_limit=5,
                allow_private=True,
                ports=LOCAL_PORTS,
            )
        )
    assert refused.status_code is None and "no public address" in refused.error
    assert not refused.final  # DNS may answer differently later: retried, then failed
    assert allowed.status_code == 200
    assert len(enterprise.received) == 1


# ------------------------------------------------------------------------ API


def webhook_path(enterprise_id: int) -> str:
    return f"/api/v1/enterprises/{enterprise_id}/webhook"


async def logged_in(
    client: ClientSession, pool: asyncpg.Pool, role: str, enterprise_code: str | None = None
) -> dict[str, str]:
    async with pool.acquire() as conn:
        username, _ = await make_user(conn, role, enterprise_code=enterprise_code)
    return {"X-CSRF-Token": await log_in(client, username)}


async def test_an_admin_sets_a_webhook_and_gets_its_secret_once(
    client: ClientSession, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        enterprise_id, _ = await new_enterprise(conn, None)
    headers = await logged_in(client, pool, "admin")
    url = "https://8.8.8.8/hook"  # checked, never contacted: no dispatch goes there
    response = await client.put(webhook_path(enterprise_id), json={"url": url}, headers=headers)
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert answer["url"] == url and len(answer["secret"]) >= 40
    async with pool.acquire() as conn:
        stored = await queries.get_webhook(conn, enterprise_id)
    assert stored is not None
    assert (stored["webhook_url"], stored["webhook_secret"]) == (url, answer["secret"])

    again = await client.put(webhook_path(enterprise_id), json={"url": url}, headers=headers)
    assert (await again.json())["secret"] != answer["secret"]  # a new secret every time

    response = await client.delete(webhook_path(enterprise_id), headers=headers)
    assert response.status == 204
    async with pool.acquire() as conn:
        stored = await queries.get_webhook(conn, enterprise_id)
    assert stored is not None
    assert stored["webhook_url"] is None and stored["webhook_secret"] is None


async def test_a_webhook_set_by_the_previous_release_is_carried_over(pool: asyncpg.Pool) -> None:
    """During the upgrade the previous release still writes enterprises.webhook_url and
    webhook_secret (migration 0018): what it sets and clears is what this release reads."""
    async with pool.acquire() as conn:
        enterprise_id, _ = await new_enterprise(conn, None)
        await conn.execute(
            "UPDATE enterprises SET webhook_url = $2, webhook_secret = $3 WHERE id = $1",
            enterprise_id,
            "https://8.8.8.8/old-release",
            "s" * 40,
        )
        stored = await queries.get_webhook(conn, enterprise_id)
        assert stored is not None
        assert (stored["webhook_url"], stored["webhook_secret"]) == (
            "https://8.8.8.8/old-release",
            "s" * 40,
        )
        await conn.execute(
            "UPDATE enterprises SET webhook_url = NULL, webhook_secret = NULL WHERE id = $1",
            enterprise_id,
        )
        stored = await queries.get_webhook(conn, enterprise_id)
        assert stored is not None and stored["webhook_url"] is None
        # This release writes only its own table: the old columns stay as they were.
        await queries.set_webhook(conn, enterprise_id, url="https://8.8.8.8/new", secret="t" * 40)
        old = await conn.fetchval(
            "SELECT webhook_url FROM enterprises WHERE id = $1", enterprise_id
        )
        assert old is None


async def test_an_internal_url_is_refused_with_the_field(
    client: ClientSession, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        enterprise_id, _ = await new_enterprise(conn, None)
    headers = await logged_in(client, pool, "admin")
    # IP literals only: a refused URL must never lead to a lookup, whatever the settings.
    for url in ("https://169.254.169.254/latest", "http://8.8.8.8/hook", "https://10.0.0.1/x"):
        response = await client.put(webhook_path(enterprise_id), json={"url": url}, headers=headers)
        assert response.status == 422
        error = (await response.json())["error"]
        assert error["code"] == "invalid" and "url" in error["fields"]


async def test_only_the_allowed_ports_may_be_registered(
    client: ClientSession, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        enterprise_id, _ = await new_enterprise(conn, None)
    headers = await logged_in(client, pool, "admin")
    for url in ("https://8.8.8.8:8080/hook", "https://8.8.8.8:22/", "https://8.8.8.8:80/"):
        response = await client.put(webhook_path(enterprise_id), json={"url": url}, headers=headers)
        assert response.status == 422, url
        error = (await response.json())["error"]
        assert "allowed: 443, 8443" in error["fields"]["url"]
    for url in ("https://8.8.8.8:8443/hook", "https://8.8.8.8:443/hook"):
        response = await client.put(webhook_path(enterprise_id), json={"url": url}, headers=headers)
        assert response.status == 200, url


def test_a_port_off_the_list_is_refused_at_send_time_without_a_request() -> None:
    """A URL stored before the list was narrowed is refused when sent, for good."""
    body = encode_body({"event": "test"})
    headers = signed_headers(SECRET, event="test", delivery="test:2", timestamp=0, body=body)
    with FakeEnterprise() as enterprise:
        outcome = asyncio.run(
            post(enterprise.url, body, headers, time_limit=5, allow_private=True, ports=PORTS)
        )
    assert enterprise.received == []
    assert outcome.final and f"port {enterprise.port} is not allowed" in outcome.error


@pytest.mark.parametrize("text", ["", "0", "443,70000", "9000-8000", "https"])
def test_a_bad_port_list_is_refused_at_start(text: str) -> None:
    with pytest.raises(ValueError):
        Settings(webhook_ports=text)


def test_ports_and_ranges_are_read() -> None:
    assert Settings(webhook_ports="443, 8443,9000-9010").webhook_port_ranges == (
        (443, 443),
        (8443, 8443),
        (9000, 9010),
    )


async def test_an_enterprise_admin_manages_only_its_own_webhook(
    client: ClientSession, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        own_id, own_code = await new_enterprise(conn, None)
        other_id, _ = await new_enterprise(conn, None)
    headers = await logged_in(client, pool, "enterprise_admin", own_code)
    body = {"url": "https://8.8.8.8/hook"}

    for method in ("put", "delete"):
        response = await client.request(method, webhook_path(other_id), json=body, headers=headers)
        assert response.status == 404
    response = await client.get(webhook_path(other_id) + "/deliveries")
    assert response.status == 404
    async with pool.acquire() as conn:
        other = await queries.get_webhook(conn, other_id)
    assert other is not None and other["webhook_url"] is None

    response = await client.put(webhook_path(own_id), json=body, headers=headers)
    assert response.status == 200
    response = await client.delete(webhook_path(own_id), headers=headers)
    assert response.status == 204


async def test_other_roles_may_not_configure_webhooks(
    client: ClientSession, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        enterprise_id, code = await new_enterprise(conn, None)
    headers = await logged_in(client, pool, "enterprise_user", code)
    response = await client.put(
        webhook_path(enterprise_id), json={"url": "https://8.8.8.8/hook"}, headers=headers
    )
    assert response.status == 403


async def test_deliveries_are_listed_with_their_attempts(
    client: ClientSession, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        enterprise_id, _ = await new_enterprise(conn, None)
        # A delivery already settled (failed), so no relay ever sends it anywhere.
        key = unique("test.listed:")
        row_id = await queries.insert_delivery(
            conn,
            effect_key=key,
            enterprise_id=enterprise_id,
            url="https://8.8.8.8/hook",
            event="dispatch.created",
            payload={"event": "dispatch.created"},
        )
        assert row_id is not None
        async with conn.transaction():
            await queries.insert_attempt(conn, row_id, status_code=404, error="no", duration_ms=7)
            await queries.settle(
                conn, row_id, state="failed", url="https://8.8.8.8/hook", retry_in=None
            )
    await logged_in(client, pool, "admin")
    response = await client.get(webhook_path(enterprise_id) + "/deliveries?limit=10")
    assert response.status == 200, await response.text()
    (item,) = (await response.json())["items"]
    assert item["effect_key"] == key and item["state"] == "failed"
    assert [(a["status_code"], a["duration_ms"]) for a in item["attempts"]] == [(404, 7)]
