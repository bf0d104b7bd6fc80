"""Malformed input gets a JSON 4xx, never a 500, on every route (issue 14, item 4): ids
no row can have, NUL characters, JSON nested too deep, multipart bodies without a
boundary, overlong request lines. And no existence oracle (item 7): a foreign object
answers exactly as a missing one."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import ClientSession, FormData
from aiohttp.test_utils import TestServer

from hotline.settings import Settings
from tests.factories import dispatch_to, log_in, make_user, register_order
from web.app import LINE_MAX_BYTES
from web.keys import API

HUGE = "99999999999999999999"  # beyond bigint
NUL = "a\x00b"


@contextlib.asynccontextmanager
async def signed_in(
    server: TestServer, pool: asyncpg.Pool, role: str, enterprise: str = "qd-water"
) -> AsyncIterator[tuple[ClientSession, dict[str, str]]]:
    """A browser of its own signed in with a new user of ``role``, and the headers its
    state changes send."""
    async with pool.acquire() as conn:
        username, _ = await make_user(
            conn, role, enterprise_code=enterprise if role.startswith("enterprise") else None
        )
    async with aiohttp.ClientSession(
        base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as session:
        yield session, {"X-CSRF-Token": await log_in(session, username)}


@pytest.fixture
async def supervisor(client: ClientSession, pool: asyncpg.Pool) -> dict[str, str]:
    """The client, signed in as a supervisor: the headers its state changes send."""
    async with pool.acquire() as conn:
        username, _ = await make_user(conn, "supervisor")
    return {"X-CSRF-Token": await log_in(client, username)}


def operations(server: TestServer) -> Iterator[tuple[str, str, dict[str, Any]]]:
    document = server.app[API].openapi("http://localhost")
    for path, ops in document["paths"].items():
        for method, spec in ops.items():
            yield method.upper(), path, spec


def is_open311(path: str) -> bool:
    return path.startswith("/open311/")


async def refusal(response: aiohttp.ClientResponse, path: str) -> Any:
    """The body of a refusal, checked to be the route's JSON error shape."""
    assert response.content_type == "application/json", (path, await response.text())
    body = await response.json()
    if is_open311(path):
        assert isinstance(body, list) and body[0]["code"] == response.status, body
    else:
        assert set(body["error"]) == {"code", "message", "fields"}, body
    return body


# ------------------------------------------------------------------- ids


@pytest.mark.parametrize("value", [HUGE, "0", "00"])
@pytest.mark.parametrize("role", ["supervisor", "enterprise_user"])
async def test_an_id_no_row_can_have_is_404_on_every_route(
    server: TestServer, pool: asyncpg.Pool, value: str, role: str
) -> None:
    reached = 0
    async with signed_in(server, pool, role) as (session, headers):
        for method, path, spec in operations(server):
            ids = [p["name"] for p in spec.get("parameters", []) if p["in"] == "path"]
            if not ids or "{key}" in path:
                continue
            url = path
            for name in ids:
                url = url.replace("{" + name + "}", value)
            body: dict[str, Any] | None = {} if "requestBody" in spec else None
            async with session.request(method, url, json=body, headers=headers) as response:
                # A body is read first on some routes: its 422 is as good as a 404.
                expected = {404, 422} if body is not None else {404}
                if "{phone}" in path or "{service_code}" in path or "{service_request_id}" in path:
                    expected = {400, 404, 422}  # not ids: names, looked up as such
                if "{platform}" in path:
                    expected = {401, 404}  # a platform's code, known only with its key
                if path.startswith(("/api/", "/open311/")):
                    answer = await refusal(response, path)
                    if response.status == 403 and answer["error"]["code"] == "role_forbidden":
                        continue  # the role, refused before any lookup
                assert response.status in expected, (method, url, await response.text())
                reached += 1
    assert reached > 10


async def test_ids_beyond_bigint_in_bodies_and_queries_are_422(
    client: ClientSession, supervisor: dict[str, str], pool: asyncpg.Pool, settings: Settings
) -> None:
    async with pool.acquire() as conn:
        _, agent = await make_user(conn, "agent")
        order = await register_order(conn, agent, settings, dt.datetime.now(dt.UTC))
    big = 2**70
    answers = [
        await client.post(
            f"/api/v1/orders/{order['id']}/coordinate",
            json={"lead_enterprise_id": big, "note": "x", "due_at": "2030-01-01T00:00:00Z"},
            headers=supervisor,
        ),
        await client.post(
            f"/api/v1/orders/{order['id']}/merge", json={"parent_id": big}, headers=supervisor
        ),
        await client.post(
            f"/api/v1/orders/{order['id']}/merge", json={"parent_id": str(big)}, headers=supervisor
        ),
    ]
    searches = [
        await client.get(f"/api/v1/orders?enterprise_id={HUGE}"),
        await client.get(f"/api/v1/orders?enterprise_id=-{HUGE}"),
    ]
    for answer in answers:
        assert answer.status == 422, (answer.url, await answer.text())
        await refusal(answer, answer.url.path)
    for answer in searches:  # the search answers 400 invalid_query (docs/core.md)
        assert answer.status == 400, (answer.url, await answer.text())
        await refusal(answer, answer.url.path)


# ------------------------------------------------------------------- NUL


async def test_nul_in_any_query_parameter_is_refused_on_every_route(
    client: ClientSession, server: TestServer, supervisor: dict[str, str]
) -> None:
    tried = 0
    for method, path, spec in operations(server):
        queries = [p["name"] for p in spec.get("parameters", []) if p["in"] == "query"]
        if not queries or "{" in path:
            continue
        async with client.request(method, path, params={queries[0]: NUL}) as response:
            assert response.status == (400 if is_open311(path) else 422), (path, queries[0])
            await refusal(response, path)
            tried += 1
    assert tried > 10


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/callers/138%0012345678",
        "/open311/v2/requests/12319%00.json",
        "/open311/v2/services/W01%00.json",
    ],
)
async def test_nul_in_a_path_is_refused(
    client: ClientSession, supervisor: dict[str, str], path: str
) -> None:
    async with client.get(path) as response:
        assert response.status == (400 if is_open311(path) else 422), await response.text()
        await refusal(response, path)


async def test_nul_in_json_bodies_is_refused(
    client: ClientSession, supervisor: dict[str, str]
) -> None:
    new_order = {
        "hotline": "96111",
        "service_item": "W01",
        "description": NUL,
        "area": "370202",
        "address": "香港中路 100 号",
        "caller_phone": "13812345678",
    }
    async with client.post("/api/v1/orders", json=new_order, headers=supervisor) as response:
        assert response.status == 422
        body = await refusal(response, "/api/v1/orders")
        assert body["error"]["code"] == "nul_character"
        assert body["error"]["fields"] == {"description": "包含 NUL 字符"}
    async with client.post(
        "/api/v1/orders", json={**new_order, "description": "ok", "x\x00": 1}, headers=supervisor
    ) as response:
        assert response.status == 422
    async with client.post(
        "/open311/v2/requests.json", data={"api_key": NUL, "service_code": "W01"}
    ) as response:
        assert response.status == 400
        await refusal(response, "/open311/v2/requests.json")


# ------------------------------------------------------------------- JSON depth


@pytest.mark.parametrize("path", ["/api/v1/orders", "/api/v1/auth/login"])
async def test_json_nested_thousands_deep_is_400(
    client: ClientSession, supervisor: dict[str, str], path: str
) -> None:
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    async with client.post(
        path, data=deep, headers={**supervisor, "Content-Type": "application/json"}
    ) as response:
        assert response.status == 400, await response.text()
        assert (await refusal(response, path))["error"]["code"] == "bad_json"


async def test_json_nested_thousands_deep_is_400_for_open311(client: ClientSession) -> None:
    deep = "[" * 5000 + "]" * 5000
    async with client.post(
        "/open311/v2/requests.json", data=deep, headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
        await refusal(response, "/open311/v2/requests.json")


# ------------------------------------------------------------------- multipart


async def test_multipart_without_a_boundary_is_400_on_the_form_and_uploads(
    client: ClientSession, server: TestServer, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        dispatch = await _a_dispatch(conn, "qd-water")
        username, _ = await make_user(conn, "enterprise_user", enterprise_code="qd-water")
    headers = {"Content-Type": "multipart/form-data"}
    path = "/api/v1/public/reports"  # the Twilio routes: tests/test_twilio_intake.py
    async with client.post(path, data=b"--x\r\n\r\n--x--\r\n", headers=headers) as response:
        assert response.status == 400, (path, await response.text())
        assert (await refusal(response, path))["error"]["code"] == "bad_form"
    async with aiohttp.ClientSession(
        base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as unit:
        csrf = await log_in(unit, username)
        upload = f"/api/v1/dispatches/{dispatch}/attachments"
        async with unit.post(
            upload, data=b"x", headers={**headers, "X-CSRF-Token": csrf}
        ) as response:
            assert response.status == 400, await response.text()
            assert (await refusal(response, upload))["error"]["code"] == "bad_form"
        # A file name with a NUL character: raw in the part's header (aiohttp's parser
        # refuses it), or percent-encoded as RFC 5987 allows (we do).
        for disposition, status, code in [
            (b'filename="a\x00b"', 400, "bad_request"),
            (b"filename*=UTF-8''a%00b", 422, "nul_character"),
        ]:
            body = (
                b'--b\r\nContent-Disposition: form-data; name="file"; ' + disposition + b"\r\n"
                b"Content-Type: application/pdf\r\n\r\n%PDF-1.4 x\r\n--b--\r\n"
            )
            async with unit.post(
                upload,
                data=body,
                headers={"Content-Type": "multipart/form-data; boundary=b", "X-CSRF-Token": csrf},
            ) as response:
                assert response.status == status, await response.text()
                assert (await refusal(response, upload))["error"]["code"] == code


async def test_the_public_form_refuses_nul_and_short_phones(client: ClientSession) -> None:
    base = {"description": "路灯不亮", "address": "香港中路 100 号", "phone": "13812345678"}
    for change, field in [
        ({"description": NUL}, "description"),
        ({"phone": "1"}, "phone"),
        ({"phone": "a1"}, "phone"),
    ]:
        form = FormData()
        for name, value in {**base, **change}.items():
            form.add_field(name, value)
        # No photo chosen: an empty file part, as a browser sends (and multipart).
        form.add_field("photo", b"", filename="", content_type="application/octet-stream")
        async with client.post("/api/v1/public/reports", data=form) as response:
            assert response.status == 422, (change, await response.text())
            body = await refusal(response, "/api/v1/public/reports")
            assert list(body["error"]["fields"]) == [field], body


# ------------------------------------------------------------------- long lines


async def _raw_request(server: TestServer, request: bytes) -> bytes:
    """``request`` sent as is; the status line and headers of the answer."""
    assert server.port is not None
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    finally:
        writer.close()


async def test_a_request_line_over_8_kb_reaches_the_application(
    client: ClientSession, supervisor: dict[str, str]
) -> None:
    long = "x" * 10_000
    async with client.get("/api/v1/orders", params={"q": long}) as response:
        assert response.status in (200, 400), await response.text()
    async with client.get("/api/v1/orders", params={"nope": long}) as response:
        assert response.status == 400  # the API's JSON error, not aiohttp's text
        await refusal(response, "/api/v1/orders")


async def test_a_request_line_over_the_limit_is_a_400_and_one_warning(
    server: TestServer, caplog: pytest.LogCaptureFixture
) -> None:
    line = b"GET /api/v1/orders?q=" + b"x" * (LINE_MAX_BYTES + 1) + b" HTTP/1.1\r\n"
    with caplog.at_level(logging.WARNING, logger="aiohttp.server"):
        answer = await _raw_request(server, line + b"Host: x\r\nConnection: close\r\n\r\n")
    # aiohttp's own answer, before any middleware: plain text (docs/web.md).
    assert b" 400 " in answer.split(b"\r\n")[0]
    refused = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert [(r.levelname, r.exc_info) for r in refused] == [("WARNING", None)]
    assert refused[0].getMessage().startswith("refused a malformed request: Got more than")


# ------------------------------------------------------------------- oracles


async def _a_dispatch(conn: asyncpg.Connection, enterprise: str) -> int:
    now = dt.datetime.now(dt.UTC)
    order = await conn.fetchrow(
        "INSERT INTO work_orders (number, hotline_code, channel, kind, service_item_code,"
        " description, status, created_at, updated_at) VALUES"
        " ('t-' || gen_random_uuid(), '12319', 'agent', 'consultation', 'G-CONSULT', 't',"
        " 'dispatched', $1, $1) RETURNING id",
        now,
    )
    return int((await dispatch_to(conn, order["id"], enterprise, now))["id"])


async def test_a_foreign_attachment_answers_as_a_missing_one(
    server: TestServer, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        dispatch = await _a_dispatch(conn, "qd-energy")
        owner, _ = await make_user(conn, "enterprise_user", enterprise_code="qd-energy")
        stranger, _ = await make_user(conn, "enterprise_user", enterprise_code="qd-water")
    base = str(server.make_url("/"))
    async with (
        aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as a,
        aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as b,
    ):
        form = FormData()
        form.add_field("file", b"%PDF-1.4 proof", filename="p.pdf", content_type="application/pdf")
        async with a.post(
            f"/api/v1/dispatches/{dispatch}/attachments",
            data=form,
            headers={"X-CSRF-Token": await log_in(a, owner)},
        ) as response:
            assert response.status == 201, await response.text()
            attachment = (await response.json())["id"]
        await log_in(b, stranger)
        async with b.get(f"/api/v1/attachments/{attachment}") as response:
            foreign = response.status, await response.json()
        missing_id = attachment + 1_000_000
        async with b.get(f"/api/v1/attachments/{missing_id}") as response:
            missing = response.status, await response.json()
    assert foreign[0] == missing[0] == 404
    assert foreign[1]["error"]["message"] == f"附件 {attachment} 不存在"
    assert missing[1]["error"]["message"] == f"附件 {missing_id} 不存在"
    assert foreign[1]["error"]["code"] == missing[1]["error"]["code"]


async def test_foreign_objects_answer_as_missing_ones_on_every_id_route(
    server: TestServer, pool: asyncpg.Pool, settings: Settings
) -> None:
    """For an enterprise user, each ``{id}`` route answers a foreign object's id (one
    that exists, another unit's) exactly as an id that names nothing."""
    async with pool.acquire() as conn:
        foreign = await _a_dispatch(conn, "qd-energy")
        order_id = await conn.fetchval("SELECT order_id FROM dispatches WHERE id = $1", foreign)
        username, _ = await make_user(conn, "enterprise_user", enterprise_code="qd-water")
    missing = 2**62
    async with aiohttp.ClientSession(
        base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as unit:
        csrf = {"X-CSRF-Token": await log_in(unit, username)}
        compared = 0
        for method, path, spec in operations(server):
            names = [p["name"] for p in spec.get("parameters", []) if p["in"] == "path"]
            if names not in (["order_id"], ["dispatch_id"]):
                continue
            existing = order_id if names == ["order_id"] else foreign
            answers = []
            for value in (existing, missing):
                url = path.replace("{" + names[0] + "}", str(value))
                body: dict[str, Any] | None = {} if "requestBody" in spec else None
                async with unit.request(method, url, json=body, headers=csrf) as response:
                    text = (await response.text()).replace(str(value), "ID")
                    answers.append((response.status, text))
            assert answers[0] == answers[1], (method, path, answers)
            compared += 1
    assert compared > 10


async def test_extreme_dates_and_numbers_are_no_server_error(
    client: ClientSession, supervisor: dict[str, str], pool: asyncpg.Pool, settings: Settings
) -> None:
    async with pool.acquire() as conn:
        _, agent = await make_user(conn, "agent")
        order = await register_order(conn, agent, settings, dt.datetime.now(dt.UTC))
    for due in ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"):
        async with client.post(
            f"/api/v1/orders/{order['id']}/coordinate",
            json={"lead_enterprise_id": 1, "note": "x", "due_at": due},
            headers=supervisor,
        ) as response:
            assert response.status < 500, (due, await response.text())
    for start in ("9999-12-31", "0001-01-01"):
        async with client.get("/api/v1/figures", params={"start": start}) as response:
            assert response.status < 500, (start, await response.text())
    async with client.get(
        "/open311/v2/requests.json", params={"start_date": "9999-12-31T23:59:59-12:00"}
    ) as response:
        assert response.status < 500, await response.text()


async def test_a_datetime_beyond_year_9999_in_utc_is_422(
    client: ClientSession, pool: asyncpg.Pool, server: TestServer
) -> None:
    async with pool.acquire() as conn:
        dispatch = await _a_dispatch(conn, "qd-water")
    async with (
        signed_in(server, pool, "enterprise_user") as (unit, headers),
        unit.post(
            f"/api/v1/dispatches/{dispatch}/time-requests",
            json={"reason": "x", "requested_due_at": "9999-12-31T23:00:00-05:00"},
            headers=headers,
        ) as response,
    ):
        assert response.status == 422, await response.text()
        body = await refusal(response, "/api/v1/")
        assert body["error"]["code"] == "out_of_range"
