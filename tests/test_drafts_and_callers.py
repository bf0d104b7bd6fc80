"""Drafts from channels, confirmed by an agent; the caller's profile for the screen-pop."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from hotline.orders.models import NewDraft
from hotline.orders.service import do_register_draft
from hotline.settings import Settings
from tests.routing_support import Desk, open_desks, settle


@pytest.fixture
async def desks(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[dict[str, Desk]]:
    async with open_desks(server, pool, "agent", "water") as opened:
        yield opened


async def sms_draft(pool: asyncpg.Pool, text: str, phone: str = "13912340000") -> asyncpg.Record:
    async with pool.acquire() as conn, conn.transaction():
        return await do_register_draft(
            conn,
            NewDraft(hotline="96111", channel="sms", description=text, caller_phone=phone),
            dt.datetime.now(dt.UTC),
        )


async def test_a_draft_has_a_number_but_no_clock_until_an_agent_confirms_it(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    draft = await sms_draft(pool, "我家水表漏水了,地址宁夏路5号")
    assert draft["status"] == "draft" and draft["number"].startswith("96111-")
    assert draft["service_item_code"] is None
    agent = desks["agent"]
    before = await agent.get(f"/api/v1/orders/{draft['id']}")
    assert before["deadlines"] == [] and before["actions"] == [
        "confirm",
        "merge",
        "cancel",
        "transfer",
    ]
    drafts = await agent.get("/api/v1/orders", status="draft", limit="200")
    assert draft["id"] in [o["id"] for o in drafts["items"]]

    confirmed = await agent.post(
        f"/api/v1/orders/{draft['id']}/confirm",
        {"service_item": "W05", "area": "370202001", "address": "宁夏路5号"},
    )
    assert confirmed["status"] == "registered" and confirmed["service_item_code"] == "W05"
    detail = await agent.get(f"/api/v1/orders/{draft['id']}")
    assert {d["kind"] for d in detail["deadlines"]} == {"first_contact", "resolution"}
    # The clock started when the citizen wrote, not when the agent confirmed.
    assert [e["type"] for e in detail["events"]] == ["order.drafted", "order.confirm"]
    again = await agent.post(
        f"/api/v1/orders/{draft['id']}/confirm", {"service_item": "W05"}, status=409
    )
    assert again["error"]["code"] == "illegal_transition"
    await settle(pool, settings)
    routed = await agent.get(f"/api/v1/orders/{draft['id']}")
    assert routed["status"] in ("dispatched", "escalated")


async def test_confirming_needs_a_real_service_item(
    desks: dict[str, Desk], pool: asyncpg.Pool
) -> None:
    draft = await sms_draft(pool, "咨询")
    refused = await desks["agent"].post(
        f"/api/v1/orders/{draft['id']}/confirm", {"service_item": "NOPE"}, status=422
    )
    assert refused["error"]["fields"] == {"service_item": "服务事项不存在或已停用"}
    unit = await desks["water"].post(
        f"/api/v1/orders/{draft['id']}/confirm", {"service_item": "W05"}, status=403
    )
    assert unit["error"]["code"] == "role_forbidden"


async def test_the_caller_profile_lists_open_and_past_orders(
    desks: dict[str, Desk], pool: asyncpg.Pool
) -> None:
    agent = desks["agent"]
    phone = "13955550001"
    first = await agent.post(
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": "G-CONSULT",
            "description": "咨询水价",
            "caller_phone": phone,
            "caller_name": "王先生",
        },
        status=201,
    )
    await agent.post(f"/api/v1/orders/{first['id']}/resolve-on-call", {"reply": "已答复"})
    second = await agent.post(
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": "W01",
            "description": "水表不准",
            "caller_phone": phone,
        },
        status=201,
    )
    profile = await agent.get("/api/v1/callers/+8613955550001")
    assert profile["known"] and profile["citizen"]["name"] == "王先生"
    assert [o["id"] for o in profile["open_orders"]] == [second["id"]]
    assert [o["id"] for o in profile["past_orders"]] == [first["id"]]
    local = await agent.get("/api/v1/callers/139 5555 0001")
    assert local["phone"] == "+8613955550001"
    unknown = await agent.get("/api/v1/callers/13700000009")
    assert unknown == {
        "phone": "+8613700000009",
        "known": False,
        "citizen": None,
        "prefill": {"area_code": None, "address": ""},
        "open_orders": [],
        "past_orders": [],
        "contacts": [],
        "changes": [],
    }
    bad = await agent.client.get("/api/v1/callers/not-a-phone")
    assert bad.status == 422
    forbidden = await desks["water"].client.get(f"/api/v1/callers/{phone}")
    assert forbidden.status == 403
