"""The progress lookup (issue 19, item 1): a citizen follows their order on /track with its
number and their phone (or an SMS code), adds to it, asks by SMS; Open311 shows the same
public status. Through HTTP, Twilio's signed webhooks and the fake Twilio REST API."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from redis import Redis

from hotline import i18n
from hotline.orders import queries as order_queries
from hotline.orders.service import do_transition
from hotline.reference import queries as ref
from hotline.reference.calendar import load_calendar
from hotline.settings import Settings
from integrations.tracking import service as tracking
from routing.dispatch import do_dispatch
from testkit.twilio import FakeTwilioRest, sid
from tests.factories import Clock
from tests.routing_support import Desk, open_desks, settle
from tests.test_twilio_intake import (  # noqa: F401 (the fixture)
    HOTLINE_12319_NUMBER,
    Twilio,
    mobile,
    sms_params,
    twilio,
    twiml,
)
from wiring.app import create_app

GRANT = re.compile(r'name="grant" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _no_counts_left(redis_conn: Redis) -> None:
    """The lookup's counters of an earlier run (the same order numbers in another
    database) would count here: every test starts from none."""
    keys = list(redis_conn.scan_iter("rl:track:*"))
    if keys:
        redis_conn.delete(*keys)


@pytest.fixture
async def citizen(server: TestServer) -> AsyncIterator[aiohttp.ClientSession]:
    """A browser without any session: the lookup needs no sign-in."""
    async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as session:
        yield session


@pytest.fixture
async def desks(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[dict[str, Desk]]:
    async with open_desks(server, pool, "agent", "water", "supervisor") as opened:
        yield opened


async def dispatched_order(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings, phone: str
) -> tuple[dict[str, Any], int]:
    """An order taken by an agent for ``phone`` and dispatched to 青岛水务集团 (routing's
    own dispatch, without a rule of this test's)."""
    order = await desks["agent"].post(
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": "W01",
            "area": "370202",
            "description": "水表走字太快，怀疑水表不准",
            "address": "香港中路 100 号 3 单元",
            "caller_phone": phone,
            "caller_name": "市民丙",
        },
        status=201,
    )
    now = dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn, conn.transaction():
        calendar = await load_calendar(conn, settings)
        row = await order_queries.get_order(conn, order["id"], for_update=True)
        assert row is not None
        row = await do_transition(conn, row, "start_dispatch", None, now)
        water = await ref.get_enterprise_by_code(conn, "qd-water")
        assert water is not None
        _, dispatch = await do_dispatch(
            conn,
            row,
            enterprise_id=water["id"],
            role="lead",
            reason=i18n.Text("test"),
            calendar=calendar,
            now=now,
            actor=None,
        )
    return order, int(dispatch["id"])


async def look_up(citizen: aiohttp.ClientSession, status: int = 200, **fields: str) -> str:
    response = await citizen.post("/track", data=fields)
    text = await response.text()
    assert response.status == status, text
    assert response.headers["Cache-Control"] == "no-store"
    return text


def grant_of(page: str) -> str:
    match = GRANT.search(page)
    assert match is not None, page
    return match.group(1)


def kinds(page: str) -> list[str]:
    return re.findall(r'data-test="entry" data-kind="([a-z_]+)"', page)


# ----------------------------------------------------------------- the page


async def test_a_citizen_follows_an_order_with_its_number_and_phone_and_adds_to_it(
    citizen: aiohttp.ClientSession,
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
) -> None:
    phone = mobile()
    order, dispatch = await dispatched_order(desks, pool, settings, phone)
    unit = desks["water"]
    await unit.post(f"/api/v1/dispatches/{dispatch}/sign-for")
    await unit.post(
        f"/api/v1/dispatches/{dispatch}/notes",
        {"text": "已预约明天上午<b>上门</b>校验水表", "public": True},
    )
    await unit.post(f"/api/v1/dispatches/{dispatch}/notes", {"text": "内部：表号 12345 待核"})

    form = await citizen.get("/track?number=" + order["number"])
    assert form.status == 200 and form.headers["Cache-Control"].startswith("public")
    assert f'value="{order["number"]}"' in await form.text()

    # The phone as people type it: national form, spaces.
    national = phone.removeprefix("+86")
    typed = f"{national[:3]} {national[3:7]} {national[7:]}"
    page = await look_up(citizen, number=order["number"], phone=typed)
    assert "承办单位正在办理" in page and "青岛水务集团" in page
    assert kinds(page) == ["registered", "dispatched", "signed", "progress"]
    # The unit's public note, escaped; its internal note never.
    assert "已预约明天上午&lt;b&gt;上门&lt;/b&gt;校验水表" in page and "<b>上门" not in page
    assert "表号 12345" not in page
    assert "前办结" in page  # the resolution's due, in words
    assert "水表走字太快" not in page and "香港中路" not in page  # what the agent wrote down

    # Add to it: into the order's history, where the unit reads it.
    grant = grant_of(page)
    response = await citizen.post(
        "/track/follow-up",
        data={"grant": grant, "kind": "persists", "text": "今天水表还是转得很快", "lang": "zh"},
    )
    after = await response.text()
    assert response.status == 200 and "已记入工单" in after
    assert kinds(after)[-1] == "follow_up" and "您反映问题仍未解决" in after
    seen = await unit.get(f"/api/v1/orders/{order['id']}")
    (event,) = [e for e in seen["events"] if e["type"] == "citizen.follow_up"]
    assert event["data"] == {"kind": "persists", "text": "今天水表还是转得很快", "channel": "web"}

    # The other language is the same lookup (the grant), in English.
    english = await look_up(citizen, grant=grant, lang="en")
    assert 'lang="en"' in english and "the responsible unit is working on it" in english
    assert "You said the problem persists" in english and "Due to be resolved by" in english

    # Completed: the reply shows, the due does not.
    await unit.post(f"/api/v1/dispatches/{dispatch}/complete", {"reply": "已更换新水表"})
    done = await look_up(citizen, grant=grant)
    assert "已更换新水表" in done and kinds(done)[-1] == "completed"
    assert "我们会电话或短信回访" in done and "前办结" not in done

    # An empty follow-up is refused with the page, nothing written.
    refused = await citizen.post("/track/follow-up", data={"grant": grant, "text": "  "})
    assert refused.status == 422
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM order_events WHERE order_id = $1 AND type = 'citizen.follow_up'",
            order["id"],
        )
        == 1
    )
    # A grant nobody issued reaches nothing.
    forged = await citizen.post("/track/follow-up", data={"grant": "x" * 32, "text": "伪造"})
    assert forged.status == 403


async def test_a_wrong_phone_and_a_number_that_does_not_exist_get_the_same_answer(
    citizen: aiohttp.ClientSession,
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
) -> None:
    phone = mobile()
    order, _ = await dispatched_order(desks, pool, settings, phone)
    number = order["number"]
    missing = number[:-4] + "9999"
    wrong_phone = await look_up(citizen, 404, number=number, phone=mobile())
    no_order = await look_up(citizen, 404, number=missing, phone=phone)
    not_a_phone = await look_up(citizen, 404, number=number, phone="abc")
    assert wrong_phone.replace(number, "N") == no_order.replace(missing, "N")
    assert not_a_phone == wrong_phone
    assert "青岛水务集团" not in wrong_phone and "grant" not in wrong_phone
    # A number that cannot be one says how one looks (that says nothing of any order).
    assert "12319-20261205-0007" in await look_up(citizen, 422, number="abc", phone=phone)


async def test_lookups_are_limited_per_number_even_with_the_right_phone(
    citizen: aiohttp.ClientSession,
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
) -> None:
    phone = mobile()
    order, _ = await dispatched_order(desks, pool, settings, phone)
    for _ in range(settings.public_rate_per_phone):
        await look_up(citizen, 404, number=order["number"], phone=mobile())
    response = await citizen.post("/track", data={"number": order["number"], "phone": phone})
    assert response.status == 429 and 1 <= int(response.headers["Retry-After"]) <= 600
    assert "尝试次数过多" in await response.text()
    # The same number typed otherwise (full-width digits) is the same number.
    full_width = order["number"].translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    again = await citizen.post("/track", data={"number": full_width, "phone": phone})
    assert again.status == 429


async def test_lookups_are_limited_per_client_address(settings: Settings, clock: Clock) -> None:
    server = TestServer(
        create_app(settings.model_copy(update={"public_rate_per_ip": 3}), clock=clock)
    )
    await server.start_server()
    try:
        async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as session:
            for i in range(3):
                response = await session.post(
                    "/track", data={"number": f"12319-20261205-{i:04d}", "phone": mobile()}
                )
                assert response.status == 404
            response = await session.post("/track/code", data={"number": "12319-20261205-0100"})
            assert response.status == 429 and "Retry-After" in response.headers
    finally:
        await server.close()


async def test_the_json_answer_is_the_pages(
    citizen: aiohttp.ClientSession,
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
) -> None:
    phone = mobile()
    order, _ = await dispatched_order(desks, pool, settings, phone)
    response = await citizen.post(
        "/api/v1/public/track", json={"number": order["number"], "phone": phone, "lang": "en"}
    )
    body = await response.json()
    assert response.status == 200, body
    assert body["status"] == "dispatched" and body["agency"]
    assert [e["kind"] for e in body["timeline"]] == ["registered", "dispatched"]
    wrong = await citizen.post(
        "/api/v1/public/track", json={"number": order["number"], "phone": mobile()}
    )
    assert wrong.status == 404
    added = await citizen.post(
        "/api/v1/public/track/follow-up",
        json={"grant": body["grant"], "text": "家里有老人，请上午来", "lang": "en"},
    )
    after = await added.json()
    assert added.status == 200, after
    assert after["timeline"][-1]["kind"] == "follow_up"
    assert after["timeline"][-1]["label"] == "You added information"
    expired = await citizen.post(
        "/api/v1/public/track/follow-up", json={"grant": "nothing", "text": "伪造"}
    )
    assert expired.status == 403
    assert (await expired.json())["error"]["code"] == "grant_expired"
    both = await citizen.post(
        "/api/v1/public/track", json={"number": order["number"], "phone": phone, "code": "1"}
    )
    assert both.status == 422


async def test_a_merged_order_says_how_the_order_it_joined_stands(
    citizen: aiohttp.ClientSession,
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
) -> None:
    parent, dispatch = await dispatched_order(desks, pool, settings, mobile())
    await desks["water"].post(f"/api/v1/dispatches/{dispatch}/sign-for")
    phone = mobile()
    child = await desks["agent"].post(
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": "W01",
            "area": "370202",
            "description": "楼下水管漏水",
            "caller_phone": phone,
        },
        status=201,
    )
    await desks["supervisor"].post(
        f"/api/v1/orders/{child['id']}/merge", {"parent_id": parent["id"]}
    )
    page = await look_up(citizen, number=child["number"], phone=phone)
    assert "已并入同一问题的工单" in page and kinds(page)[-1] == "merged"
    assert f"与工单 {parent['number']} 反映的是同一问题" in page
    assert "该工单目前：承办单位正在办理（青岛水务集团）" in page


# ----------------------------------------------------------------- SMS code


async def test_a_code_by_sms_opens_the_order_once(
    citizen: aiohttp.ClientSession,
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    fake_twilio: FakeTwilioRest,
) -> None:
    phone = mobile()
    order, _ = await dispatched_order(desks, pool, settings, phone)
    number = order["number"]
    sent = await citizen.post("/track/code", data={"number": number})
    page = await sent.text()
    assert sent.status == 200 and "验证码已发送" in page
    missing = number[:-4] + "9998"
    nothing = await citizen.post("/track/code", data={"number": missing})
    assert (await nothing.text()).replace(missing, "N") == page.replace(number, "N")

    # Through the outbound path and Twilio's real client, to the order's phone only.
    await settle(pool, settings)
    (message,) = [m for m in fake_twilio.messages if m["To"] == phone]
    code = re.search(r"验证码是 (\d{6})", message["Body"])
    assert code is not None
    stored = await pool.fetchrow(
        "SELECT c.* FROM tracking_codes c JOIN work_orders o ON o.id = c.order_id "
        "WHERE o.number = $1",
        number,
    )
    assert code.group(1).encode() not in stored["code_hash"]  # kept hashed
    assert stored["expires_at"] - stored["created_at"] == tracking.CODE_TTL

    wrong = "000000" if code.group(1) != "000000" else "111111"
    refused = await look_up(citizen, 404, number=number, code=wrong)
    assert "验证码不正确" in refused
    opened = await look_up(citizen, number=number, code=code.group(1))
    assert "青岛水务集团" in opened
    # Single use.
    await look_up(citizen, 404, number=number, code=code.group(1))


async def test_a_code_dies_after_its_attempts_and_its_time(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings
) -> None:
    phone = mobile()
    order, _ = await dispatched_order(desks, pool, settings, phone)
    now = dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn, conn.transaction():
        await tracking.do_send_code(conn, order["number"], now)
        body = await conn.fetchval(
            "SELECT body FROM outbound_messages WHERE to_phone = $1 ORDER BY id DESC LIMIT 1",
            phone,
        )
    code = re.search(r"(\d{6})", body)
    assert code is not None
    right = code.group(1)
    wrong = "000000" if right != "000000" else "111111"
    async with pool.acquire() as conn, conn.transaction():
        for _ in range(tracking.CODE_ATTEMPTS):
            assert await tracking.do_lookup_by_code(conn, order["number"], wrong, now) is None
        assert await tracking.do_lookup_by_code(conn, order["number"], right, now) is None
        await tracking.do_send_code(conn, order["number"], now)
    async with pool.acquire() as conn:
        body = await conn.fetchval(
            "SELECT body FROM outbound_messages WHERE to_phone = $1 ORDER BY id DESC LIMIT 1",
            phone,
        )
    fresh = re.search(r"(\d{6})", body)
    assert fresh is not None
    late = now + tracking.CODE_TTL + dt.timedelta(seconds=1)
    async with pool.acquire() as conn, conn.transaction():
        assert await tracking.do_lookup_by_code(conn, order["number"], fresh.group(1), late) is None
        assert await tracking.do_lookup_by_code(conn, order["number"], fresh.group(1), now)
    await settle(pool, settings)  # the codes' SMS leave, as they would


# ---------------------------------------------------------------------- SMS


@pytest.mark.parametrize(
    ("body", "number"),
    [
        ("查询", None),
        ("进度", None),
        ("查进度", None),
        ("  查询　", None),
        ("查询 12319-20261205-0007 进度", "12319-20261205-0007"),
        ("查询　１２３１９－２０２６１２０５－０００７", "12319-20261205-0007"),
        ("12319-20261205-0007进度？", "12319-20261205-0007"),
        ("您好，请帮我查询一下工单12319-20261205-0007的办理进度，谢谢", "12319-20261205-0007"),
        ("查 12319-20261205-0007", "12319-20261205-0007"),
    ],
)
def test_lookup_sms_are_recognised(body: str, number: str | None) -> None:
    lookup = tracking.parse_lookup(body)
    assert lookup is not None and lookup.number == number


@pytest.mark.parametrize(
    "body",
    [
        "查询一下为什么我家又停水了",
        "我要投诉，上次查询的进度一直没人管，水管还在漏",
        "查",
        "香港中路100号水管爆裂",
        "",
    ],
)
def test_reports_that_mention_lookups_are_no_lookups(body: str) -> None:
    assert tracking.parse_lookup(body) is None


async def sms(side: Twilio, phone: str, body: str) -> tuple[str, str]:
    """Send an SMS from ``phone`` to 12319; its MessageSid and the TwiML answer."""
    message_sid = sid("SM")
    answer = await side.post("/twilio/sms", sms_params(message_sid, phone, "12319", body))
    return message_sid, answer


async def outbound_to(pool: asyncpg.Pool, message_sid: str) -> asyncpg.Record | None:
    return await pool.fetchrow(
        "SELECT * FROM outbound_messages WHERE effect_key = $1", f"track.sms:{message_sid}"
    )


async def test_an_sms_lookup_answers_with_the_phones_open_orders_and_makes_no_draft(
    twilio: Twilio,  # noqa: F811
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
) -> None:
    phone = mobile()
    order, _ = await dispatched_order(desks, pool, settings, phone)
    drafts = "SELECT count(*) FROM work_orders WHERE caller_phone = $1 AND channel = 'sms'"

    message_sid, answer = await sms(twilio, phone, "查询")
    assert list(twiml(answer)) == []  # answered by the outbound path, not in the TwiML
    reply = await outbound_to(pool, message_sid)
    assert reply is not None and reply["to_phone"] == phone and reply["state"] == "pending"
    assert order["number"] in reply["body"] and "已派至承办单位" in reply["body"]
    assert "青岛水务集团" in reply["body"] and "/track" in reply["body"]
    assert await pool.fetchval(drafts, phone) == 0
    inbound = await pool.fetchrow("SELECT * FROM sms_messages WHERE message_sid = $1", message_sid)
    assert inbound is not None and inbound["order_id"] is None  # kept, no draft

    # By number, with 进度 after it and a full-width space.
    message_sid, _ = await sms(twilio, phone, f"查询　{order['number']} 进度")
    reply = await outbound_to(pool, message_sid)
    assert reply is not None and reply["body"].startswith(order["number"])
    # Someone else's number, or none at all: the same words, nothing about it.
    stranger = mobile()
    message_sid, _ = await sms(twilio, stranger, f"查询 {order['number']}")
    reply = await outbound_to(pool, message_sid)
    assert reply is not None and "未查到" in reply["body"] and "青岛水务集团" not in reply["body"]
    message_sid, _ = await sms(twilio, stranger, "进度")
    reply = await outbound_to(pool, message_sid)
    assert reply is not None and "没有在办工单" in reply["body"]
    assert await pool.fetchval(drafts, stranger) == 0

    # A complaint that merely says 查询 is a report: a draft, told how to look it up.
    message_sid, answer = await sms(twilio, phone, "查询一下为什么我家又停水了，已经两天了")
    (message,) = list(twiml(answer))
    assert "查询进度请回复“查询”" in (message.text or "")
    assert await pool.fetchval(drafts, phone) == 1
    assert await outbound_to(pool, message_sid) is None

    # The answers leave through the provider (the log's, here) like any outbound SMS.
    await settle(pool, settings)
    sent = await pool.fetchval(
        "SELECT count(*) FROM outbound_messages WHERE effect_key LIKE 'track.sms:%' "
        "AND to_phone = ANY($1::text[]) AND state = 'sent'",
        [phone, stranger],
    )
    assert sent == 4


# ----------------------------------------------------------------- Open311


async def test_open311_shows_the_same_public_status(
    citizen: aiohttp.ClientSession,
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
) -> None:
    phone = mobile()
    order, dispatch = await dispatched_order(desks, pool, settings, phone)
    await desks["water"].post(f"/api/v1/dispatches/{dispatch}/sign-for")
    [found] = await (await citizen.get(f"/open311/v2/requests/{order['number']}.json")).json()
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT o.number, o.status, e.name_zh AS agency_zh, e.name_en AS agency_en, "
            "o.updated_at, o.resolution_due_at FROM work_orders o "
            "JOIN enterprises e ON e.id = o.lead_enterprise_id WHERE o.id = $1",
            order["id"],
        )
    status = tracking.public_status(row)
    assert found["status"] == status.state == "open"
    assert (
        found["status_notes"]
        == status.notes
        == "承办单位正在办理 / the responsible unit is working on it"
    )
    assert status.agency is not None and found["agency_responsible"] == status.agency[0]
    assert dt.datetime.fromisoformat(found["updated_datetime"]) == row["updated_at"].replace(
        microsecond=0
    )
    assert dt.datetime.fromisoformat(found["expected_datetime"]) == row[
        "resolution_due_at"
    ].replace(microsecond=0)
    page = await look_up(citizen, number=order["number"], phone=phone)
    assert status.words[0] in page and status.agency[0] in page


def test_the_lookup_url_names_the_order(settings: Settings) -> None:
    url = tracking.lookup_url(settings, "12319-20261205-0007", "en")
    assert url == f"{settings.base_url}/track?number=12319-20261205-0007&lang=en"
    assert tracking.lookup_url(settings) == f"{settings.base_url}/track"
