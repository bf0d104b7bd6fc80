"""On-site visits after a bad rating (routing.visits), end to end through the API with
the real relay and worker: the post-completion callback is made by hand here, so an
agent's answer decides each round."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from hotline.settings import Settings
from tests.routing_support import Desk, enterprise_ids, open_desks, order_events, settle
from tests.test_callbacks import mobile
from tests.test_routing import PNG, proof_form


@pytest.fixture
async def desks(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[dict[str, Desk]]:
    # The database is the session's: the standing campaign calls by voice again after.
    await pool.execute(
        "UPDATE callback_campaigns SET channel = 'manual' WHERE kind = 'post_completion'"
    )
    try:
        async with open_desks(server, pool, "agent", "supervisor", "water") as opened:
            yield opened
    finally:
        await pool.execute(
            "UPDATE callback_campaigns SET channel = 'voice' WHERE kind = 'post_completion'"
        )


async def repair_order(desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings) -> int:
    """A repair (W05, 供水设施维修调试) routed to 青岛水务集团 by a rule of its own."""
    area = "370283002"
    water = (await enterprise_ids(desks["supervisor"]))["qd-water"]
    rules = (await desks["supervisor"].get("/api/v1/routing/rules"))["items"]
    if not any(r["service_item_code"] == "W05" and r["area_code"] == area for r in rules):
        await desks["supervisor"].post(
            "/api/v1/routing/rules",
            {"service_item_code": "W05", "area_code": area, "candidates": [water]},
            status=201,
        )
    order = await desks["agent"].post(
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": "W05",
            "area": area,
            "description": "楼下水管漏水",
            "address": "平度路 9 号",
            "caller_phone": mobile(),
            "caller_name": "市民丙",
        },
        status=201,
    )
    await settle(pool, settings)
    return int(order["id"])


async def lead_row(unit: Desk, order_id: int) -> dict[str, Any]:
    (row,) = [r for r in (await unit.get("/api/v1/inbox"))["items"] if r["order_id"] == order_id]
    return row  # type: ignore[no-any-return]


async def complete(unit: Desk, dispatch_id: int, status: int = 200) -> Any:
    return await unit.post(
        f"/api/v1/dispatches/{dispatch_id}/complete", {"reply": "已更换阀门"}, status=status
    )


async def call_back(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings, order_id: int, **answer: Any
) -> str:
    """The completion's callback, made now by an agent with ``answer``; its outcome."""
    await settle(pool, settings)
    attempt = await pool.fetchval(
        """
        UPDATE callback_attempts a SET due_at = now() FROM callback_surveys s
         WHERE s.id = a.survey_id AND s.order_id = $1 AND a.state = 'manual'
        RETURNING a.id
        """,
        order_id,
    )
    assert attempt is not None, "no callback waits for an agent"
    done = await desks["agent"].post(f"/api/v1/callbacks/manual/{attempt}/answer", answer)
    await settle(pool, settings)
    return str(done["outcome"])


async def upload_photo(unit: Desk, dispatch_id: int) -> int:
    response = await unit.client.post(
        f"/api/v1/dispatches/{dispatch_id}/attachments",
        data=proof_form(PNG, "site.png"),
        headers={"X-CSRF-Token": unit.csrf},
    )
    assert response.status == 201, await response.text()
    return int((await response.json())["id"])


async def record_visit(unit: Desk, dispatch_id: int, status: int = 200, **changes: Any) -> Any:
    body = {
        "visited_at": dt.datetime.now(dt.UTC).isoformat(),
        "visitors": "维修班 张强、李明",
        "findings": "楼下阀门老化渗水，已更换阀门并试压",
        "citizen_confirmation": "on_site",
        **changes,
    }
    return await unit.post(f"/api/v1/dispatches/{dispatch_id}/visit", body, status=status)


async def test_a_bad_rating_on_a_repair_needs_a_visit_before_the_order_closes_again(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    items = {i["code"]: i for i in (await desks["agent"].get("/api/v1/service-items"))["items"]}
    assert items["W05"]["visit_after_bad_rating"] and not items["W01"]["visit_after_bad_rating"]
    water = desks["water"]
    order_id = await repair_order(desks, pool, settings)
    first = await lead_row(water, order_id)
    assert first["visit_id"] is None
    await water.post(f"/api/v1/dispatches/{first['id']}/sign-for")
    await complete(water, first["id"])

    # 不满意: reopened, redone by the same unit, which now owes a visit.
    assert await call_back(desks, pool, settings, order_id, solved=False, rating=2) == "reopened"
    redo = await lead_row(water, order_id)
    assert redo["id"] != first["id"] and redo["visit_id"] is not None
    (visit,) = (await water.get(f"/api/v1/orders/{order_id}/visits"))["items"]
    assert (visit["state"], visit["round"], visit["reason"]) == ("pending", 1, "回访不满意")
    # Within the item's first-contact limit (two natural hours for W05).
    opened = dt.datetime.fromisoformat(visit["created_at"])
    assert dt.datetime.fromisoformat(visit["due_at"]) - opened == dt.timedelta(hours=2)

    await water.post(f"/api/v1/dispatches/{redo['id']}/sign-for")
    refused = await complete(water, redo["id"], status=409)
    assert refused["error"]["code"] == "visit_required"

    photo = await upload_photo(water, redo["id"])
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    invalid = await record_visit(
        water, redo["id"], 422, visited_at=later, attachment_ids=[photo, 2**62]
    )
    assert invalid["error"]["code"] == "invalid_visit"
    assert set(invalid["error"]["fields"]) == {"visited_at", "attachment_ids"}
    await record_visit(water, redo["id"], 422, attachment_ids=[])  # a photo is needed
    recorded = await record_visit(water, redo["id"], attachment_ids=[photo])
    assert (recorded["state"], recorded["citizen_confirmation"]) == ("recorded", "on_site")
    assert recorded["attachment_ids"] == [photo] and recorded["dispatch_id"] == redo["id"]
    assert recorded["enterprise_id"] == redo["enterprise_id"] and recorded["recorded_by"]
    again = await record_visit(water, redo["id"], 409, attachment_ids=[photo])
    assert again["error"]["code"] == "no_visit_pending"

    assert (await complete(water, redo["id"]))["status"] == "completed"
    assert await call_back(desks, pool, settings, order_id, solved=True, rating=4) == "closed"
    order = await desks["agent"].get(f"/api/v1/orders/{order_id}")
    assert order["status"] == "closed"
    events = await order_events(desks["agent"], order_id)
    assert events.index("visit.required") < events.index("visit.recorded")
    visit_clock = await pool.fetchval(
        "SELECT state FROM deadlines WHERE order_id = $1 AND kind = 'visit'", order_id
    )
    assert visit_clock == "cancelled"


async def redone_after_a_visit(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings, **visit: Any
) -> int:
    """A repair rated badly, visited (with ``visit``'s fields) and completed again."""
    water = desks["water"]
    order_id = await repair_order(desks, pool, settings)
    first = await lead_row(water, order_id)
    await water.post(f"/api/v1/dispatches/{first['id']}/sign-for")
    await complete(water, first["id"])
    assert await call_back(desks, pool, settings, order_id, solved=False, rating=1) == "reopened"
    redo = await lead_row(water, order_id)
    await water.post(f"/api/v1/dispatches/{redo['id']}/sign-for")
    photo = await upload_photo(water, redo["id"])
    await record_visit(water, redo["id"], attachment_ids=[photo], **visit)
    await complete(water, redo["id"])
    return order_id


async def test_a_second_bad_rating_goes_to_the_centre_whose_ruling_settles_the_visit(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    order_id = await redone_after_a_visit(desks, pool, settings, citizen_confirmation="refused")

    # Unsatisfied again: the centre coordinates it, and the round owes a visit of its own.
    outcome = await call_back(
        desks, pool, settings, order_id, solved=False, rating=1, comment="还是漏"
    )
    assert outcome == "escalated"
    visits = (await desks["supervisor"].get(f"/api/v1/orders/{order_id}/visits"))["items"]
    assert [(v["round"], v["state"]) for v in visits] == [(1, "recorded"), (2, "pending")]
    assert visits[0]["citizen_confirmation"] == "refused"

    # Its deadline passes unrecorded: the alert is on the order.
    await pool.execute(
        "UPDATE deadlines SET due_at = now() WHERE order_id = $1 AND kind = 'visit'"
        " AND state = 'pending'",
        order_id,
    )
    await settle(pool, settings)
    assert "visit.overdue" in await order_events(desks["supervisor"], order_id)

    ruling = "诉求不合理：管道属小区物业产权，已告知来电人"
    closed = await desks["supervisor"].post(f"/api/v1/orders/{order_id}/ruling", {"ruling": ruling})
    assert closed["status"] == "closed"
    ruled = (await desks["supervisor"].get(f"/api/v1/orders/{order_id}/visits"))["items"][1]
    assert (ruled["state"], ruled["ruling"]) == ("ruled", ruling)
    assert ruled["ruled_by"] and ruled["ruled_at"]
    order = await desks["supervisor"].get(f"/api/v1/orders/{order_id}")
    (event,) = [e for e in order["events"] if e["type"] == "visit.ruled"]
    assert event["data"] == {"visit_id": ruled["id"], "ruling": ruling}


async def test_after_a_visit_a_callback_that_reaches_nobody_waits_for_a_ruling(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    order_id = await redone_after_a_visit(desks, pool, settings)
    for _ in range(settings.callback_max_attempts):
        outcome = await call_back(
            desks, pool, settings, order_id, reached=False, outcome="no-answer"
        )
        assert outcome == "no-answer"
    order = await desks["supervisor"].get(f"/api/v1/orders/{order_id}")
    assert order["status"] == "completed"  # not closed: nobody said it is solved
    assert [e["type"] for e in order["events"]][-2:] == [
        "callback.unreachable",
        "visit.awaiting_ruling",
    ]
    closed = await desks["supervisor"].post(
        f"/api/v1/orders/{order_id}/ruling", {"ruling": "多次回访未接通，上门时市民已确认修复"}
    )
    assert closed["status"] == "closed"
