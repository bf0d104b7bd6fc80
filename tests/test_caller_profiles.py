"""Agents and supervisors change a caller's profile; every change is recorded and shown.
Another hotline's order is one line of the caller's history, without its details."""

from __future__ import annotations

import datetime as dt

import asyncpg
from aiohttp import ClientSession

from hotline.settings import Settings
from tests.factories import log_in, make_user, register_order

PHONE = "13900001111"


async def test_a_profile_is_changed_with_history_and_checked_at_the_edge(
    client: ClientSession, pool: asyncpg.Pool, settings: Settings, now: dt.datetime
) -> None:
    async with pool.acquire() as conn:
        username, agent = await make_user(conn, "agent", hotline_code="96111")
        await register_order(conn, agent, settings, now, caller_phone=PHONE)
        _, admin = await make_user(conn, "admin")
        await register_order(
            conn, admin, settings, now, hotline="96556", service_item="G04", caller_phone=PHONE
        )
        representative, _ = await make_user(conn, "enterprise_user", enterprise_code="qd-water")
    csrf = await log_in(client, username)
    headers = {"X-CSRF-Token": csrf}

    before = await (await client.get(f"/api/v1/callers/{PHONE}")).json()
    # A returning caller's place comes from the last order the agent may see.
    assert before["prefill"] == {"area_code": "370202", "address": "香港中路 100 号"}
    other = [o for o in before["open_orders"] if o.get("other_hotline")]
    assert [set(o) for o in other] == [
        {"number", "hotline_code", "status", "created_at", "other_hotline"}
    ]

    changed = await client.patch(
        f"/api/v1/callers/{PHONE}",
        json={
            "special_needs": True,
            "key_account": True,
            "representative_username": representative,
            "preferred_language": "en",
            "area_code": "370203",
            "address": "台东一路 8 号",
            "notes": "听力不好，请大声",
        },
        headers=headers,
    )
    assert changed.status == 200, await changed.text()
    profile = await changed.json()
    citizen = profile["citizen"]
    assert citizen["special_needs"] and citizen["key_account"]
    assert citizen["representative_username"] == representative
    assert profile["prefill"] == {"area_code": "370203", "address": "台东一路 8 号"}
    history = {c["field"]: (c["old_value"], c["new_value"]) for c in profile["changes"]}
    assert history["special_needs"] == ("false", "true")
    assert history["representative_username"] == ("", representative)
    assert history["address"] == ("", "台东一路 8 号")
    assert all(agent.name in c["actor"] for c in profile["changes"])

    # The same again changes nothing and records nothing.
    same = await client.patch(
        f"/api/v1/callers/{PHONE}", json={"special_needs": True}, headers=headers
    )
    assert len((await same.json())["changes"]) == len(profile["changes"])

    refused = await client.patch(
        f"/api/v1/callers/{PHONE}",
        json={"area_code": "999999", "representative_username": "nobody", "notes": "x" * 2001},
        headers=headers,
    )
    assert refused.status == 422
    assert set((await refused.json())["error"]["fields"]) == {"notes"}  # the shape first
    refused = await client.patch(
        f"/api/v1/callers/{PHONE}",
        json={"area_code": "999999", "representative_username": "nobody"},
        headers=headers,
    )
    assert set((await refused.json())["error"]["fields"]) == {
        "area_code",
        "representative_username",
    }
    bad_phone = await client.patch("/api/v1/callers/not-a-phone", json={}, headers=headers)
    assert bad_phone.status == 422


async def test_a_unit_cannot_change_a_profile(client: ClientSession, pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        username, _ = await make_user(conn, "enterprise_user", enterprise_code="qd-water")
    csrf = await log_in(client, username)
    response = await client.patch(
        f"/api/v1/callers/{PHONE}", json={"key_account": True}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 403
