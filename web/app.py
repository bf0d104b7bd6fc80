"""The aiohttp application: middlewares, resources, the live socket and the route table.

What it serves is decided by the composition root (``wiring/app.py``): the operations
of an ``Api`` and the packages' own setup steps (pages, static files)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import redis.asyncio as aioredis
import socketio
from aiohttp import web

from hotline import db
from hotline.context import Clock, utcnow
from hotline.fallbacks import Fallbacks, fail_fast_redis
from hotline.reference import versions
from hotline.reference.calendar import CalendarCache
from hotline.settings import Settings
from hotline.storage import DiskStorage
from web import live
from web.api import Api
from web.auth import auth_middleware
from web.errors import error_middleware, quiet_malformed_requests
from web.keys import (
    API,
    CALENDAR,
    CLOCK,
    FALLBACKS,
    POOL,
    READ_POOL,
    REDIS,
    SETTINGS,
    SHARED,
    STORAGE,
)
from web.metrics import metrics_middleware, setup_metrics
from web.proxy import proxy_middleware
from web.reconnect import reconnect_middleware
from web.security import setup_security_headers

# The longest request line and header aiohttp reads (its default is 8 KB). A longer one
# is refused by aiohttp's HTTP parser before any middleware runs, so it cannot get the
# API's JSON error: it gets aiohttp's plain-text 400 (and one warning in the log, see
# quiet_malformed_requests). Twice the default leaves room for long query strings
# (lists of ids) and cookies; see docs/web.md.
LINE_MAX_BYTES = 16 * 1024


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    assert settings.database_url, "the database URL is resolved before the app starts"
    app[POOL] = await db.create_pool(settings.database_url)
    app[SHARED] = db.SharedTransactions(app[POOL])
    # Reports read a replica when one is set (hotline/db.py, create_read_pool).
    read_url = settings.read_database_url
    if read_url:
        fallback = db.read_fallback(app[FALLBACKS])
        app[READ_POOL] = await db.create_read_pool(read_url, settings.database_url, fallback)
    else:
        app[READ_POOL] = app[POOL]
    yield
    if app[READ_POOL] is not app[POOL]:
        await app[READ_POOL].close()
    await app[POOL].close()


async def _redis(app: web.Application) -> AsyncIterator[None]:
    redis_url = app[SETTINGS].redis_url
    assert redis_url, "the Redis URL is resolved before the app starts"
    # Requests (webhooks among them) must not wait long on a Redis that is down.
    app[REDIS] = aioredis.Redis.from_url(redis_url, **fail_fast_redis())
    # Reference data an administrator changed reaches this process's caches at once.
    stop_listening = threading.Event()
    versions.listen(redis_url, stop_listening)
    yield
    stop_listening.set()
    await app[REDIS].aclose()


def _closing_sockets(sockets: socketio.AsyncServer) -> Callable[[web.Application], Any]:
    """On shutdown, before in-flight requests are awaited: close the consoles' sockets
    (they reconnect to another process) instead of holding shutdown for the whole grace
    period."""

    async def close(app: web.Application) -> None:
        if sockets.eio.sockets:  # engine.io cannot close an empty set
            await sockets.eio.disconnect()

    return close


def create_app(
    settings: Settings,
    api: Api,
    *,
    clock: Clock = utcnow,
    setup: Sequence[Callable[[web.Application], None]] = (),
) -> web.Application:
    """An application serving ``api``'s operations; each of ``setup`` then adds what else
    a package serves (pages, static files)."""
    app = web.Application(
        middlewares=[
            proxy_middleware,
            metrics_middleware,
            error_middleware,
            reconnect_middleware,
            auth_middleware,
        ],
        client_max_size=settings.max_body_bytes,
        handler_args={"max_line_size": LINE_MAX_BYTES, "max_field_size": LINE_MAX_BYTES},
    )
    quiet_malformed_requests()
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[API] = api
    app[CALENDAR] = CalendarCache(settings)
    app[FALLBACKS] = Fallbacks()
    app[STORAGE] = DiskStorage(settings.proof_root, settings.proof_max_bytes)
    app.cleanup_ctx.extend([_database, _redis])
    api.add_routes(app)
    sockets = live.attach(app, settings)
    app.on_shutdown.append(_closing_sockets(sockets))
    setup_metrics(app)
    setup_security_headers(app)
    for step in setup:
        step(app)
    return app
