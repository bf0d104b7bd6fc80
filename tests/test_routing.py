"""The routing engine end to end: API requests, the real relay, the real RQ worker."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from callbacks import queries as callback_queries
from hotline.orders import queries as order_queries
from hotline.settings import Settings
from tests.factories import Clock
from tests.routing_support import Desk, enterprise_ids, open_desks, order_events, settle
from tests.test_callbacks import assert_kept_counts_are_a_recount, local

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def proof_form(data: bytes, filename: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=filename, content_type="application/octet-stream")
    return form


@pytest.fixture
async def desks(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[dict[str, Desk]]:
    async with open_desks(
        server, pool, "agent", "supervisor", "water", "billing", "heat"
    ) as opened:
        yield opened


async def add_rule(
    supervisor: Desk, item: str, area: str, *codes: str, assisting: tuple[str, ...] = ()
) -> Any:
    ids = await enterprise_ids(supervisor)
    return await supervisor.post(
        "/api/v1/routing/rules",
        {
            "service_item": item,
            "area": area,
            "candidates": [ids[c] for c in codes],
            "assisting": [ids[c] for c in assisting],
        },
        status=201,
    )


async def register(agent: Desk, item: str, area: str, **extra: Any) -> Any:
    body = {
        "hotline": "96111",
        "service_item": item,
        "area": area,
        "description": "来电反映问题",
        "address": "测试路 1 号",
        **extra,
    }
    return await agent.post("/api/v1/orders", body, status=201)


async def detail(d: Desk, order_id: int) -> Any:
    return await d.get(f"/api/v1/orders/{order_id}")


def open_dispatch(order: dict[str, Any], enterprise_id: int) -> dict[str, Any]:
    return next(
        d
        for d in order["dispatches"]
        if d["enterprise_id"] == enterprise_id and d["state"] in ("pending", "signed")
    )


async def test_dispatched_signed_completed_with_proof(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    rule = await add_rule(desks["supervisor"], "W01", "370202001", "qd-water")
    order = await register(desks["agent"], "W01", "370202001")
    await settle(pool, settings)

    routed = await detail(desks["agent"], order["id"])
    assert routed["status"] == "dispatched"
    water = (await enterprise_ids(desks["supervisor"]))["qd-water"]
    assert routed["lead_enterprise_id"] == water
    dispatched = next(e for e in routed["events"] if e["type"] == "order.dispatch")
    assert dispatched["data"]["reason"] == (
        f"规则 {rule['id']}：水表校验（八大峡街道） → 青岛水务集团"
    )
    candidates = next(e for e in routed["events"] if e["type"] == "order.start_dispatch")
    assert candidates["data"]["candidates"][0]["rule_id"] == rule["id"]

    inbox = await desks["water"].get("/api/v1/inbox")
    mine = [i for i in inbox["items"] if i["order_id"] == order["id"]]
    assert len(mine) == 1 and mine[0]["state"] == "pending"
    dispatch_id = mine[0]["id"]
    assert (await desks["water"].post(f"/api/v1/dispatches/{dispatch_id}/sign-for"))[
        "status"
    ] == "in_progress"
    await desks["water"].post(f"/api/v1/dispatches/{dispatch_id}/notes", {"text": "已派人上门"})

    upload = await desks["water"].client.post(
        f"/api/v1/dispatches/{dispatch_id}/attachments",
        data=proof_form(PNG, "meter.png"),
        headers={"X-CSRF-Token": desks["water"].csrf},
    )
    assert upload.status == 201, await upload.text()
    attachment = await upload.json()
    assert attachment["content_type"] == "image/png"

    done = await desks["water"].post(
        f"/api/v1/dispatches/{dispatch_id}/complete",
        {"reply": "已更换水表", "attachment_ids": [attachment["id"]]},
    )
    assert done["status"] == "completed"
    final = await detail(desks["agent"], order["id"])
    assert {d["state"] for d in final["deadlines"]} <= {"cancelled", "fired"}
    assert [a["id"] for a in final["attachments"]] == [attachment["id"]]
    assert await order_events(desks["agent"], order["id"]) == [
        "order.registered",
        "order.start_dispatch",
        "order.dispatch",
        "order.sign_for",
        "dispatch.note",
        "order.complete",
    ]
    download = await desks["agent"].client.get(f"/api/v1/attachments/{attachment['id']}")
    assert download.status == 200 and await download.read() == PNG


async def test_a_file_that_is_not_a_proof_type_is_refused(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    await add_rule(desks["supervisor"], "W01", "370202002", "qd-water")
    order = await register(desks["agent"], "W01", "370202002")
    await settle(pool, settings)
    dispatch_id = open_dispatch(
        await detail(desks["agent"], order["id"]),
        (await enterprise_ids(desks["agent"]))["qd-water"],
    )["id"]
    upload = await desks["water"].client.post(
        f"/api/v1/dispatches/{dispatch_id}/attachments",
        data=proof_form(b"<html>hi</html>", "photo.png"),
        headers={"X-CSRF-Token": desks["water"].csrf},
    )
    assert upload.status == 422
    assert (await upload.json())["error"]["code"] == "file_type"


async def test_returned_and_upheld_goes_to_the_next_unit(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    ids = await enterprise_ids(desks["supervisor"])
    await add_rule(desks["supervisor"], "W01", "370202003", "qd-water", "qd-billing")
    order = await register(desks["agent"], "W01", "370202003")
    await settle(pool, settings)
    first = await detail(desks["agent"], order["id"])
    due_before = first["resolution_due_at"]
    dispatch_id = open_dispatch(first, ids["qd-water"])["id"]

    returned = await desks["water"].post(
        f"/api/v1/dispatches/{dispatch_id}/return",
        {"reason_code": "wrong_area", "reason_text": "不在辖区"},
    )
    assert returned["status"] == "returned" and returned["bounce_count"] == 1
    pending = (await desks["supervisor"].get("/api/v1/returns"))["items"]
    review = next(r for r in pending if r["order_id"] == order["id"])
    assert review["reason_code"] == "wrong_area"

    upheld = await desks["supervisor"].post(
        f"/api/v1/returns/{review['id']}/review", {"decision": "uphold"}
    )
    assert upheld["status"] == "dispatched"
    assert upheld["lead_enterprise_id"] == ids["qd-billing"]
    assert upheld["resolution_due_at"] == due_before  # the clock ran on through the bounce
    again = await desks["supervisor"].post(
        f"/api/v1/returns/{review['id']}/review", {"decision": "uphold"}, status=409
    )
    assert again["error"]["code"] == "already_reviewed"


async def test_an_overruled_return_goes_back_to_the_same_unit(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    ids = await enterprise_ids(desks["supervisor"])
    await add_rule(desks["supervisor"], "W01", "370202004", "qd-water", "qd-billing")
    order = await register(desks["agent"], "W01", "370202004")
    await settle(pool, settings)
    dispatch_id = open_dispatch(await detail(desks["agent"], order["id"]), ids["qd-water"])["id"]
    await desks["water"].post(
        f"/api/v1/dispatches/{dispatch_id}/return", {"reason_code": "not_our_duty"}
    )
    review = next(
        r
        for r in (await desks["supervisor"].get("/api/v1/returns"))["items"]
        if r["order_id"] == order["id"]
    )
    missing_note = await desks["supervisor"].post(
        f"/api/v1/returns/{review['id']}/review", {"decision": "overrule"}, status=422
    )
    assert "body" in str(missing_note["error"]["fields"]) or missing_note["error"]["fields"]
    forced = await desks["supervisor"].post(
        f"/api/v1/returns/{review['id']}/review", {"decision": "overrule", "note": "属于供水设施"}
    )
    assert forced["status"] == "dispatched" and forced["lead_enterprise_id"] == ids["qd-water"]
    latest = open_dispatch(await detail(desks["agent"], order["id"]), ids["qd-water"])
    assert latest["id"] != dispatch_id


async def test_returned_by_every_unit_goes_to_coordination_then_lead_and_assisting(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    ids = await enterprise_ids(desks["supervisor"])
    await add_rule(desks["supervisor"], "W01", "370202005", "qd-water")
    order = await register(desks["agent"], "W01", "370202005")
    await settle(pool, settings)
    dispatch_id = open_dispatch(await detail(desks["agent"], order["id"]), ids["qd-water"])["id"]
    await desks["water"].post(
        f"/api/v1/dispatches/{dispatch_id}/return", {"reason_code": "not_our_duty"}
    )
    review = next(
        r
        for r in (await desks["supervisor"].get("/api/v1/returns"))["items"]
        if r["order_id"] == order["id"]
    )
    escalated = await desks["supervisor"].post(
        f"/api/v1/returns/{review['id']}/review", {"decision": "uphold"}
    )
    assert escalated["status"] == "escalated"
    queue = await desks["supervisor"].get("/api/v1/orders", status="escalated", limit="200")
    assert order["id"] in [o["id"] for o in queue["items"]]

    due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    coordinated = await desks["supervisor"].post(
        f"/api/v1/orders/{order['id']}/coordinate",
        {
            "lead": ids["qd-billing"],
            "assisting": [ids["huadian-heat"]],
            "due_at": due,
            "note": "河岸管段无人接管,由收费中心牵头",
        },
    )
    assert coordinated["status"] == "dispatched"
    assert coordinated["resolution_due_at"] == dt.datetime.fromisoformat(due).isoformat()

    state = await detail(desks["agent"], order["id"])
    helper = open_dispatch(state, ids["huadian-heat"])
    lead = open_dispatch(state, ids["qd-billing"])
    assert helper["role"] == "assisting" and lead["role"] == "lead"
    await desks["heat"].post(f"/api/v1/dispatches/{helper['id']}/sign-for")
    await desks["heat"].post(f"/api/v1/dispatches/{helper['id']}/part", {"text": "已关闭阀门"})
    await desks["billing"].post(f"/api/v1/dispatches/{lead['id']}/sign-for")
    done = await desks["billing"].post(
        f"/api/v1/dispatches/{lead['id']}/complete", {"reply": "已协调修复"}
    )
    assert done["status"] == "completed"
    assert "dispatch.part" in await order_events(desks["agent"], order["id"])


async def test_an_order_no_rule_covers_goes_to_coordination(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    order = await register(desks["agent"], "B05", "370203001")
    await settle(pool, settings)
    escalated = await detail(desks["agent"], order["id"])
    assert escalated["status"] == "escalated"
    event = next(e for e in escalated["events"] if e["type"] == "order.escalate")
    assert event["data"]["reason"] == "没有匹配的派单规则"


async def test_a_unit_cannot_touch_another_units_dispatch(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    ids = await enterprise_ids(desks["supervisor"])
    await add_rule(desks["supervisor"], "W01", "370202006", "qd-water")
    order = await register(desks["agent"], "W01", "370202006")
    await settle(pool, settings)
    dispatch_id = open_dispatch(await detail(desks["agent"], order["id"]), ids["qd-water"])["id"]
    refused = await desks["billing"].post(f"/api/v1/dispatches/{dispatch_id}/sign-for", status=404)
    assert refused["error"]["code"] == "not_found"
    await desks["water"].post(f"/api/v1/dispatches/{dispatch_id}/sign-for")
    twice = await desks["water"].post(f"/api/v1/dispatches/{dispatch_id}/sign-for", status=409)
    assert twice["error"]["code"] == "dispatch_state"


async def test_an_approved_extension_moves_the_due_and_is_counted(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    ids = await enterprise_ids(desks["supervisor"])
    await add_rule(desks["supervisor"], "W01", "370203002", "qd-water")
    order = await register(desks["agent"], "W01", "370203002")
    await settle(pool, settings)
    dispatch_id = open_dispatch(await detail(desks["agent"], order["id"]), ids["qd-water"])["id"]
    await desks["water"].post(f"/api/v1/dispatches/{dispatch_id}/sign-for")
    current = dt.datetime.fromisoformat(
        (await detail(desks["agent"], order["id"]))["resolution_due_at"]
    )
    wanted = (current + dt.timedelta(days=7)).isoformat()
    request = await desks["water"].post(
        f"/api/v1/dispatches/{dispatch_id}/time-requests",
        {"reason": "需更换主管道,待材料", "requested_due_at": wanted},
    )
    await desks["water"].post(
        f"/api/v1/dispatches/{dispatch_id}/time-requests",
        {"reason": "again", "requested_due_at": wanted},
        status=409,
    )
    approved = await desks["supervisor"].post(
        f"/api/v1/time-requests/{request['id']}/decision", {"decision": "approve", "note": "同意"}
    )
    assert approved["resolution_due_at"] == dt.datetime.fromisoformat(wanted).isoformat()
    state = await detail(desks["agent"], order["id"])
    resolution = [d for d in state["deadlines"] if d["kind"] == "resolution"]
    assert sorted(d["state"] for d in resolution) == ["cancelled", "pending"]
    assert next(d for d in resolution if d["state"] == "pending")["due_at"] == (
        dt.datetime.fromisoformat(wanted).isoformat()
    )
    counted = await pool.fetchval(
        "SELECT extension_count FROM work_orders WHERE id = $1", order["id"]
    )
    assert counted == 1


async def test_assisting_units_are_closed_with_the_order(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings, clock: Clock
) -> None:
    """Coordination names a lead and two assisting units; one never signs, one signs and
    never hands in its part. The lead completes: both are withdrawn with a reason and an
    event, leave their inboxes, and are not counted late once their sign-for deadline
    has passed, in the live figures or after a recount. The work happens on a day of
    its own (the test clock), so that day's figures hold this order's dispatches only."""
    ids = await enterprise_ids(desks["supervisor"])
    order = await register(desks["agent"], "B05", "370203002")  # no rule: coordination
    await settle(pool, settings)
    day = local(2025, 6, 2, 10, 0)

    async def figures_of_the_day() -> dict[str, Any]:
        clock.set(day + dt.timedelta(days=10))  # every sign-for deadline has passed
        answer = await desks["supervisor"].get(
            "/api/v1/figures", by="unit", start="2025-06-02", end="2025-06-02"
        )
        return {i["key"]: i for i in answer["items"]}

    clock.set(day)
    await desks["supervisor"].post(
        f"/api/v1/orders/{order['id']}/coordinate",
        {
            "lead_enterprise_id": ids["qd-billing"],
            "assisting": [ids["qd-water"], ids["huadian-heat"]],
            "due_at": (day + dt.timedelta(days=3)).isoformat(),
            "note": "收费中心牵头，水务、热电协办",
        },
    )
    state = await detail(desks["agent"], order["id"])
    lead = open_dispatch(state, ids["qd-billing"])
    silent = open_dispatch(state, ids["qd-water"])
    signed = open_dispatch(state, ids["huadian-heat"])
    clock.set(day + dt.timedelta(minutes=30))
    await desks["heat"].post(f"/api/v1/dispatches/{signed['id']}/sign-for")
    await desks["billing"].post(f"/api/v1/dispatches/{lead['id']}/sign-for")
    clock.set(day + dt.timedelta(hours=2))
    done = await desks["billing"].post(
        f"/api/v1/dispatches/{lead['id']}/complete", {"reply": "已协调修复"}
    )
    assert done["status"] == "completed"

    state = await detail(desks["agent"], order["id"])
    by_id = {d["id"]: d for d in state["dispatches"]}
    assert by_id[lead["id"]]["state"] == "completed"
    for helper in (silent, signed):
        assert by_id[helper["id"]]["state"] == "withdrawn"
        assert by_id[helper["id"]]["withdrawn_reason"] == "订单已办结，协办任务随之撤回"
    events = [e for e in state["events"] if e["type"] == "dispatch.withdrawn"]
    assert {e["actor"] for e in events} == {"system"}
    withdrawals = [e["data"] for e in events]
    assert sorted(w["dispatch_id"] for w in withdrawals) == sorted([silent["id"], signed["id"]])
    assert all(w["reason"] == "订单已办结，协办任务随之撤回" for w in withdrawals)
    assert not [d for d in state["deadlines"] if d["state"] in ("pending", "enqueued")]
    for unit, helper in (("water", silent), ("heat", signed)):
        inbox = (await desks[unit].get("/api/v1/inbox"))["items"]
        assert helper["id"] not in [i["id"] for i in inbox]
        kept = (await desks[unit].get("/api/v1/inbox", state="withdrawn"))["items"]
        (mine,) = [i for i in kept if i["id"] == helper["id"]]
        assert mine["withdrawn_reason"] == "订单已办结，协办任务随之撤回"

    # The silent unit's sign-for deadline passes: the ladder does not remind it.
    late = dt.datetime.fromisoformat(silent["sign_for_due_at"]) + dt.timedelta(seconds=1)
    await settle(pool, settings, at=late)
    assert "ladder.reminder" not in await order_events(desks["agent"], order["id"])
    # Not counted, live or kept: only the lead unit has figures for that day.
    live = await figures_of_the_day()
    assert list(live) == [str(ids["qd-billing"])]
    assert live[str(ids["qd-billing"])]["response_rate"] == 1.0
    async with pool.acquire() as conn:
        async with conn.transaction():
            await callback_queries.rebuild_figure_counts(conn)
        async with conn.transaction():
            await order_queries.rebuild_board_counts(conn)
    assert await figures_of_the_day() == live


async def test_candidates_mark_the_units_that_returned_the_order(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    ids = await enterprise_ids(desks["supervisor"])
    await add_rule(desks["supervisor"], "W01", "370215006", "qd-water", "qd-billing")
    order = await register(desks["agent"], "W01", "370215006")
    await settle(pool, settings)
    fresh = await desks["supervisor"].get(f"/api/v1/orders/{order['id']}/candidates")
    assert [c["enterprise_id"] for c in fresh["leads"]] == [ids["qd-water"], ids["qd-billing"]]
    assert [c["returned"] for c in fresh["leads"]] == [None, None] and fresh["returned"] == []

    dispatch_id = open_dispatch(await detail(desks["agent"], order["id"]), ids["qd-water"])["id"]
    await desks["water"].post(
        f"/api/v1/dispatches/{dispatch_id}/return",
        {"reason_code": "other", "reason_text": "该管段属开发商自管"},
    )
    ranked = await desks["supervisor"].get(f"/api/v1/orders/{order['id']}/candidates")
    # The unit that returned it comes last, with its return; the fresh one first.
    assert [c["enterprise_id"] for c in ranked["leads"]] == [ids["qd-billing"], ids["qd-water"]]
    assert ranked["leads"][0]["returned"] is None
    returned = ranked["leads"][1]["returned"]
    assert returned["reason_code"] == "other"
    assert returned["reason_text"] == "该管段属开发商自管"
    assert returned["state"] == "pending"
    assert [r["enterprise_id"] for r in ranked["returned"]] == [ids["qd-water"]]
    assert ranked["returned"][0]["name"] == "青岛水务集团"


async def test_the_figures_judge_a_return_by_the_centres_review(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings, clock: Clock
) -> None:
    """Issue 15, item 15: a return counts nowhere while the centre reviews it; upheld
    (not the unit's duty) it never counts against the unit; overruled it counts as a
    response missed. Two orders in coordination, both led by the water company on a day
    of their own, both returned: one upheld, one overruled and then signed for in time.
    The kept counts are a recount's."""
    ids = await enterprise_ids(desks["supervisor"])
    water = str(ids["qd-water"])
    day = local(2025, 7, 8, 10, 0)

    async def water_figures() -> dict[str, Any] | None:
        clock.set(day + dt.timedelta(days=10))  # every sign-for deadline has passed
        answer = await desks["supervisor"].get(
            "/api/v1/figures", by="unit", start="2025-07-08", end="2025-07-08"
        )
        return next((i for i in answer["items"] if i["key"] == water), None)

    reviews = []
    for _ in range(2):
        order = await register(desks["agent"], "B05", "370203002")  # no rule: coordination
        await settle(pool, settings)
        clock.set(day)
        await desks["supervisor"].post(
            f"/api/v1/orders/{order['id']}/coordinate",
            {
                "lead_enterprise_id": ids["qd-water"],
                "due_at": (day + dt.timedelta(days=3)).isoformat(),
                "note": "水务牵头",
            },
        )
        dispatch = open_dispatch(await detail(desks["agent"], order["id"]), ids["qd-water"])
        await desks["water"].post(
            f"/api/v1/dispatches/{dispatch['id']}/return", {"reason_code": "not_our_duty"}
        )
        pending = (await desks["supervisor"].get("/api/v1/returns"))["items"]
        reviews.append((order, next(r for r in pending if r["order_id"] == order["id"])))
    assert await water_figures() is None  # both returns wait for the centre

    (_, upheld), (overruled_order, overruled) = reviews
    clock.set(day + dt.timedelta(hours=1))
    await desks["supervisor"].post(f"/api/v1/returns/{upheld['id']}/review", {"decision": "uphold"})
    assert await water_figures() is None

    clock.set(day + dt.timedelta(hours=1))
    await desks["supervisor"].post(
        f"/api/v1/returns/{overruled['id']}/review", {"decision": "overrule", "note": "属于供水"}
    )
    forced = open_dispatch(await detail(desks["agent"], overruled_order["id"]), ids["qd-water"])
    clock.set(day + dt.timedelta(hours=1, minutes=10))
    await desks["water"].post(f"/api/v1/dispatches/{forced['id']}/sign-for")
    figures = await water_figures()
    assert figures is not None
    # The overruled return (missed) and the forced dispatch (signed in time); the upheld
    # return nowhere.
    assert (figures["dispatched"], figures["signed_on_time"]) == (2, 1)
    async with pool.acquire() as conn:
        await assert_kept_counts_are_a_recount(conn)
    assert await water_figures() == figures
