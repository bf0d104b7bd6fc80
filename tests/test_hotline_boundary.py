"""Hotlines are a boundary: a centre user sees and acts on its hotlines' orders only.

Every API operation that reaches an order, or something of an order, by an id in its
path is called by a supervisor of 96111 on rows of a 96556 order: each must answer 404,
as for an id that does not exist. A new such operation fails here until it is listed,
with a body that passes validation (so the 404 is the boundary's, not a 422)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import asyncpg
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from callbacks import queries as callback_queries
from hotline.settings import Settings
from hotline.users.models import Role
from hotline.users.service import do_set_user_hotlines
from integrations.open311.views.form import PHOTO_KEY_LENGTH, PHOTO_PATH
from routing import queries as routing_queries
from tests.factories import dispatch_to, log_in, make_user, register_order
from tests.routing_support import Desk
from web.keys import API
from wiring.app import create_app

# Path ids that name no order's row: nothing to bound by hotline. A caller's profile
# shows other hotlines' orders as one line each (tests/test_caller_profiles.py). The
# knowledge base's articles are every hotline's to read (tests/test_knowledge.py). A
# user's saved filter (filter_id) is no order's row: another user's is 404 anyway. A
# notice (通报) is the centre's about units; the orders it lists are shown to a centre
# user of its own hotlines only (tests/test_rankings.py). A stored periodic report is of
# one hotline or of the centre, and another's is 404 (tests/test_report_periodic.py).
NOT_OF_AN_ORDER = {
    # An export is its requester's file (another user's is 404: tests/test_exports.py).
    "export_id",
    "notice_id",
    "report_id",
    "campaign_id",
    "rule_id",
    "client_id",
    "phone",
    "training_id",
    "article_id",
    "version",
    "filter_id",
}

# A recording the carrier would be asked for (which answers 502 in tests) if the boundary
# let the request through.
RECORDING = "RE" + "0" * 32

# Bodies that pass validation, for the operations that take one.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/orders/{order_id}/resolve-on-call"): {"reply": "已答复"},
    ("POST", "/api/v1/orders/{order_id}/confirm"): {"service_item_code": "G04"},
    ("POST", "/api/v1/orders/{order_id}/coordinate"): {
        "lead_enterprise_id": 1,
        "due_at": "2030-01-01T00:00:00+08:00",
        "note": "协调",
    },
    ("POST", "/api/v1/orders/{order_id}/priority"): {"priority": "urgent"},
    ("POST", "/api/v1/orders/{order_id}/merge"): {"parent_id": 0},  # set to an own order
    ("POST", "/api/v1/orders/{order_id}/ruling"): {"ruling": "裁定"},
    ("POST", "/api/v1/returns/{return_id}/review"): {"decision": "uphold"},
    ("POST", "/api/v1/time-requests/{request_id}/decision"): {"decision": "approve"},
    ("POST", "/api/v1/rating-appeals/{appeal_id}/decision"): {"decision": "approve"},
    ("POST", "/api/v1/callbacks/manual/{attempt_id}/answer"): {
        "reached": False,
        "outcome": "busy",
    },
    ("POST", "/api/v1/orders/{order_id}/transfer"): {"platform": "boundary", "reason": "r"},
}


async def foreign_rows(
    conn: asyncpg.Connection, settings: Settings, now: dt.datetime
) -> tuple[dict[str, int], int]:
    """Rows of one 96556 order, by the path parameter that names them; and a 96111 order."""
    _, admin = await make_user(conn, "admin")
    order = await register_order(
        conn, admin, settings, now, hotline="96556", service_item="G04", caller_phone="13800005556"
    )
    own = await register_order(conn, admin, settings, now, caller_phone="13800005556")
    dispatch = await dispatch_to(conn, order["id"], "qd-energy", now)
    unit = dispatch["enterprise_id"]
    returned = await routing_queries.insert_return(
        conn,
        order_id=order["id"],
        dispatch_id=dispatch["id"],
        enterprise_id=unit,
        reason_code="not_our_duty",
        reason_text="",
        returned_by="t",
        now=now,
    )
    extension = await routing_queries.insert_time_request(
        conn,
        {
            "order_id": order["id"],
            "dispatch_id": dispatch["id"],
            "kind": "extension",
            "reason": "r",
            "requested_due_at": now + dt.timedelta(days=3),
            "requested_by": "t",
            "now": now,
        },
    )
    attachment = await routing_queries.insert_attachment(
        conn,
        {
            "order_id": order["id"],
            "dispatch_id": dispatch["id"],
            "filename": "a.jpg",
            "content_type": "image/jpeg",
            "size_bytes": 1,
            "sha256": "0",
            "storage_key": f"boundary-{order['id']}",
            "uploaded_by": "t",
            "now": now,
        },
    )
    appeal = await callback_queries.insert_appeal(
        conn,
        {
            "dispatch_id": dispatch["id"],
            "enterprise_id": unit,
            "reason": "r",
            "appealed_by": "t",
            "now": now,
        },
    )
    call_id = await conn.fetchval(
        "INSERT INTO calls (call_sid, from_phone, to_number, hotline_code, recording_sid) "
        "VALUES ('CA-boundary', '+8613800005556', '96556', '96556', $1) RETURNING id",
        RECORDING,
    )
    campaign = await conn.fetchval(
        "INSERT INTO callback_campaigns (kind, name, channel, hotline_code) "
        "VALUES ('proactive', 'p', 'manual', '96556') RETURNING id"
    )
    survey = await conn.fetchval(
        "INSERT INTO callback_surveys (campaign_id, order_id, phone, hotline_code, channel, "
        "recording_url) VALUES ($1, $2, '+8613800005556', '96556', 'manual', $3) RETURNING id",
        campaign,
        order["id"],
        f"https://api.twilio.com/2010-04-01/Recordings/{RECORDING}",
    )
    attempt = await conn.fetchval(
        "INSERT INTO callback_attempts (survey_id, number, channel, effect_key, state, due_at) "
        "VALUES ($1, 1, 'manual', 'boundary', 'manual', $2) RETURNING id",
        survey,
        now,
    )
    # The order came from a 12345 platform, and a status message to it failed.
    await conn.execute(
        "INSERT INTO exchange_platforms (code, name_zh, name_en, hotline_code, key_hash, secret) "
        "VALUES ('boundary', '边界', 'Boundary', '96556', 'boundary', 's') ON CONFLICT DO NOTHING"
    )
    await conn.execute(
        "INSERT INTO exchange_orders (order_id, platform_code, direction, platform_number, "
        "created_at) VALUES ($1, 'boundary', 'in', $2, $3)",
        order["id"],
        f"B{order['id']}",
        now,
    )
    message = await conn.fetchval(
        "INSERT INTO exchange_messages (order_id, platform_code, seq, event, effect_key, payload, "
        "state) VALUES ($1, 'boundary', 1, 'accepted', $2, '{}', 'failed') RETURNING id",
        order["id"],
        f"boundary:{order['id']}",
    )
    photo = "a" * PHOTO_KEY_LENGTH  # a photo sent with the public form
    await conn.execute(
        "UPDATE work_orders SET media_url = $2 WHERE id = $1", order["id"], PHOTO_PATH + photo
    )
    ids = {
        "key": photo,
        "order_id": order["id"],
        "dispatch_id": dispatch["id"],
        "return_id": returned["id"],
        "request_id": extension["id"],
        "attachment_id": attachment["id"],
        "appeal_id": appeal["id"],
        "call_id": call_id,
        "attempt_id": attempt,
        "survey_id": survey,
        "message_id": message,
    }
    return ids, own["id"]


async def test_every_order_route_hides_other_hotlines_orders(
    server: TestServer,
    client: ClientSession,
    pool: asyncpg.Pool,
    settings: Settings,
    now: dt.datetime,
) -> None:
    async with pool.acquire() as conn:
        ids, own = await foreign_rows(conn, settings, now)
        username, _ = await make_user(conn, "supervisor", hotline_code="96111")
    csrf = await log_in(client, username)
    desk = Desk(client, csrf)
    operations = [
        op
        for op in create_app(settings)[API].operations
        if not op.public and (op.roles is None or Role.SUPERVISOR in op.roles)
    ]
    checked = 0
    for op in operations:
        params = re.findall(r"\{(\w+)", op.path)
        if not params or set(params) <= NOT_OF_AN_ORDER:
            continue
        unknown = set(params) - set(ids) - NOT_OF_AN_ORDER
        assert not unknown, f"{op.method} {op.path}: add {unknown} to foreign_rows"
        key = (op.method, op.openapi_path)
        assert op.body is None or key in BODIES, f"{key}: add a valid body to BODIES"
        body = {**BODIES.get(key, {})}
        if "parent_id" in body:
            body["parent_id"] = own
        path = op.openapi_path.format(**ids)
        response = await client.request(
            op.method, path, json=body if op.body else None, headers={"X-CSRF-Token": csrf}
        )
        assert response.status == 404, f"{op.method} {path}: {await response.text()}"
        checked += 1
    assert checked >= 15  # the order's page, actions, attachments, calls, callbacks …

    # Lists leave them out, and the supervisor's own hotline is still there.
    assert (await client.get(f"/api/v1/orders/{own}")).status == 200
    listed = await desk.get("/api/v1/orders", limit="200")
    assert {o["hotline_code"] for o in listed["items"]} == {"96111"}
    # (Other tests' 96111 rows may be in these queues: the foreign order's must not.)
    for queue in (
        "/api/v1/returns",
        "/api/v1/time-requests",
        "/api/v1/rating-appeals",
        "/api/v1/callbacks/manual",
    ):
        listed = (await desk.get(queue))["items"]
        assert ids["order_id"] not in {row["order_id"] for row in listed}, queue
    # The same caller's orders are offered as duplicates: of the supervisor's hotlines only.
    again = await desk.post(
        "/api/v1/orders",
        {
            "hotline_code": "96111",
            "service_item_code": "W01",
            "description": "又停水了",
            "caller_phone": "13800005556",
        },
        status=201,
    )
    assert [d["id"] for d in again["possible_duplicates"]] == [own]


async def test_a_supervisor_given_two_hotlines_sees_and_registers_on_those_only(
    client: ClientSession, pool: asyncpg.Pool, settings: Settings, now: dt.datetime
) -> None:
    async with pool.acquire() as conn:
        _, admin = await make_user(conn, "admin")
        water = await register_order(conn, admin, settings, now)
        energy = await register_order(
            conn, admin, settings, now, hotline="96556", service_item="G04"
        )
        city = await register_order(
            conn, admin, settings, now, hotline="12319", service_item="G-CONSULT"
        )
        supervisor, _ = await make_user(conn, "supervisor", hotline_code="96111")
        async with conn.transaction():
            await do_set_user_hotlines(conn, supervisor, ["96556"])
    csrf = await log_in(client, supervisor)
    me = await (await client.get("/api/v1/auth/me")).json()
    assert me["user"]["hotline_codes"] == ["96111", "96556"]  # the console offers these
    for order in (water, energy):
        assert (await client.get(f"/api/v1/orders/{order['id']}")).status == 200
    assert (await client.get(f"/api/v1/orders/{city['id']}")).status == 404
    refused = await client.post(
        "/api/v1/orders",
        json={"hotline_code": "12319", "service_item_code": "G-CONSULT", "description": "咨询"},
        headers={"X-CSRF-Token": csrf},
    )
    assert refused.status == 422
    fields = (await refused.json())["error"]["fields"]
    assert fields == {"hotline_code": "不是您所属的热线"}  # not one of your hotlines
