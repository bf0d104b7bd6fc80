"""Liveness (``/health``) and readiness (``/ready``) for orchestrators and proxies.

Liveness says the process answers: it stays 200 while the database or Redis is away, so
an orchestrator does not restart healthy processes during their outage (it reports them
all the same). Readiness says the process can serve: the database and Redis answer and
the database carries every migration this code needs; a proxy sends traffic only to
ready processes.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

import asyncpg
from aiohttp import web

from hotline.migrate import MigrationStatus, load_migrations, migration_status
from web.api import Api, Routes, json_response
from web.keys import API, POOL, REDIS, SETTINGS

routes = Routes()

CHECK_TIMEOUT = 2.0
STARTED = time.monotonic()
T = TypeVar("T")


async def _probe(check: Awaitable[T]) -> tuple[dict[str, Any], T | None]:
    """Runs a check within the timeout: its report and its value (None if it failed)."""
    started = time.perf_counter()
    try:
        value = await asyncio.wait_for(check, CHECK_TIMEOUT)
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}, None
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}, value


async def _dependencies(request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
    (database, _), (redis, _) = await asyncio.gather(
        _probe(request.app[POOL].fetchval("SELECT 1")), _probe(request.app[REDIS].ping())
    )
    return database, redis


@routes.route(
    "GET",
    "/health",
    summary="Liveness: the process answers (with the state of PostgreSQL and Redis)",
    tag="operations",
    public=True,
    statuses={200: "the process is alive, whatever its dependencies say"},
)
async def health(request: web.Request) -> web.Response:
    database, redis = await _dependencies(request)
    return json_response(
        {
            "status": "ok",
            "pid": os.getpid(),
            "uptime_seconds": round(time.monotonic() - STARTED, 1),
            "database": database,
            "redis": redis,
        }
    )


# The code's migrations do not change while it runs: read and hashed once, not per probe.
_code_migrations = functools.cache(load_migrations)


async def _migrations(pool: asyncpg.Pool) -> MigrationStatus:
    async with pool.acquire() as conn:
        return await migration_status(conn, _code_migrations())


@routes.route(
    "GET",
    "/ready",
    summary="Readiness: PostgreSQL and Redis answer and the schema is this code's",
    tag="operations",
    public=True,
    statuses={200: "ready for traffic", 503: "not ready: `problems` says why"},
)
async def ready(request: web.Request) -> web.Response:
    (database, redis), (checked, status) = await asyncio.gather(
        _dependencies(request), _probe(_migrations(request.app[POOL]))
    )
    problems = [
        f"{name} does not answer ({probe['error']})"
        for name, probe in (("database", database), ("redis", redis))
        if not probe["ok"]
    ]
    migrations: dict[str, Any] = {"ok": False}
    if status is None:
        problems.append(f"the applied migrations cannot be read ({checked.get('error')})")
    else:
        migrations = {
            "ok": status.current,
            "pending": status.pending,
            "changed": status.changed,
            "ahead": status.ahead,
        }
        if status.pending:
            problems.append("migrations not applied: " + ", ".join(status.pending))
        if status.changed:
            problems.append(
                "migrations changed after they were applied: " + ", ".join(status.changed)
            )
    return json_response(
        {
            "status": "not_ready" if problems else "ready",
            "problems": problems,
            "database": database,
            "redis": redis,
            "migrations": migrations,
        },
        status=503 if problems else 200,
    )


@routes.route(
    "GET",
    "/api/v1/openapi.json",
    summary="This API described in OpenAPI 3.1",
    tag="reference",
    public=True,
)
async def openapi(request: web.Request) -> web.Response:
    return json_response(request.app[API].openapi(request.app[SETTINGS].base_url))


def register(api: Api) -> None:
    """The web layer's own operations: liveness, readiness, the API's description."""
    api.include(routes)
