"""Liveness with the state of the database and Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from aiohttp import web

from agents_ui.api import api, json_response
from agents_ui.keys import POOL, REDIS

CHECK_TIMEOUT = 2.0


async def _probe(check: Awaitable[Any]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check, CHECK_TIMEOUT)
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


@api.route(
    "GET",
    "/health",
    summary="Is the service up, and can it reach PostgreSQL and Redis",
    tag="operations",
    public=True,
    statuses={200: "all dependencies answer", 503: "a dependency does not answer"},
)
async def health(request: web.Request) -> web.Response:
    database = await _probe(request.app[POOL].fetchval("SELECT 1"))
    redis = await _probe(request.app[REDIS].ping())
    ok = database["ok"] and redis["ok"]
    return json_response(
        {"status": "ok" if ok else "degraded", "database": database, "redis": redis},
        status=200 if ok else 503,
    )
