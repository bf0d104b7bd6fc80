"""What came with an order besides its text, and who may see or hear it: the call an
agent registered it on, the public form's photo, an Open311 client's photo address, a
recorded message (played through the server from Twilio), proof files; and why each
dispatch went where it went."""

from __future__ import annotations

import datetime as dt
import json

import aiohttp
import asyncpg
from aiohttp import ClientSession, FormData
from aiohttp.test_utils import TestServer

from hotline import i18n
from hotline.orders.presenting import order_media
from hotline.settings import Settings
from testkit.twilio import ACCOUNT_SID, FakeTwilioRest, sid
from tests.factories import dispatch_to, log_in, make_user
from tests.test_open311 import PNG, anonymous, report_form  # noqa: F401 (a fixture)
from tests.test_twilio_intake import (
    call_row,
    gather_params,
    mobile,
    queue_params,
    recording_params,
    start_call,
    twilio_server,
)

# An MP3 as Twilio sends it: an ID3 tag, then frames.
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x0f" + b"\xff\xfb\x90\x64" + b"\x00" * 400


def is_served_safely(response: aiohttp.ClientResponse, content_type: str, shown: bool) -> bool:
    disposition = response.headers["Content-Disposition"]
    return (
        response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        and response.status == 200
        and response.content_type == content_type
        and response.headers["X-Content-Type-Options"] == "nosniff"
        and disposition.startswith("inline" if shown else "attachment")
    )


async def test_an_order_taken_on_a_call_is_listed_with_the_call(
    client: ClientSession, pool: asyncpg.Pool
) -> None:
    call_id = await pool.fetchval(
        "INSERT INTO calls (call_sid, hotline_code, from_phone, to_number) "
        "VALUES ($1, '96111', '+8613800000001', '96111') RETURNING id",
        sid("CA"),
    )
    async with pool.acquire() as conn:
        username, _ = await make_user(conn, "agent", hotline_code="96111")
    csrf = await log_in(client, username)
    body = {
        "hotline_code": "96111",
        "service_item_code": "W01",
        "description": "家里停水了",
        "call_id": call_id,
    }
    response = await client.post("/api/v1/orders", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status == 201, await response.text()
    order = await response.json()
    assert order["call_id"] == call_id and order["media"] == []
    assert "media_url" not in order

    call = await (await client.get(f"/api/v1/calls/{call_id}")).json()
    assert [o["id"] for o in call["orders"]] == [order["id"]]
    assert call["recording"] is None and "recording_url" not in call

    unknown = await client.post(
        "/api/v1/orders", json={**body, "call_id": 999_999_999}, headers={"X-CSRF-Token": csrf}
    )
    assert unknown.status == 422
    assert "call_id" in (await unknown.json())["error"]["fields"]


async def test_the_forms_photo_and_proof_files_reach_those_who_may_see_the_order(
    anonymous: ClientSession,  # noqa: F811
    server: TestServer,
    pool: asyncpg.Pool,
    now: dt.datetime,
) -> None:
    sent = await anonymous.post(
        "/api/v1/public/reports", data=report_form(PNG, phone=mobile().removeprefix("+86"))
    )
    assert sent.status == 201, await sent.text()
    number = (await sent.json())["number"]
    async with pool.acquire() as conn:
        agent, _ = await make_user(conn, "agent", hotline_code="12319")
        water, _ = await make_user(conn, "enterprise_user", enterprise_code="qd-water")
        energy, _ = await make_user(conn, "enterprise_user", enterprise_code="qd-energy")
        order_id = await conn.fetchval("SELECT id FROM work_orders WHERE number = $1", number)
        enterprise = await conn.fetchval("SELECT id FROM enterprises WHERE code = 'qd-water'")
    base = str(server.make_url("/"))
    jar = aiohttp.CookieJar
    async with (
        ClientSession(base_url=base, cookie_jar=jar(unsafe=True)) as centre,
        ClientSession(base_url=base, cookie_jar=jar(unsafe=True)) as unit,
        ClientSession(base_url=base, cookie_jar=jar(unsafe=True)) as stranger,
        ClientSession(base_url=base) as nobody,
    ):
        await log_in(centre, agent)
        csrf = await log_in(unit, water)
        await log_in(stranger, energy)

        # The draft an agent confirms shows the photo, by the server's own address.
        drafts = await (await centre.get("/api/v1/orders", params={"q": number})).json()
        [draft] = drafts["items"]
        [photo] = draft["media"]
        assert photo["kind"] == "photo" and photo["url"].startswith("/api/v1/report-photos/")
        assert "media_url" not in draft
        assert is_served_safely(await centre.get(photo["url"]), "image/png", shown=True)
        assert (await unit.get(photo["url"])).status == 404  # not the unit's order yet

        async with pool.acquire() as conn:
            reason = i18n.Text("The centre overruled the return: {note}", note="核实")
            dispatch = await dispatch_to(conn, order_id, "qd-water", now, reason=reason)
        # The unit's inbox shows it too, with the files it adds.
        png = FormData()
        png.add_field("file", PNG, filename="现场.png", content_type="image/png")
        pdf = FormData()
        pdf.add_field("file", b"%PDF-1.4 proof", filename="r.pdf", content_type="image/png")
        for form in (png, pdf):
            upload = await unit.post(
                f"/api/v1/dispatches/{dispatch['id']}/attachments",
                data=form,
                headers={"X-CSRF-Token": csrf},
            )
            assert upload.status == 201, await upload.text()
        inbox = await (await unit.get("/api/v1/inbox")).json()
        [row] = [r for r in inbox["items"] if r["order_id"] == order_id]
        assert row["media"] == [photo] and row["enterprise_id"] == enterprise
        image, document = row["attachments"]
        assert (image["content_type"], document["content_type"]) == ("image/png", "application/pdf")
        assert is_served_safely(await unit.get(photo["url"]), "image/png", shown=True)
        # A picture is shown in the page; a PDF is only ever downloaded.
        assert is_served_safely(await unit.get(image["url"]), "image/png", shown=True)
        assert is_served_safely(await centre.get(document["url"]), "application/pdf", shown=False)
        for url in (photo["url"], image["url"]):
            assert (await stranger.get(url)).status == 404
            assert (await nobody.get(url)).status == 401

        # The order page: every dispatch says why it went there.
        detail = await (await centre.get(f"/api/v1/orders/{order_id}")).json()
        assert [d["reason"] for d in detail["dispatches"]] == ["中心驳回退单：核实"]
        assert [a["url"] for a in detail["attachments"]] == [image["url"], document["url"]]
        assert detail["media"] == [photo]


def test_a_photo_address_from_open311_is_a_link_and_a_carriers_never_shown() -> None:
    row = {"channel": "open311", "media_url": "https://city.example/p.jpg", "call_id": None}
    assert order_media({**row, "has_recording": False}) == [
        {"kind": "link", "url": "https://city.example/p.jpg"}
    ]
    voice = {
        "channel": "voice",
        "media_url": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
        "call_id": 5,
        "has_recording": True,
    }
    assert order_media(voice) == [{"kind": "recording", "url": "/api/v1/calls/5/recording"}]


async def test_a_recorded_message_plays_through_the_server_for_those_who_may_hear_it(
    settings: Settings, pool: asyncpg.Pool, now: dt.datetime
) -> None:
    with FakeTwilioRest() as rest:
        async with twilio_server(
            settings, pool, twilio_account_sid=ACCOUNT_SID, twilio_api_base=rest.base
        ) as twilio:
            call_sid = await start_call(twilio, "96111", mobile())
            await twilio.post("/twilio/voice/menu", gather_params(call_sid, "96111", "1"))
            await twilio.post("/twilio/voice/queue-exit", queue_params(call_sid, "leave", 60))
            recording_sid = sid("RE")
            rest.recordings[recording_sid] = MP3
            await twilio.post("/twilio/recording", recording_params(call_sid, recording_sid))
            call = await call_row(pool, call_sid)
            assert call is not None
            order_id = await pool.fetchval(
                "SELECT id FROM work_orders WHERE call_id = $1", call["id"]
            )
            async with pool.acquire() as conn:
                agent, _ = await make_user(conn, "agent", hotline_code="96111")
                water, _ = await make_user(conn, "enterprise_user", enterprise_code="qd-water")
            jar = aiohttp.CookieJar
            async with (
                ClientSession(base_url=twilio.base, cookie_jar=jar(unsafe=True)) as centre,
                ClientSession(base_url=twilio.base, cookie_jar=jar(unsafe=True)) as unit,
                ClientSession(base_url=twilio.base) as nobody,
            ):
                await log_in(centre, agent)
                await log_in(unit, water)
                draft = await (await centre.get(f"/api/v1/orders/{order_id}")).json()
                assert "twilio" not in json.dumps(draft)
                [recording] = draft["media"]
                assert recording == {
                    "kind": "recording",
                    "url": f"/api/v1/calls/{call['id']}/recording",
                }
                assert (await nobody.get(recording["url"])).status == 401
                assert (await unit.get(recording["url"])).status == 404  # not its order
                assert rest.fetches == []

                played = await centre.get(recording["url"])
                assert is_served_safely(played, "audio/mpeg", shown=True)
                assert await played.read() == MP3
                assert rest.fetches == [{"sid": recording_sid, "auth": ACCOUNT_SID}]

                async with pool.acquire() as conn:
                    await dispatch_to(conn, order_id, "qd-water", now)
                assert await (await unit.get(recording["url"])).read() == MP3

                # The citizen's spoken comment on a callback plays the same way.
                comment_sid = sid("RE")
                rest.recordings[comment_sid] = MP3
                comment_url = recording_params(call_sid, comment_sid)["RecordingUrl"]
                await pool.execute(
                    "INSERT INTO callback_surveys (campaign_id, order_id, phone, hotline_code,"
                    " channel, recording_url) SELECT id, $1, '+8613800000002', '96111',"
                    " 'voice', $2 FROM callback_campaigns WHERE kind = 'post_completion'",
                    order_id,
                    comment_url,
                )
                # An event written before the history left the carrier's URL out.
                await pool.execute(
                    "INSERT INTO order_events (order_id, type, actor, data, created_at)"
                    " VALUES ($1, 'callback.comment', 'system', $2, now())",
                    order_id,
                    {"recording_url": comment_url},
                )
                surveys = await (await centre.get(f"/api/v1/orders/{order_id}/callbacks")).json()
                history = await (await centre.get(f"/api/v1/orders/{order_id}")).json()
                assert "twilio" not in json.dumps([surveys, history])
                comment = surveys["items"][0]["recording"]
                assert (await nobody.get(comment)).status == 401
                assert await (await unit.get(comment)).read() == MP3
                assert rest.fetches[-1] == {"sid": comment_sid, "auth": ACCOUNT_SID}

                # Twilio no longer has it: gone here too. What is not audio is not passed
                # on: a 502 (try later), not Twilio's answer.
                rest.recordings[recording_sid] = b"<html>maintenance</html>"
                failed = await centre.get(recording["url"])
                assert failed.status == 502
                assert (await failed.json())["error"]["code"] == "recording_unavailable"
                del rest.recordings[recording_sid]
                assert (await centre.get(recording["url"])).status == 404
