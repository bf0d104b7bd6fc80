"""Helpers for callback tests: Twilio's side of the survey webhooks (Twilio's REST API is
testkit's fake), orders driven to completion through the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import asyncpg
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from hotline.settings import Settings
from testkit.twilio import ACCOUNT_SID, TOKEN, post_webhook
from tests.factories import Clock
from tests.routing_support import Desk, enterprise_ids
from wiring.app import create_app


def attempt_of(call: dict[str, Any]) -> int:
    return int(parse_qs(urlsplit(call["Url"]).query)["attempt"][0])


@dataclass
class TwilioSide:
    """Twilio calling our webhooks: signed form POSTs to a server of their own."""

    server: TestServer
    base: str
    session: aiohttp.ClientSession

    async def post(self, url: str, params: dict[str, str]) -> str:
        """POST ``params`` to the absolute ``url`` we gave Twilio, signed as Twilio does."""
        return await post_webhook(self.session, url, params)

    async def answer(self, call: dict[str, Any], *digits: str, answered_by: str = "human") -> str:
        """The citizen picks up and presses ``digits`` in turn; the last TwiML answered."""
        params = {"AccountSid": ACCOUNT_SID, "CallSid": call["sid"], "CallStatus": "in-progress"}
        text = await self.post(call["Url"], {**params, "AnsweredBy": answered_by})
        for digit in digits:
            action = next_action(text)
            text = await self.post(action, {**params, "Digits": digit})
        return text

    async def status(self, call: dict[str, Any], status: str, answered_by: str = "") -> None:
        params = {
            "AccountSid": ACCOUNT_SID,
            "CallSid": call["sid"],
            "CallStatus": status,
            "CallDuration": "35",
        }
        if answered_by:
            params["AnsweredBy"] = answered_by
        await self.post(call["StatusCallback"], params)


def next_action(twiml: str) -> str:
    """The Gather action of a TwiML answer."""
    import xml.etree.ElementTree as ET

    gather = ET.fromstring(twiml).find("Gather")
    assert gather is not None, twiml
    return str(gather.get("action"))


async def twilio_side(settings: Settings, port: int, clock: Clock) -> AsyncIterator[TwilioSide]:
    base = f"http://127.0.0.1:{port}"
    app_settings = settings.model_copy(
        update={"twilio_auth_token": SecretStr(TOKEN), "public_url": base}
    )
    server = TestServer(create_app(app_settings, clock=clock), host="127.0.0.1", port=port)
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        yield TwilioSide(server, base, session)
    await server.close()


async def completed_order(
    desks: dict[str, Desk], area: str, phone: str, *, settle: Any
) -> tuple[int, int]:
    """An order registered, routed to 青岛水务集团 by a rule, signed for and completed;
    returns (order id, dispatch id)."""
    water = (await enterprise_ids(desks["supervisor"]))["qd-water"]
    await desks["supervisor"].post(
        "/api/v1/routing/rules",
        {"service_item": "W01", "area": area, "candidates": [water]},
        status=201,
    )
    order = await desks["agent"].post(
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": "W01",
            "area": area,
            "description": "水表走字太快",
            "address": "测试路 2 号",
            "caller_phone": phone,
            "caller_name": "市民乙",
        },
        status=201,
    )
    await settle()
    return order["id"], await sign_and_complete(desks["water"], order["id"])


async def sign_and_complete(unit: Desk, order_id: int) -> int:
    inbox = await unit.get("/api/v1/inbox")
    (dispatch,) = [i for i in inbox["items"] if i["order_id"] == order_id]
    await unit.post(f"/api/v1/dispatches/{dispatch['id']}/sign-for")
    await unit.post(f"/api/v1/dispatches/{dispatch['id']}/complete", {"reply": "已更换水表"})
    return int(dispatch["id"])


async def order_row(pool: asyncpg.Pool, order_id: int) -> asyncpg.Record:
    """The order's status and redo count, and its latest answered callback's rating."""
    return await pool.fetchrow(
        """
        SELECT o.status, o.redo_count, s.rating AS callback_rating, s.solved AS callback_solved
          FROM work_orders o
          LEFT JOIN LATERAL (SELECT rating, solved FROM callback_surveys
                              WHERE order_id = o.id AND state = 'answered'
                              ORDER BY answered_at DESC, id DESC LIMIT 1) s ON true
         WHERE o.id = $1
        """,
        order_id,
    )
