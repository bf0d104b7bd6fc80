"""Open311 GeoReport v2, the public web form, and the rate limits on public intake.

The Open311 round trip runs the ``georeport`` client from PyPI against the test server
(it is synchronous: it runs in a thread). It has no call for creating requests, so
those are posted form-encoded, as the spec says, with aiohttp.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import asyncpg
import pytest
import redis.asyncio as aioredis
from aiohttp import ClientSession, FormData
from aiohttp.test_utils import TestServer
from georeport import GeoReport
from redis import Redis

from hotline.errors import TooManyRequests
from hotline.orders.lifecycle import Status
from hotline.settings import Settings
from integrations import ratelimit
from integrations.open311 import service
from integrations.tracking import service as tracking
from tests.factories import Clock, log_in, make_user, order_in_status
from wiring.app import create_app

PHONE = "13812345678"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
BASE = "/open311/v2"


@pytest.fixture(autouse=True)
def _no_limits_carried_over(redis_conn: Redis) -> Iterator[None]:
    """Every test starts with empty counters: other tests post from 127.0.0.1 too."""
    for key in redis_conn.scan_iter("rl:*"):
        redis_conn.delete(key)
    yield


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests (inside georeport) honours proxy variables; the test server is local.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
async def api_key(pool: asyncpg.Pool) -> str:
    async with pool.acquire() as conn, conn.transaction():
        _, key = await service.do_create_client(conn, "test app", dt.datetime.now(dt.UTC))
    return key


@pytest.fixture
async def anonymous(server: TestServer) -> AsyncIterator[ClientSession]:
    """A client that never signs in (the auth middleware would ask a session for CSRF)."""
    async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as session:
        yield session


def georeport_client(server: TestServer) -> GeoReport:
    return GeoReport(str(server.make_url(f"{BASE}/")))


def request_fields(api_key: str, **overrides: str) -> dict[str, str]:
    fields = {
        "api_key": api_key,
        "service_code": "W01",
        "lat": "36.0671",
        "long": "120.3826",
        "address_string": "香港中路 100 号",
        "description": "路边消防栓漏水",
        "phone": PHONE,
        "email": "citizen@example.org",
        "first_name": "三",
        "last_name": "张",
        "device_id": "device-1",
    }
    fields.update(overrides)
    return fields


async def post_request(
    client: ClientSession, fields: dict[str, str], status: int
) -> list[dict[str, Any]]:
    response = await client.post(f"{BASE}/requests.json", data=fields)
    assert response.status == status, await response.text()
    body: list[dict[str, Any]] = await response.json()
    return body


def assert_spec_error(body: Any, status: int, *words: str) -> None:
    """The spec's error shape: a list of {code, description}."""
    assert isinstance(body, list) and body
    assert all(set(e) == {"code", "description"} and e["code"] == status for e in body)
    text = " ".join(e["description"] for e in body)
    for word in words:
        assert word in text


# ------------------------------------------------------------- round trip


async def test_an_open311_round_trip_with_the_georeport_client(
    server: TestServer, client: ClientSession, api_key: str, pool: asyncpg.Pool
) -> None:
    geo = georeport_client(server)
    services = await asyncio.to_thread(geo.get_service_list)
    water = next(s for s in services if s["service_code"] == "W01")
    assert water["metadata"] is False and water["type"] == "realtime"
    assert water["group"] == "water" and isinstance(water["keywords"], str)
    definition = await asyncio.to_thread(geo.get_service_definition, "W01")
    assert definition == {"service_code": "W01", "attributes": []}

    [taken] = await post_request(client, request_fields(api_key), 201)
    number = taken["service_request_id"]
    assert number.startswith("12319-") and taken["account_id"] is None
    assert taken["service_notice"]

    found = await asyncio.to_thread(geo.get_service_request, number)
    assert found["status"] == "open"
    assert found["status_notes"].startswith("已收到")
    assert found["service_code"] == "W01" and found["service_name"] == water["service_name"]
    assert found["description"] == "路边消防栓漏水"
    assert found["address"] == "香港中路 100 号"
    assert (found["lat"], found["long"]) == (36.0671, 120.3826)
    assert dt.datetime.fromisoformat(found["requested_datetime"]).utcoffset() is not None
    listed = await asyncio.to_thread(geo.get_service_requests, status="open")
    assert number in [r["service_request_id"] for r in listed]
    by_id = await asyncio.to_thread(geo.get_service_requests, service_request_id=number)
    assert [r["service_request_id"] for r in by_id] == [number]

    # The caller stays private: not their phone, name or email, in any form.
    raw = await (await client.get(f"{BASE}/requests/{number}.json")).text()
    for private in (PHONE, "+86" + PHONE, "张三", "citizen@example.org"):
        assert private not in raw
    async with pool.acquire() as conn:
        order = await conn.fetchrow("SELECT * FROM work_orders WHERE number = $1", number)
    assert order["status"] == "draft" and order["channel"] == "open311"
    assert order["caller_phone"] == "+86" + PHONE and order["caller_name"] == "张三"
    assert order["reporter_email"] == "citizen@example.org"


async def test_services_in_english_and_a_request_sent_as_json(
    client: ClientSession, api_key: str
) -> None:
    services = await (await client.get(f"{BASE}/services.json?locale=en")).json()
    assert next(s for s in services if s["service_code"] == "W01")["service_name"].isascii()
    fields = request_fields(api_key, description="")
    del fields["lat"], fields["long"], fields["phone"]
    response = await client.post(f"{BASE}/requests.json", json=fields)
    assert response.status == 201, await response.text()
    number = (await response.json())[0]["service_request_id"]
    [found] = await (await client.get(f"{BASE}/requests/{number}.json")).json()
    # No description: the service's name stands in for it.
    assert found["description"] and found["lat"] is None


async def test_other_orders_are_found_by_number_but_show_only_their_progress(
    client: ClientSession, pool: asyncpg.Pool, now: dt.datetime
) -> None:
    async with pool.acquire() as conn:
        order = await order_in_status(conn, Status.COMPLETED.value, now)
    [found] = await (await client.get(f"{BASE}/requests/{order['number']}.json")).json()
    assert found["status"] == "closed"
    assert found["status_notes"] == "已办结 / completed"
    assert found["description"] is None and found["address"] is None
    listed = await (await client.get(f"{BASE}/requests.json")).json()
    assert order["number"] not in [r["service_request_id"] for r in listed]


def test_every_status_has_a_public_note_and_the_closed_ones_are_named() -> None:
    assert set(tracking.STATUS_WORDS) == set(Status)
    assert set(tracking.CLOSED_STATUSES) == {
        "closed",
        "merged",
        "cancelled",
        "resolved_on_call",
        "completed",
        "callback",
        "transferred",
    }


# ------------------------------------------------------------------ errors


async def test_a_bad_or_revoked_key_is_refused_with_403(
    client: ClientSession, api_key: str, pool: asyncpg.Pool
) -> None:
    body = await post_request(client, request_fields("o311_not-a-key"), 403)
    assert_spec_error(body, 403, "api_key")
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE open311_clients SET revoked_at = now() WHERE key_hash = $1",
            service.key_hash(api_key),
        )
    assert_spec_error(await post_request(client, request_fields(api_key), 403), 403)


async def test_missing_and_invalid_fields_answer_400_in_the_spec_format(
    client: ClientSession, api_key: str
) -> None:
    no_key = request_fields(api_key)
    del no_key["api_key"]
    assert_spec_error(await post_request(client, no_key, 400), 400, "api_key")

    nowhere = request_fields(api_key)
    for name in ("lat", "long", "address_string"):
        del nowhere[name]
    assert_spec_error(await post_request(client, nowhere, 400), 400, "address_string")

    bad = request_fields(api_key, lat="91", media_url="ftp://example.org/x.jpg", phone="12")
    assert_spec_error(await post_request(client, bad, 400), 400, "lat", "media_url", "phone")
    long_text = request_fields(api_key, description="长" * 4001)
    assert_spec_error(await post_request(client, long_text, 400), 400, "description")


async def test_unknown_services_and_requests_answer_404(
    client: ClientSession, api_key: str
) -> None:
    body = await post_request(client, request_fields(api_key, service_code="NOPE"), 404)
    assert_spec_error(body, 404, "NOPE")
    for path in ("services/NOPE.json", "requests/12319-20000101-9999.json"):
        response = await client.get(f"{BASE}/{path}")
        assert response.status == 404
        assert_spec_error(await response.json(), 404)
    assert (await client.get(f"{BASE}/services.xml")).status == 404


async def test_bodies_too_large_or_of_another_kind_are_refused(
    client: ClientSession, api_key: str
) -> None:
    fields = request_fields(api_key, description="x" * 70_000)
    assert_spec_error(await post_request(client, fields, 413), 413, "larger")
    response = await client.post(
        f"{BASE}/requests.json", data=b"api_key=x", headers={"Content-Type": "text/plain"}
    )
    assert response.status == 415
    assert_spec_error(await response.json(), 415, "form-urlencoded")


async def test_searches_check_their_dates_and_status(client: ClientSession) -> None:
    for query in (
        "status=pending",
        "start_date=yesterday",
        "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
        "start_date=2026-06-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
    ):
        response = await client.get(f"{BASE}/requests.json?{query}")
        assert response.status == 400, query
        assert_spec_error(await response.json(), 400)


# -------------------------------------------------------------- rate limits


StartServer = Callable[..., Awaitable[ClientSession]]


@pytest.fixture
async def strict(settings: Settings, clock: Clock) -> AsyncIterator[StartServer]:
    """Starts the same system with other limits; answers a client session on it."""
    opened: list[tuple[TestServer, ClientSession]] = []

    async def start(**limits: int) -> ClientSession:
        server = TestServer(create_app(settings.model_copy(update=limits), clock=clock))
        await server.start_server()
        session = aiohttp.ClientSession(base_url=str(server.make_url("/")))
        opened.append((server, session))
        return session

    yield start
    for server, session in opened:
        await session.close()
        await server.close()


async def test_the_per_address_limit_answers_429_with_retry_after(
    strict: StartServer, api_key: str
) -> None:
    client = await strict(public_rate_per_ip=2)
    for phone in ("13912340011", "13912340012"):
        await post_request(client, request_fields(api_key, phone=phone), 201)
    response = await client.post(f"{BASE}/requests.json", data=request_fields(api_key))
    assert response.status == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 600
    assert_spec_error(await response.json(), 429, "请求过于频繁")


async def test_hit_counts_in_fixed_windows(settings: Settings) -> None:
    assert settings.redis_url
    redis = aioredis.Redis.from_url(settings.redis_url)
    try:
        key = ratelimit.phone_key("test", "+8613800000000")
        for _ in range(2):
            await ratelimit.hit(redis, key, limit=2, window_seconds=60, now=6000.0)
        with pytest.raises(TooManyRequests) as refused:
            await ratelimit.hit(redis, key, limit=2, window_seconds=60, now=6015.5)
        assert refused.value.retry_after == 45
        # The next window starts from zero.
        await ratelimit.hit(redis, key, limit=2, window_seconds=60, now=6060.0)
    finally:
        await redis.aclose()


# ------------------------------------------------------------ the web form


def report_form(photo: bytes | None = None, **overrides: str) -> FormData:
    fields = {
        "service_code": "W01",
        "description": "楼下水管爆裂，水流到路面",
        "address": "宁夏路 5 号",
        "latitude": "36.07",
        "longitude": "120.40",
        "phone": "139 1234 0001",
        "name": "李四",
    }
    fields.update(overrides)
    form = FormData(default_to_multipart=True)  # as browsers send it
    for name, value in fields.items():
        form.add_field(name, value)
    if photo is not None:
        form.add_field("photo", photo, filename="photo.png", content_type="image/png")
    return form


async def test_the_page_is_served(anonymous: ClientSession) -> None:
    response = await anonymous.get("/report")
    assert response.status == 200
    page = await response.text()
    assert 'src="/static/report.js"' in page and "innerHTML" not in page
    script = await (await anonymous.get("/static/report.js")).text()
    assert "/api/v1/public/reports" in script and "innerHTML" not in script


async def test_the_form_makes_a_draft_with_a_photo_agents_can_open(
    anonymous: ClientSession, client: ClientSession, pool: asyncpg.Pool
) -> None:
    response = await anonymous.post("/api/v1/public/reports", data=report_form(PNG))
    assert response.status == 201, await response.text()
    number = (await response.json())["number"]
    async with pool.acquire() as conn:
        order = await conn.fetchrow("SELECT * FROM work_orders WHERE number = $1", number)
        username, _ = await make_user(conn, "agent", hotline_code="12319")
    assert (order["status"], order["channel"], order["service_item_code"]) == (
        "draft",
        "web",
        "W01",
    )
    assert order["caller_phone"] == "+8613912340001"
    assert (order["latitude"], order["longitude"]) == (36.07, 120.40)
    assert order["media_url"].startswith("/api/v1/report-photos/")

    assert (await anonymous.get(order["media_url"])).status == 401
    await log_in(client, username)
    photo = await client.get(order["media_url"])
    assert photo.status == 200 and photo.content_type == "image/png"
    assert await photo.read() == PNG
    # Not listed in Open311, and the stored photo is not shown by number either.
    [public] = await (await client.get(f"{BASE}/requests/{number}.json")).json()
    assert public["media_url"] is None


async def test_the_form_refuses_files_that_are_not_images(anonymous: ClientSession) -> None:
    response = await anonymous.post(
        "/api/v1/public/reports", data=report_form(b"%PDF-1.7 not a photo")
    )
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "photo_type" and "photo" in error["fields"]


async def test_the_form_refuses_an_oversize_photo(anonymous: ClientSession) -> None:
    big = PNG + b"\x00" * (5 * 1024 * 1024)
    response = await anonymous.post("/api/v1/public/reports", data=report_form(big))
    assert response.status == 413
    error = (await response.json())["error"]
    assert error["code"] == "photo_too_large" and "5 MB" in error["message"]


async def test_the_form_checks_its_fields(anonymous: ClientSession) -> None:
    response = await anonymous.post(
        "/api/v1/public/reports",
        data=report_form(address="", latitude="", longitude="", service_code="NOPE"),
    )
    assert response.status == 422
    assert "address" in (await response.json())["error"]["fields"]
    response = await anonymous.post("/api/v1/public/reports", data=report_form(phone="12"))
    assert response.status == 422
    assert "phone" in (await response.json())["error"]["fields"]


async def test_the_form_limits_each_phone(strict: StartServer) -> None:
    client = await strict(public_rate_per_phone=2)
    for _ in range(2):
        response = await client.post("/api/v1/public/reports", data=report_form())
        assert response.status == 201, await response.text()
    response = await client.post("/api/v1/public/reports", data=report_form())
    assert response.status == 429 and "Retry-After" in response.headers
    assert (await response.json())["error"]["code"] == "too_many_requests"
    # Another phone from the same address is still welcome.
    other = await client.post("/api/v1/public/reports", data=report_form(phone="13912340002"))
    assert other.status == 201


# ----------------------------------------------------------------- clients


async def test_admins_create_clients_whose_key_is_shown_once(
    client: ClientSession, server: TestServer, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        admin, _ = await make_user(conn, "admin")
        agent, _ = await make_user(conn, "agent", hotline_code="12319")
    async with aiohttp.ClientSession(
        base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as desk:
        headers = {"X-CSRF-Token": await log_in(desk, agent)}
        refused = await desk.post("/api/v1/open311/clients", json={"name": "x"}, headers=headers)
        assert refused.status == 403
    headers = {"X-CSRF-Token": await log_in(client, admin)}
    response = await client.post(
        "/api/v1/open311/clients", json={"name": "城市随手拍"}, headers=headers
    )
    assert response.status == 201, await response.text()
    created = await response.json()
    assert created["api_key"].startswith("o311_") and created["name"] == "城市随手拍"
    await post_request(client, request_fields(created["api_key"]), 201)
    revoked = await client.delete(f"/api/v1/open311/clients/{created['id']}", headers=headers)
    assert revoked.status == 204
    await post_request(client, request_fields(created["api_key"]), 403)
