"""Twilio's REST API on 127.0.0.1: the Calls and Messages resources, reached through
Twilio's real client library (HOTLINE_TWILIO_API_BASE points it here). The one fake of it,
for the tests and the benchmarks."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from testkit.local_server import Fake, LocalServer

TOKEN = "test-token"
ACCOUNT_SID = "AC" + "3f1c9a0e5b7d4c2a8e6f0b1d2c3e4f5a"
API_VERSION = "2010-04-01"


def sid(prefix: str) -> str:
    """A Twilio-shaped SID: two letters and 32 hex digits."""
    return prefix + uuid.uuid4().hex


def webhook_signature(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    """The X-Twilio-Signature Twilio sends with a webhook POST of ``params`` to ``url``."""
    return str(RequestValidator(token).compute_signature(url, params))


async def post_webhook(
    session: aiohttp.ClientSession,
    url: str,
    params: dict[str, str],
    *,
    signed_url: str | None = None,
    signed: str | None = None,
    status: int | None = 200,
    twiml: bool = False,
) -> str:
    """POST ``params`` to ``url`` as Twilio calls a webhook: form fields signed for
    ``signed_url`` (the URL Twilio was given; ``url`` by default), or with the signature
    ``signed`` ('' for none). Checks the answer's ``status`` (None: any) and, with
    ``twiml``, that a 200 is TwiML; returns its text."""
    if signed is None:
        signed = webhook_signature(signed_url or url, params)
    headers = {"X-Twilio-Signature": signed} if signed else {}
    timeout = aiohttp.ClientTimeout(total=120)
    async with session.post(url, data=params, headers=headers, timeout=timeout) as response:
        text = await response.text()
        assert status is None or response.status == status, f"{url}: {response.status} {text}"
        if twiml and response.status == 200:
            assert response.content_type == "text/xml"
        return text


@dataclass
class FakeTwilioRest(Fake):
    """Notes each call and message with the moment it came, the account in its path and
    the user it authenticated as; answers ``statuses`` in turn (then 201), an error
    status with Twilio's error body. Serves while entered."""

    statuses: list[int] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    # The recordings it keeps, by SID: their audio, served to the account's credentials.
    recordings: dict[str, bytes] = field(default_factory=dict)
    # Each recording fetched: the SID and the user it authenticated as.
    fetches: list[dict[str, str]] = field(default_factory=list)
    server: LocalServer | None = None
    name = "fake Twilio"

    def environment(self) -> dict[str, str]:
        """The settings that make the code under test send through Twilio, to here."""
        return {
            "HOTLINE_TELEPHONY_PROVIDER": "twilio",
            "HOTLINE_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "HOTLINE_TWILIO_AUTH_TOKEN": TOKEN,
            "HOTLINE_TWILIO_API_BASE": self.base,
        }

    def calls_to(self, phone: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["To"] == phone]

    async def _receive(
        self, request: web.Request, kept: list[dict[str, Any]], prefix: str
    ) -> tuple[str, str, dict[str, str]] | web.Response:
        received = time.time()
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        auth = request.headers.get("Authorization", "")
        user = base64.b64decode(auth.removeprefix("Basic ")).decode().split(":")[0]
        account = request.match_info["account"]
        new_sid = sid(prefix)
        kept.append(
            {"received": received, "sid": new_sid, "account": account, "auth": user, **form}
        )
        status = self.statuses.pop(0) if self.statuses else 201
        if status >= 400:
            return web.json_response(
                {
                    "code": 21211,
                    "message": f"The 'To' number {form.get('To')} is not a valid phone number.",
                    "more_info": "https://www.twilio.com/docs/errors/21211",
                    "status": status,
                },
                status=status,
            )
        return account, new_sid, form

    async def _calls(self, request: web.Request) -> web.Response:
        taken = await self._receive(request, self.calls, "CA")
        if isinstance(taken, web.Response):
            return taken
        account, call_sid, form = taken
        return web.json_response(
            {
                "account_sid": account,
                "api_version": API_VERSION,
                "direction": "outbound-api",
                "from": form.get("From"),
                "to": form.get("To"),
                "sid": call_sid,
                "status": "queued",
                "uri": f"/{API_VERSION}/Accounts/{account}/Calls/{call_sid}.json",
            },
            status=201,
        )

    async def _messages(self, request: web.Request) -> web.Response:
        taken = await self._receive(request, self.messages, "SM")
        if isinstance(taken, web.Response):
            return taken
        account, message_sid, form = taken
        uri = f"/{API_VERSION}/Accounts/{account}/Messages/{message_sid}"
        return web.json_response(
            {
                "account_sid": account,
                "api_version": API_VERSION,
                "body": form.get("Body"),
                "date_created": "Sun, 22 Nov 2026 02:00:00 +0000",
                "date_sent": None,
                "date_updated": "Sun, 22 Nov 2026 02:00:00 +0000",
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": form.get("From"),
                "messaging_service_sid": None,
                "num_media": "0",
                "num_segments": "1",
                "price": None,
                "price_unit": "USD",
                "sid": message_sid,
                "status": "queued",
                "subresource_uris": {"media": f"{uri}/Media.json"},
                "to": form.get("To"),
                "uri": f"{uri}.json",
            },
            status=201,
        )

    async def _recording(self, request: web.Request) -> web.Response:
        recording_sid = request.match_info["recording"]
        auth = request.headers.get("Authorization", "")
        user, _, password = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
        self.fetches.append({"sid": recording_sid, "auth": user})
        if (user, password) != (request.match_info["account"], TOKEN):
            return web.json_response({"code": 20003, "status": 401}, status=401)
        if recording_sid not in self.recordings:
            return web.json_response({"code": 20404, "status": 404}, status=404)
        return web.Response(body=self.recordings[recording_sid], content_type="audio/mpeg")

    def routes(self, app: web.Application) -> None:
        root = f"/{API_VERSION}/Accounts/{{account}}"
        app.router.add_post(f"{root}/Calls.json", self._calls)
        app.router.add_post(f"{root}/Messages.json", self._messages)
        app.router.add_get(f"{root}/Recordings/{{recording}}.mp3", self._recording)
