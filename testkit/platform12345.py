"""A fake 12345 platform on 127.0.0.1, speaking the default contract (docs/exchange.md):
it takes our status messages and transfers, checking each signature, and pushes orders
to us through a real HTTP client, signed as the platform signs them.

It misbehaves on request, as platforms do: ``failures`` answers the next requests with
those statuses; ``slow`` makes the next answers come after ``delay`` seconds (we give up
waiting and send again, although the platform took the message). ``taken`` is what the
platform keeps: each message once, by its key, in the order they came.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from testkit.local_server import Fake, LocalServer

KEY = "X-Exchange-Key"
TIMESTAMP = "X-Exchange-Timestamp"
SIGNATURE = "X-Exchange-Signature"
MESSAGE = "X-Exchange-Message"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@dataclass
class Request:
    path: str
    message: str
    body: dict[str, Any]
    signature_ok: bool
    status: int


@dataclass
class FakePlatform(Fake):
    secret: str = ""
    failures: list[int] = field(default_factory=list)
    slow: int = 0
    delay: float = 0.0
    requests: list[Request] = field(default_factory=list)
    taken: list[dict[str, Any]] = field(default_factory=list)
    numbers: int = 0
    server: LocalServer | None = None
    name = "fake 12345 platform"

    def events(self, number: str) -> list[str]:
        """The events the platform took for its order ``number``, in order."""
        return [m["event"] for m in self.taken if m.get("number") == number]

    async def _receive(self, request: web.Request) -> web.Response:
        raw = await request.read()
        timestamp = request.headers.get(TIMESTAMP, "0")
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300
        ok = fresh and hmac.compare_digest(
            sign(self.secret, int(timestamp), raw), request.headers.get(SIGNATURE, "")
        )
        body = json.loads(raw)
        message = request.headers.get(MESSAGE, "")
        status = self.failures.pop(0) if self.failures else (200 if ok else 401)
        self.requests.append(Request(request.path, message, body, ok, status))
        if status >= 300:
            return web.json_response({"error": "unavailable"}, status=status)
        answer: dict[str, Any] = {"received": message}
        if message not in {m["message"] for m in self.taken}:
            if request.path == "/orders":  # a transfer: the order gets our number
                self.numbers += 1
                body["number"] = f"P{self.numbers:06d}"
            self.taken.append(body)
        if request.path == "/orders":
            (transfer,) = [m for m in self.taken if m["message"] == message]
            answer["number"] = transfer["number"]
        if self.slow:
            self.slow -= 1
            await asyncio.sleep(self.delay)
        return web.json_response(answer)

    async def push(
        self,
        url: str,
        order: dict[str, Any],
        *,
        key: str,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Push ``order`` to our endpoint ``url`` as the platform does; the status and
        the answer."""
        body = json.dumps(order, ensure_ascii=False).encode()
        sent_at = int(time.time()) if timestamp is None else timestamp
        headers = {
            "Content-Type": "application/json",
            KEY: key,
            TIMESTAMP: str(sent_at),
            SIGNATURE: sign(self.secret if secret is None else secret, sent_at, body),
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body, headers=headers) as response,
        ):
            return response.status, await response.json()

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/orders", self._receive)
        app.router.add_post("/orders/{number}/status", self._receive)
