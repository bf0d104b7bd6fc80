"""The exchange with the 12345 platform (docs/exchange.md), against a fake platform on
127.0.0.1 (testkit/platform12345.py) reached over real HTTP both ways: orders pushed to
us, signed and idempotent; every status sent back once, in order, through failures,
slow answers and repeats; transfer out; failed messages and their retry; the contract
per platform; the figures."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from callbacks.outcomes import Answer, do_finish_survey
from hotline.deadlines.limits import due_at
from hotline.reference.calendar import load_calendar
from hotline.settings import Settings
from integrations.exchange.contract import Contract
from testkit.orders import insert_order
from testkit.platform12345 import FakePlatform
from tests.factories import unique
from tests.routing_support import (
    Desk,
    desk,
    enterprise_ids,
    open_desks,
    relay_for_tests,
    run_worker,
)
from wiring.subscriptions import relay_chores

LOCAL_PORTS = "1024-65535"


@pytest.fixture
async def desks(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[dict[str, Desk]]:
    async with open_desks(server, pool, "agent", "supervisor", "water") as opened:
        opened["admin"] = await desk(str(server.make_url("/")), pool, "admin")
        yield opened
        await opened["admin"].client.close()


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePlatform]:
    """The fake platform; the workers may reach it (http, 127.0.0.1, a random port) and
    give up on a slow answer after a second."""
    monkeypatch.setenv("HOTLINE_WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("HOTLINE_WEBHOOK_PORTS", LOCAL_PORTS)
    monkeypatch.setenv("HOTLINE_WEBHOOK_TIMEOUT", "1")
    with FakePlatform() as fake:
        yield fake


async def add_platform(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    fake: FakePlatform,
    *,
    contract: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A platform on 96111 made through the API, pointed at the fake (a local address
    the API refuses to a person, set here as a deployment's configuration would)."""
    code = unique("qd12345-")
    made = await desks["admin"].post(
        "/api/v1/exchange/platforms",
        {
            "code": code,
            "name_zh": "青岛市12345热线",
            "name_en": "Qingdao 12345",
            "hotline_code": "96111",
            "base_url": "https://12345.qingdao.example/api",
            "contract": contract or {},
        },
        status=201,
    )
    await pool.execute(
        "UPDATE exchange_platforms SET base_url = $2 WHERE code = $1", code, fake.base
    )
    fake.secret = made["secret"]
    return dict(made)


def an_order(number: str, **more: Any) -> dict[str, Any]:
    return {
        "number": number,
        "description": "香港中路100号水表走字太快，怀疑水表不准，请尽快派人校验",
        "caller_name": "市民甲",
        "caller_phone": "13812345678",
        "classification": "120301",
        "service_item": "W01",
        "kind": "request",
        "area": "370202",
        "address": "香港中路 100 号",
        "attachments": [{"name": "现场.jpg", "url": "https://12345.example/files/1"}],
        **more,
    }


def endpoint(server: TestServer, code: str) -> str:
    return str(server.make_url(f"/exchange/v1/{code}/orders"))


async def pushed(
    server: TestServer,
    pool: asyncpg.Pool,
    platform: FakePlatform,
    made: dict[str, Any],
    order: dict[str, Any],
) -> int:
    """The platform pushes ``order``; the id of the order it became."""
    status, answer = await platform.push(endpoint(server, made["code"]), order, key=made["key"])
    assert status == 201, answer
    order_id: int = await pool.fetchval(
        "SELECT id FROM work_orders WHERE number = $1", answer["our_number"]
    )
    return order_id


async def pump(
    pool: asyncpg.Pool,
    settings: Settings,
    done: Callable[[], bool] | None = None,
    *,
    rounds: int = 25,
) -> None:
    """Relay, feed and work until ``done`` (without it: ``rounds`` times); each round,
    the retries' backoff has passed (their due moves to now) instead of being waited
    for."""
    relay = relay_for_tests(pool, settings, chores=relay_chores(settings))
    for _ in range(rounds):
        if done is not None and done():
            return
        counts = await relay.run_once()
        if any(counts.values()):
            await run_worker()
        await pool.execute(
            "UPDATE exchange_messages SET due_at = now() WHERE state = 'pending' AND due_at > now()"
        )
    if done is None:
        return
    messages = await pool.fetch(
        "SELECT m.order_id, m.seq, m.event, m.state, m.tries, "
        "(SELECT array_agg(coalesce(a.status_code::text, a.error)) FROM exchange_attempts a "
        "WHERE a.message_id = m.id) AS attempts FROM exchange_messages m "
        "ORDER BY m.id DESC LIMIT 10"
    )
    assert done(), f"the platform did not get what it should have: {[dict(m) for m in messages]}"


# ------------------------------------------------------------------ orders in


async def test_a_platform_pushes_an_order_once_signed_and_fresh(
    server: TestServer,
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    platform: FakePlatform,
) -> None:
    made = await add_platform(desks, pool, platform)
    url, key = endpoint(server, made["code"]), made["key"]
    number = unique("QD2026-")
    due = dt.datetime.now(dt.UTC) + dt.timedelta(hours=5)
    sign_for = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)
    order = an_order(
        number, resolution_due_at=due.isoformat(), sign_for_due_at=sign_for.isoformat()
    )

    status, first = await platform.push(url, order, key=key)
    assert status == 201, first
    assert first["number"] == number and first["our_number"].startswith("96111-")
    # Delivered again, and five times at once: the same order.
    status, again = await platform.push(url, order, key=key)
    assert (status, again) == (200, first)
    answers = await asyncio.gather(*(platform.push(url, order, key=key) for _ in range(5)))
    assert {(s, a["our_number"]) for s, a in answers} == {(200, first["our_number"])}
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM exchange_orders WHERE platform_number = $1", number
        )
        == 1
    )

    row = await pool.fetchrow(
        "SELECT o.*, x.resolution_due_at AS platform_due FROM work_orders o "
        "JOIN exchange_orders x ON x.order_id = o.id WHERE o.number = $1",
        first["our_number"],
    )
    assert (row["channel"], row["hotline_code"], row["service_item_code"]) == (
        "12345",
        "96111",
        "W01",
    )
    # The platform's 5 hours are stricter than the item's working days; its half hour to
    # sign for it is kept for the dispatch, when it is still ahead.
    assert row["resolution_due_at"] == row["platform_due"] == due
    kept = row["time_limits"]
    assert kept["sign_for_by"] == sign_for.isoformat()
    async with pool.acquire() as conn:
        calendar = await load_calendar(conn, settings)
    assert due_at(kept, "sign_for", "normal", calendar, sign_for - dt.timedelta(minutes=10)) == (
        sign_for
    )
    later = sign_for + dt.timedelta(minutes=1)  # a redo, after the platform's moment
    assert due_at(kept, "sign_for", "normal", calendar, later) > later

    # The same number with other content is refused.
    status, refused = await platform.push(url, {**order, "description": "另一件事"}, key=key)
    assert (status, refused["error"]["code"]) == (409, "number_reused")
    # Not the platform's key, not its secret, not fresh: refused, and logged.
    status, refused = await platform.push(url, order, key="hlx_wrong")
    assert (status, refused["error"]["code"]) == (401, "bad_platform_key")
    status, refused = await platform.push(url, order, key=key, secret="not-the-secret")
    assert (status, refused["error"]["code"]) == (401, "bad_signature")
    stale = int(dt.datetime.now(dt.UTC).timestamp()) - 301
    status, refused = await platform.push(url, order, key=key, timestamp=stale)
    assert (status, refused["error"]["code"]) == (401, "stale_request")
    log = await desks["admin"].get(f"/api/v1/exchange/platforms/{made['code']}/requests")
    statuses = [r["status"] for r in log["items"]]
    assert statuses[:4] == [401, 401, 401, 409] and statuses.count(201) == 1


async def test_an_order_in_is_read_by_the_platforms_names_and_errors_use_them(
    server: TestServer, desks: dict[str, Desk], pool: asyncpg.Pool, platform: FakePlatform
) -> None:
    contract = {"fields": {"number": "gdbh", "description": "sqnr", "resolution_due_at": "blsx"}}
    made = await add_platform(desks, pool, platform, contract=contract)
    url = endpoint(server, made["code"])
    number = unique("JN-")
    body = {"gdbh": number, "sqnr": "燃气表不走字", "kind": "repair", "extra": "ignored"}
    status, answer = await platform.push(url, body, key=made["key"])
    assert status == 201 and answer["gdbh"] == number
    # No item named, no class mapped: the general item of the order's kind.
    item = await pool.fetchval(
        "SELECT o.service_item_code FROM work_orders o WHERE o.number = $1", answer["our_number"]
    )
    assert item == "G-REPAIR"

    status, refused = await platform.push(
        url,
        {
            "gdbh": unique("JN-"),
            "blsx": "2026-12-08T17:00:00",
            "attachments": [{"url": "javascript:alert(1)"}],
        },
        key=made["key"],
    )
    assert (status, refused["error"]["code"]) == (422, "invalid_order")
    assert set(refused["error"]["fields"]) == {"sqnr", "blsx", "attachments"}


# ----------------------------------------------------------- the whole exchange


async def test_every_status_reaches_the_platform_once_in_order(
    server: TestServer,
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    platform: FakePlatform,
) -> None:
    made = await add_platform(desks, pool, platform)
    water = (await enterprise_ids(desks["supervisor"]))["qd-water"]
    await desks["supervisor"].post(
        "/api/v1/routing/rules",
        {"service_item": "W01", "area": "370203", "candidates": [water]},
        status=201,
    )
    number = unique("QD2026-")
    order_id = await pushed(server, pool, platform, made, an_order(number, area="370203"))
    # The platform fails twice, then answers one message too slowly (it took it).
    platform.failures = [503, 500]
    platform.slow, platform.delay = 1, 2.5

    await pump(pool, settings, rounds=2)  # routed: dispatched to the unit
    inbox = await desks["water"].get("/api/v1/inbox")
    (dispatch,) = [i for i in inbox["items"] if i["order_id"] == order_id]
    await desks["water"].post(f"/api/v1/dispatches/{dispatch['id']}/sign-for")
    await desks["water"].post(
        f"/api/v1/dispatches/{dispatch['id']}/notes",
        {"text": "已联系用户，明日上门校验", "public": True},
    )
    await desks["water"].post(
        f"/api/v1/dispatches/{dispatch['id']}/complete", {"reply": "已校验并更换水表"}
    )
    await pump(pool, settings, lambda: len(platform.events(number)) == 3)
    await answer_callback(pool, settings, order_id, solved=True, rating=5)
    expected = ["accepted", "progress", "completed", "rated", "closed"]
    await pump(pool, settings, lambda: platform.events(number) == expected)

    assert platform.events(number) == expected
    taken = [m for m in platform.taken if m["number"] == number]
    assert taken[0]["unit"] == "青岛水务集团" and taken[1]["text"] == "已联系用户，明日上门校验"
    assert taken[2]["text"] == "已校验并更换水表" and taken[3]["level"]
    assert all(r.signature_ok for r in platform.requests)
    # Failures and the slow answer made it send more than it delivered, each key the same.
    sent = [r for r in platform.requests if r.body.get("number") == number]
    assert len(sent) > len(expected)
    assert [r.message for r in sent if r.status == 200][:1] == [taken[0]["message"]]

    history = await desks["supervisor"].get(f"/api/v1/orders/{order_id}/exchange")
    assert history["exchange"]["platform_number"] == number
    assert history["exchange"]["attachments"] == [
        {"name": "现场.jpg", "url": "https://12345.example/files/1"}
    ]
    assert [m["event"] for m in history["messages"]] == expected
    assert {m["state"] for m in history["messages"]} == {"delivered"}
    assert sum(len(m["attempts"]) for m in history["messages"]) == len(sent)
    assert history["requests"][0]["status"] == 201

    figures = await desks["supervisor"].get("/api/v1/exchange/figures")
    (mine,) = [f for f in figures["items"] if f["code"] == made["code"]]
    assert mine["received_today"] == 1 and mine["completed"] == 1 and mine["on_time_rate"] == 1


async def answer_callback(
    pool: asyncpg.Pool, settings: Settings, order_id: int, *, solved: bool, rating: int
) -> None:
    """The citizen answers the order's callback (the survey's channel aside)."""
    async with pool.acquire() as conn, conn.transaction():
        survey = await conn.fetchval(
            "SELECT id FROM callback_surveys WHERE order_id = $1 AND state = 'open'", order_id
        )
        assert survey is not None, "the completion scheduled no callback"
        await do_finish_survey(
            conn,
            survey,
            Answer(solved=solved, rating=rating, comment="师傅很负责"),
            actor=None,
            calendar=await load_calendar(conn, settings),
            now=dt.datetime.now(dt.UTC),
        )


# --------------------------------------------------------------------- transfer


async def test_an_agent_transfers_an_order_and_the_platform_acknowledges_it(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings, platform: FakePlatform
) -> None:
    made = await add_platform(desks, pool, platform)
    order = await desks["agent"].post(
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": "G-CONSULT",
            "description": "咨询营业执照办理，不属于供水业务",
            "caller_phone": "13800000001",
        },
        status=201,
    )
    path = f"/api/v1/orders/{order['id']}/transfer"
    await desks["agent"].post(path, {"platform": "nowhere", "reason": "x"}, status=422)
    moved = await desks["agent"].post(
        path, {"platform": made["code"], "reason": "属市场监管部门职责"}
    )
    assert moved["status"] == "transferred"
    await desks["agent"].post(path, {"platform": made["code"], "reason": "again"}, status=409)
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM deadlines WHERE order_id = $1 AND state = 'pending'", order["id"]
        )
        == 0
    )

    def acknowledged() -> bool:
        return any(m.get("our_number") == order["number"] for m in platform.taken)

    await pump(pool, settings, acknowledged)
    (transfer,) = [m for m in platform.taken if m.get("our_number") == order["number"]]
    assert transfer["event"] == "transferred"
    assert transfer["order"]["description"] == "咨询营业执照办理，不属于供水业务"
    assert transfer["reason"] == "属市场监管部门职责"
    history = await desks["agent"].get(f"/api/v1/orders/{order['id']}/exchange")
    assert history["exchange"]["direction"] == "out"
    assert history["exchange"]["platform_number"] == transfer["number"]
    assert history["messages"][0]["answer"]["number"] == transfer["number"]


async def test_agents_see_where_to_transfer_and_a_draft_is_classified_first(
    desks: dict[str, Desk], pool: asyncpg.Pool, platform: FakePlatform
) -> None:
    made = await add_platform(desks, pool, platform)
    listed = await desks["agent"].get("/api/v1/exchange/destinations")
    (mine,) = [p for p in listed["items"] if p["code"] == made["code"]]
    # Code and names only: an agent sees no address, contract or message counts.
    assert mine == {"code": made["code"], "name_zh": "青岛市12345热线", "name_en": "Qingdao 12345"}
    response = await desks["water"].client.get("/api/v1/exchange/destinations")
    assert response.status == 403
    async with pool.acquire() as conn:
        draft = await insert_order(
            conn,
            {
                "number": unique("96111-t-"),
                "hotline_code": "96111",
                "channel": "sms",
                "description": "请问营业执照怎么办理",
                "status": "draft",
            },
        )
    answer = await desks["agent"].post(
        f"/api/v1/orders/{draft['id']}/transfer",
        {"platform": made["code"], "reason": "属市场监管部门职责"},
        status=422,
    )
    assert "service_item" in answer["error"]["fields"]


# -------------------------------------------------------- failures and retry


async def test_a_message_the_platform_refuses_stops_its_order_until_retried(
    server: TestServer,
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    platform: FakePlatform,
) -> None:
    made = await add_platform(desks, pool, platform)
    number = unique("QD2026-")
    order_id = await pushed(server, pool, platform, made, an_order(number))
    # Two moves the platform must see; it refuses the first for good (400).
    platform.failures = [400]
    await pool.execute(
        "INSERT INTO order_events (order_id, type, actor, data) VALUES "
        "($1, 'dispatch.note', 'test', $2), ($1, 'dispatch.note', 'test', $3)",
        order_id,
        {"text": "第一条进展", "public": True},
        {"text": "第二条进展", "public": True},
    )

    await pump(pool, settings, lambda: bool(platform.requests))
    await pump(pool, settings, rounds=2)
    rows = await pool.fetch(
        "SELECT state FROM exchange_messages WHERE order_id = $1 ORDER BY seq", order_id
    )
    assert [r["state"] for r in rows] == ["failed", "waiting"]
    order = await desks["supervisor"].get(f"/api/v1/orders/{order_id}")
    assert "exchange.failed" in [e["type"] for e in order["events"]]
    failed = await desks["supervisor"].get("/api/v1/exchange/failed")
    (mine,) = [f for f in failed["items"] if f["order_id"] == order_id]
    assert mine["last_status"] == 400

    await desks["supervisor"].post(f"/api/v1/exchange/messages/{mine['id']}/retry")
    await desks["supervisor"].post(f"/api/v1/exchange/messages/{mine['id']}/retry", status=409)
    await pump(pool, settings, lambda: len(platform.events(number)) == 2)
    assert [m["text"] for m in platform.taken if m["number"] == number] == [
        "第一条进展",
        "第二条进展",
    ]


# ------------------------------------------------------------------- contract


def test_the_contract_renames_fields_and_events_both_ways() -> None:
    contract = Contract.model_validate(
        {
            "fields": {"number": "orderNo", "text": "content", "order": "detail"},
            "events": {"accepted": "SIGN"},
            "paths": {"status": "/feedback/{number}"},
        }
    )
    sent = contract.outgoing(
        {"event": "accepted", "number": "P1", "text": "签收", "order": {"number": "P1"}}
    )
    assert sent == {
        "event": "SIGN",
        "orderNo": "P1",
        "content": "签收",
        "detail": {"orderNo": "P1"},
    }
    assert contract.incoming({"orderNo": "P2", "description": "d", "other": 1}) == {
        "number": "P2",
        "description": "d",
    }
    assert contract.status_path("P1") == "/feedback/P1"
    with pytest.raises(ValueError, match="does not have"):
        Contract.model_validate({"fields": {"nonsense": "x"}})
    with pytest.raises(ValueError, match="share"):
        Contract.model_validate({"fields": {"number": "a", "description": "a"}})


async def test_platforms_are_administered_without_showing_secrets_again(
    server: TestServer, desks: dict[str, Desk], pool: asyncpg.Pool, platform: FakePlatform
) -> None:
    made = await add_platform(desks, pool, platform)
    assert made["key"].startswith("hlx_") and made["secret"]
    listed = await desks["supervisor"].get("/api/v1/exchange/platforms")
    (shown,) = [p for p in listed["items"] if p["code"] == made["code"]]
    assert "key" not in shown and "secret" not in shown and "key_hash" not in shown
    # A supervisor of another hotline does not see the 96111 platform.
    energy = await desk(str(server.make_url("/")), pool, "supervisor", hotline_code="96556")
    try:
        theirs = await energy.get("/api/v1/exchange/platforms")
        assert made["code"] not in [p["code"] for p in theirs["items"]]
    finally:
        await energy.client.close()
    await desks["admin"].post(
        "/api/v1/exchange/platforms",
        {"code": made["code"], "name_zh": "x", "name_en": "x", "hotline_code": "96111"},
        status=409,
    )
    response = await desks["admin"].client.patch(
        f"/api/v1/exchange/platforms/{made['code']}",
        json={"contract": {"events": {"nonsense": "X"}}},
        headers={"X-CSRF-Token": desks["admin"].csrf},
    )
    assert response.status == 422
    renewed = await desks["admin"].post(f"/api/v1/exchange/platforms/{made['code']}/credentials")
    assert renewed["key"] != made["key"]
    changes = await pool.fetch(
        "SELECT action, after::text AS after FROM admin_changes WHERE entity = 'exchange_platform' "
        "AND entity_key = $1 ORDER BY id",
        made["code"],
    )
    assert [c["action"] for c in changes] == ["create", "renew_credentials"]
    assert all(made["secret"] not in c["after"] and made["key"] not in c["after"] for c in changes)
