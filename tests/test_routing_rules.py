"""Rules management, key customers, duplicates and merging, outage linking."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from hotline.settings import Settings
from tests.factories import make_user
from tests.routing_support import Desk, enterprise_ids, open_desks, settle


@pytest.fixture
async def desks(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[dict[str, Desk]]:
    async with open_desks(server, pool, "agent", "supervisor", "water") as opened:
        yield opened


async def test_rules_are_validated_versioned_and_disabled(desks: dict[str, Desk]) -> None:
    sup = desks["supervisor"]
    ids = await enterprise_ids(sup)
    rule = await sup.post(
        "/api/v1/routing/rules",
        {
            "service_item": "H02",
            "area": "370211",
            "candidates": [ids["huadian-heat"]],
            "note": "黄岛区停热申请",
        },
        status=201,
    )
    clash = await sup.post(
        "/api/v1/routing/rules",
        {"service_item": "H02", "area": "370211", "candidates": [ids["jinhu-heat"]]},
        status=409,
    )
    assert clash["error"]["code"] == "duplicate_rule"
    unknown = await sup.post(
        "/api/v1/routing/rules",
        {"service_item": "NOPE", "area": "999", "candidates": [999999]},
        status=422,
    )
    assert set(unknown["error"]["fields"]) == {"service_item", "area", "candidates"}
    both = await sup.post(
        "/api/v1/routing/rules",
        {"service_item": "H02", "domain": "heating", "candidates": [ids["jinhu-heat"]]},
        status=422,
    )
    assert both["error"]["code"] == "invalid"

    response = await sup.client.put(
        f"/api/v1/routing/rules/{rule['id']}",
        json={
            "service_item": "H02",
            "area": "370211",
            "candidates": [ids["jinhu-heat"], ids["huadian-heat"]],
        },
        headers={"X-CSRF-Token": sup.csrf},
    )
    assert response.status == 200
    disabled = await sup.post(f"/api/v1/routing/rules/{rule['id']}/disable")
    assert disabled["active"] is False
    history = (await sup.get(f"/api/v1/routing/rules/{rule['id']}/history"))["items"]
    assert [h["action"] for h in history] == ["created", "updated", "disabled"]
    assert history[1]["before"]["candidates"] == [ids["huadian-heat"]]
    # With the rule disabled, another one may take the same key.
    await sup.post(
        "/api/v1/routing/rules",
        {"service_item": "H02", "area": "370211", "candidates": [ids["jinhu-heat"]]},
        status=201,
    )


async def test_only_supervisors_change_rules(desks: dict[str, Desk]) -> None:
    ids = await enterprise_ids(desks["agent"])
    for who in ("agent", "water"):
        refused = await desks[who].post(
            "/api/v1/routing/rules",
            {"service_item": "H03", "candidates": [ids["qd-water"]]},
            status=403,
        )
        assert refused["error"]["code"] == "role_forbidden"


async def test_ranking_prefers_the_street_rule_then_the_district_then_the_domain(
    desks: dict[str, Desk],
) -> None:
    sup = desks["supervisor"]
    ids = await enterprise_ids(sup)
    for body in (
        {"service_item": "G03", "area": "370212001", "candidates": [ids["qd-energy"]]},
        {"service_item": "G03", "area": "370212", "candidates": [ids["qd-billing"]]},
        {
            "domain": "gas",
            "area": "370212",
            "candidates": [ids["qd-energy-gas"] if "qd-energy-gas" in ids else ids["luqing-heat"]],
        },
    ):
        await sup.post("/api/v1/routing/rules", body, status=201)
    order = await desks["agent"].post(
        "/api/v1/orders",
        {
            "hotline": "96556",
            "service_item": "G03",
            "area": "370212001",
            "description": "燃气表不走字",
        },
        status=201,
    )
    ranking = await sup.get(f"/api/v1/orders/{order['id']}/candidates")
    names = [c["enterprise_id"] for c in ranking["leads"]]
    assert names[:2] == [ids["qd-energy"], ids["qd-billing"]]
    assert len(names) == 3
    assert ranking["leads"][0]["reason"].startswith("规则 ")


async def test_a_key_customer_goes_to_the_representatives_unit(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    ids = await enterprise_ids(desks["supervisor"])
    await desks["supervisor"].post(
        "/api/v1/routing/rules",
        {"service_item": "W02", "area": "370213001", "candidates": [ids["qd-water"]]},
        status=201,
    )
    first = await desks["agent"].post(
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": "W02",
            "area": "370213001",
            "description": "工厂新建厂房用水报装",
            "caller_phone": "13705320001",
        },
        status=201,
    )
    async with pool.acquire() as conn:
        _, representative = await make_user(conn, "enterprise_user", enterprise_code="qd-billing")
        # 客户代表制: a key customer served by a named representative.
        await conn.execute(
            "UPDATE citizens SET key_account = true, representative_user_id = $2 WHERE id = $1",
            first["citizen_id"],
            representative.user_id,
        )
    second = await desks["agent"].post(
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": "W02",
            "area": "370213001",
            "description": "报装进度查询",
            "caller_phone": "13705320001",
        },
        status=201,
    )
    await settle(pool, settings)
    routed = await desks["agent"].get(f"/api/v1/orders/{second['id']}")
    assert routed["lead_enterprise_id"] == ids["qd-billing"]
    dispatch = next(e for e in routed["events"] if e["type"] == "order.dispatch")
    assert dispatch["data"]["reason"].startswith("重点客户：客户代表")


async def test_registration_offers_duplicates_and_merge_keeps_every_caller(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    agent = desks["agent"]
    parent = await agent.post(
        "/api/v1/orders",
        {
            "hotline": "12319",
            "service_item": "W05",
            "area": "370203003",
            "address": "宁夏路 201 号 3 单元",
            "description": "楼道水管漏水",
            "caller_phone": "13800000001",
            "caller_name": "张先生",
        },
        status=201,
    )
    child = await agent.post(
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": "W05",
            "area": "370203003",
            "address": "宁夏路201号3单元",
            "description": "楼下一直在漏水",
            "caller_phone": "13800000002",
            "caller_name": "李女士",
        },
        status=201,
    )
    offered = {d["id"]: d for d in child["possible_duplicates"]}
    assert parent["id"] in offered
    assert "address 100% alike" in offered[parent["id"]]["reasons"][0]

    merged = await agent.post(f"/api/v1/orders/{child['id']}/merge", {"parent_id": parent["id"]})
    assert merged["status"] == "merged" and merged["parent_id"] == parent["id"]
    detail = await agent.get(f"/api/v1/orders/{parent['id']}")
    assert [c["caller_phone"] for c in detail["merged_children"]] == ["+8613800000002"]
    assert "order.child_merged" in [e["type"] for e in detail["events"]]
    child_detail = await agent.get(f"/api/v1/orders/{child['id']}")
    assert {d["state"] for d in child_detail["deadlines"]} == {"cancelled"}
    again = await agent.post(
        f"/api/v1/orders/{child['id']}/merge", {"parent_id": parent["id"]}, status=409
    )
    assert again["error"]["code"] == "illegal_transition"
    await settle(pool, settings)


async def test_orders_in_an_outage_area_join_the_outage_parent_on_their_own(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    now = dt.datetime.now(dt.UTC)
    outage = await desks["supervisor"].post(
        "/api/v1/outages",
        {
            "domain": "water",
            "kind": "emergency",
            "title": "辽宁路主管爆裂抢修停水",
            "areas": ["370214001"],
            "starts_at": (now - dt.timedelta(hours=1)).isoformat(),
            "ends_at": (now + dt.timedelta(hours=6)).isoformat(),
        },
        status=201,
    )
    listed = (await desks["agent"].get("/api/v1/outages"))["items"]
    assert outage["id"] in [o["id"] for o in listed]
    calls = [
        await desks["agent"].post(
            "/api/v1/orders",
            {
                "hotline": "96111",
                "service_item": "W04",
                "area": "370214001",
                "description": f"家里停水了 {i}",
                "caller_phone": f"1390000000{i}",
            },
            status=201,
        )
        for i in range(3)
    ]
    await settle(pool, settings)
    first, *others = [await desks["agent"].get(f"/api/v1/orders/{c['id']}") for c in calls]
    assert first["status"] in ("dispatched", "escalated")
    for other in others:
        assert other["status"] == "merged" and other["parent_id"] == first["id"]
    parent = await desks["agent"].get(f"/api/v1/orders/{first['id']}")
    assert len(parent["merged_children"]) == 2
    bad = await desks["supervisor"].post(
        "/api/v1/outages",
        {
            "domain": "water",
            "kind": "planned",
            "title": "x",
            "areas": ["999"],
            "starts_at": now.isoformat(),
            "ends_at": (now - dt.timedelta(hours=1)).isoformat(),
        },
        status=422,
    )
    assert bad["error"]["code"] == "invalid"
