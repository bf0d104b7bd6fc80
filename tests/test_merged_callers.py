"""Merged orders (重复件, an outage's callers): found while the agent registers, merged
along the chain to the root parent, and every merged caller called back when the parent
is done (issue 15, items 2 and 10)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from callbacks.policy import CallbackPolicy
from hotline.reference.calendar import load_calendar
from hotline.settings import Settings
from tests.callback_support import sign_and_complete
from tests.routing_support import Desk, enterprise_ids, open_desks, settle


@pytest.fixture
async def desks(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[dict[str, Desk]]:
    async with open_desks(server, pool, "agent", "supervisor", "water") as opened:
        yield opened


@pytest.fixture
async def manual_callbacks(pool: asyncpg.Pool) -> AsyncIterator[None]:
    """The standing post-completion campaign calls through the agents' queue meanwhile
    (the tests share one database: it is set back after)."""
    update = "UPDATE callback_campaigns SET channel = $1 WHERE kind = 'post_completion'"
    await pool.execute(update, "manual")
    yield
    await pool.execute(update, "voice")


async def water_outage(supervisor: Desk, area: str) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return await supervisor.post(  # type: ignore[no-any-return]
        "/api/v1/outages",
        {
            "domain": "water",
            "kind": "emergency",
            "title": "主管爆裂抢修停水",
            "area_codes": [area],
            "starts_at": (now - dt.timedelta(hours=1)).isoformat(),
            "ends_at": (now + dt.timedelta(hours=6)).isoformat(),
        },
        status=201,
    )


def no_water(area: str, phone: str, **more: Any) -> dict[str, Any]:
    return {
        "hotline_code": "96111",
        "service_item_code": "W04",
        "area_code": area,
        "address": "延安三路 8 号",
        "description": "家里停水了",
        "caller_phone": phone,
        **more,
    }


async def survey_attempts(pool: asyncpg.Pool, order_ids: list[int]) -> dict[int, asyncpg.Record]:
    rows = await pool.fetch(
        """
        SELECT s.order_id, s.dispatch_id, s.enterprise_id, a.id AS attempt_id
          FROM callback_surveys s JOIN callback_attempts a ON a.survey_id = s.id
         WHERE s.order_id = ANY($1::bigint[])
        """,
        order_ids,
    )
    return {r["order_id"]: r for r in rows}


async def test_every_caller_of_an_outage_is_called_back_and_closes_or_reopens_on_their_word(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings, manual_callbacks: None
) -> None:
    agent, area = desks["agent"], "370211005"
    water = (await enterprise_ids(desks["supervisor"]))["qd-water"]
    await desks["supervisor"].post(
        "/api/v1/routing/rules",
        {"service_item_code": "W04", "area_code": area, "candidates": [water]},
        status=201,
    )
    await water_outage(desks["supervisor"], area)
    phones = ["13911110001", "13911110002", "13911110003", "13911110002"]
    orders = []
    for phone in phones:  # one at a time: the first becomes the outage's parent
        orders.append(await agent.post("/api/v1/orders", no_water(area, phone), status=201))
        await settle(pool, settings)
    parent, unhappy, content, again = (o["id"] for o in orders)
    # A fourth merged caller replied 退订 (integrations.telephony.opt_out): no text.
    stopped = "+8613911110004"
    orders.append(await agent.post("/api/v1/orders", no_water(area, stopped), status=201))
    await settle(pool, settings)
    await pool.execute(
        "INSERT INTO sms_opt_outs VALUES ($1, now(), 'SMtest') ON CONFLICT DO NOTHING", stopped
    )
    dispatch = await sign_and_complete(desks["water"], parent)
    await settle(pool, settings)

    # One callback per caller (the one who rang twice is asked once), each about the
    # parent's work; the merged callers are texted that the fault is fixed.
    surveys = await survey_attempts(pool, [parent, unhappy, content, again])
    assert set(surveys) == {parent, unhappy, content}
    assert {s["dispatch_id"] for s in surveys.values()} == {dispatch}
    assert {s["enterprise_id"] for s in surveys.values()} == {water}
    texts = await pool.fetch(
        "SELECT to_phone, body, due_at FROM outbound_messages"
        " WHERE effect_key LIKE 'callback.fixed:%' AND to_phone = ANY($1::text[])",
        ["+8613911110001", "+8613911110002", "+8613911110003", stopped],
    )
    assert sorted(t["to_phone"] for t in texts) == ["+8613911110002", "+8613911110003"]
    assert all("已处理完毕" in t["body"] for t in texts)
    # Texted at once inside the calling hours, else when they begin: never at night.
    async with pool.acquire() as conn:
        policy = CallbackPolicy.from_settings(settings, await load_calendar(conn, settings))
    for text in texts:
        assert policy.is_calling_time(text["due_at"]), text["due_at"]

    async def answer(order_id: int, solved: bool, rating: int) -> Any:
        attempt = surveys[order_id]["attempt_id"]
        body = {"solved": solved, "rating": rating, "comment": "还是没水"}
        return await agent.post(f"/api/v1/callbacks/manual/{attempt}/answer", body)

    # A merged caller whose water is still off: their order leaves the parent and is
    # redone on its own by the unit that did the parent's work.
    assert (await answer(unhappy, False, 1))["outcome"] == "reopened"
    await settle(pool, settings)
    split = await agent.get(f"/api/v1/orders/{unhappy}")
    assert split["status"] == "dispatched" and split["parent_id"] is None
    assert split["dispatches"][-1]["enterprise_id"] == water
    (reopened,) = [e for e in split["events"] if e["type"] == "order.reopen"]
    assert reopened["data"]["split_from"] == orders[0]["number"]
    # The parent's own caller is content: it closes, and its merged orders with it.
    assert (await answer(parent, True, 5))["outcome"] == "closed"
    for order_id in (content, again):
        closed = await agent.get(f"/api/v1/orders/{order_id}")
        assert closed["status"] == "closed"
        (event,) = [e for e in closed["events"] if e["type"] == "order.close"]
        assert event["data"]["with_parent"] == orders[0]["number"]
    # The work is rated by its own caller; the merged one's later answer leaves it.
    assert (await answer(content, True, 3))["outcome"] == "recorded"
    rated = await pool.fetchrow("SELECT * FROM dispatch_ratings WHERE dispatch_id = $1", dispatch)
    assert (rated["rating"], rated["callback_outcome"]) == (5, "good")

    # The outage still runs but its parent's work is done: a new call is the fault come
    # back, routed as the outage's new parent (merged, it would never be called back).
    back = await agent.post("/api/v1/orders", no_water(area, "13911110004"), status=201)
    await settle(pool, settings)
    assert (await agent.get(f"/api/v1/orders/{back['id']}"))["status"] == "dispatched"
    done = await agent.post(f"/api/v1/orders/{back['id']}/merge", {"parent_id": parent}, status=409)
    assert done["error"]["code"] == "invalid_parent"


async def test_candidates_are_offered_before_registering_and_merging_follows_the_chain(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    agent, area = desks["agent"], "370203005"
    typed = {"service_item_code": "W04", "area_code": area, "address": "延安三路8号"}
    assert (await agent.get("/api/v1/duplicate-candidates", **typed))["items"] == []
    first = await agent.post("/api/v1/orders", no_water(area, "13922220001"), status=201)
    await settle(pool, settings)
    (similar,) = (await agent.get("/api/v1/duplicate-candidates", **typed))["items"]
    assert similar["id"] == first["id"]
    assert similar["matches"][0]["kind"] == "similar_address"

    # Registered straight into it: merged in the registration's transaction, so the
    # router finds it merged and no unit ever sees it.
    child = await agent.post(
        "/api/v1/orders", no_water(area, "13922220002", parent_id=first["id"]), status=201
    )
    assert child["status"] == "merged" and child["parent_id"] == first["id"]
    await settle(pool, settings)
    assert (await agent.get(f"/api/v1/orders/{child['id']}"))["dispatches"] == []

    # An outage published now: its parent comes first among the candidates.
    await water_outage(desks["supervisor"], area)
    outage_parent = await agent.post(
        "/api/v1/orders", no_water(area, "13922220003", address="另一条路 99 号"), status=201
    )
    await settle(pool, settings)
    items = (await agent.get("/api/v1/duplicate-candidates", **typed))["items"]
    assert items[0]["id"] == outage_parent["id"]
    assert items[0]["matches"] == [{"kind": "outage", "title": "主管爆裂抢修停水"}]

    # The first order merged into the outage's parent; merging into the first now
    # merges into the root parent instead of failing.
    await agent.post(f"/api/v1/orders/{first['id']}/merge", {"parent_id": outage_parent["id"]})
    late = await agent.post("/api/v1/orders", no_water(area, "13922220004"), status=201)
    merged = await agent.post(f"/api/v1/orders/{late['id']}/merge", {"parent_id": first["id"]})
    assert merged["parent_id"] == outage_parent["id"]
    loop = await agent.post(
        f"/api/v1/orders/{outage_parent['id']}/merge", {"parent_id": first["id"]}, status=422
    )
    assert loop["error"]["code"] == "invalid_merge"
    await settle(pool, settings)
