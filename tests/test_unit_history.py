"""The enterprise inbox's field work over the API: progress records with photos, and the
unit's history of completed orders (scoped to the unit, searched, keyset-paged)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from hotline.phones import mask_phone
from hotline.settings import Settings
from tests.routing_support import Desk, enterprise_ids, open_desks, settle
from tests.test_routing import PNG, add_rule, detail, open_dispatch, proof_form, register


@pytest.fixture
async def desks(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[dict[str, Desk]]:
    async with open_desks(server, pool, "agent", "supervisor", "water", "heat") as opened:
        yield opened


async def upload(unit: Desk, dispatch_id: int, name: str) -> dict[str, Any]:
    response = await unit.client.post(
        f"/api/v1/dispatches/{dispatch_id}/attachments",
        data=proof_form(PNG, name),
        headers={"X-CSRF-Token": unit.csrf},
    )
    assert response.status == 201, await response.text()
    stored: dict[str, Any] = await response.json()
    return stored


async def signed_dispatch(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings, unit: str, **order: Any
) -> tuple[dict[str, Any], int]:
    """An order of W01 in ``order["area"]`` routed to ``unit``'s enterprise and signed for."""
    created = await register(desks["agent"], "W01", **order)
    await settle(pool, settings)
    code = {"water": "qd-water", "heat": "huadian-heat"}[unit]
    ids = await enterprise_ids(desks["agent"])
    dispatch_id = open_dispatch(await detail(desks["agent"], created["id"]), ids[code])["id"]
    await desks[unit].post(f"/api/v1/dispatches/{dispatch_id}/sign-for")
    return created, dispatch_id


async def test_a_progress_record_carries_photos_of_its_order_only(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    await add_rule(desks["supervisor"], "W01", "370211002", "qd-water")
    order, dispatch_id = await signed_dispatch(desks, pool, settings, "water", area="370211002")
    other, other_dispatch = await signed_dispatch(desks, pool, settings, "water", area="370211002")
    photo = await upload(desks["water"], dispatch_id, "valve.png")
    foreign = await upload(desks["water"], other_dispatch, "elsewhere.png")

    refused = await desks["water"].post(
        f"/api/v1/dispatches/{dispatch_id}/notes",
        {"text": "已关阀", "attachment_ids": [photo["id"], foreign["id"]]},
        status=422,
    )
    assert refused["error"]["code"] == "invalid_attachment"
    await desks["water"].post(
        f"/api/v1/dispatches/{dispatch_id}/notes",
        {"text": "已关阀，正在抢修", "attachment_ids": [photo["id"]]},
    )
    # Another unit's user cannot record progress on it (nor learn that it exists).
    await desks["heat"].post(
        f"/api/v1/dispatches/{dispatch_id}/notes", {"text": "不是我们的"}, status=404
    )

    shown = await detail(desks["agent"], order["id"])
    notes = [e for e in shown["events"] if e["type"] == "dispatch.note"]
    assert [(n["data"]["text"], n["data"]["attachment_ids"]) for n in notes] == [
        ("已关阀，正在抢修", [photo["id"]])
    ]
    assert [a["filename"] for a in shown["attachments"]] == ["valve.png"]
    assert other["id"] != order["id"]


async def test_the_history_is_the_units_own_searched_and_paged(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    await add_rule(desks["supervisor"], "W01", "370211003", "qd-water")
    await add_rule(desks["supervisor"], "W01", "370211004", "huadian-heat")
    done = []
    for n in range(3):
        order, dispatch_id = await signed_dispatch(
            desks,
            pool,
            settings,
            "water",
            area="370211003",
            description=f"历史检索样本{n} 阀门井漏水",
            address=f"台东{n}路",
            caller_phone="+8613800138000",
        )
        await desks["water"].post(
            f"/api/v1/dispatches/{dispatch_id}/complete", {"reply": f"已修复{n}"}
        )
        done.append(order)
    heat_order, heat_dispatch = await signed_dispatch(
        desks,
        pool,
        settings,
        "heat",
        area="370211004",
        description="历史检索样本 热力",
        address="台东9路",
    )
    await desks["heat"].post(f"/api/v1/dispatches/{heat_dispatch}/complete", {"reply": "已修复"})
    still_open, _ = await signed_dispatch(
        desks, pool, settings, "water", area="370211003", description="历史检索样本 未办结"
    )

    # The unit's own completed dispatches only, the latest completed first.
    found = await desks["water"].get("/api/v1/inbox/history", q="历史检索样本")
    assert [i["order_id"] for i in found["items"]] == [o["id"] for o in reversed(done)]
    assert found["next_cursor"] is None
    assert all(i["state"] == "completed" for i in found["items"])
    assert found["items"][0]["reply"] == "已修复2"
    # Finished work: the citizen's number is no longer the unit's to call.
    assert found["items"][0]["caller_phone"] == mask_phone("+8613800138000")
    heat = await desks["heat"].get("/api/v1/inbox/history", q="历史检索样本")
    assert [i["order_id"] for i in heat["items"]] == [heat_order["id"]]
    assert still_open["id"] not in {i["order_id"] for i in found["items"]}

    # By number, by address, by description; LIKE's wildcards are taken literally.
    by_number = await desks["water"].get("/api/v1/inbox/history", q=done[1]["number"])
    assert [i["order_id"] for i in by_number["items"]] == [done[1]["id"]]
    by_address = await desks["water"].get("/api/v1/inbox/history", q="台东0路")
    assert [i["order_id"] for i in by_address["items"]] == [done[0]["id"]]
    assert (await desks["water"].get("/api/v1/inbox/history", q="历史检索%样本"))["items"] == []

    # Page by page with the cursor, then the end.
    pages = []
    cursor = ""
    while True:
        params = {"q": "阀门井漏水", "limit": "1"} | ({"cursor": cursor} if cursor else {})
        page = await desks["water"].get("/api/v1/inbox/history", **params)
        pages += [i["order_id"] for i in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
    assert pages == [o["id"] for o in reversed(done)]

    # A cursor of another list, or none this server made, is refused.
    orders_cursor = base64.urlsafe_b64encode(b"newest|2026-01-01T00:00:00+00:00|1").decode()
    for bad in (orders_cursor, "not-a-cursor"):
        response = await desks["water"].client.get("/api/v1/inbox/history", params={"cursor": bad})
        assert response.status == 422
        assert (await response.json())["error"]["code"] == "invalid_cursor"
    # Centre staff have no unit and no history.
    response = await desks["agent"].client.get("/api/v1/inbox/history")
    assert response.status == 403
