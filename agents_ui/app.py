"""The aiohttp application: middlewares, resources and the route table."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
import socketio
from aiohttp import web

from agents_ui import live, views
from agents_ui.api import api
from agents_ui.auth import auth_middleware
from agents_ui.errors import error_middleware
from agents_ui.keys import CALENDAR, CLOCK, POOL, REDIS, SETTINGS, STORAGE
from agents_ui.metrics import metrics_middleware, setup_metrics
from agents_ui.proxy import proxy_middleware
from hotline import db
from hotline.reference.calendar import CalendarCache
from hotline.settings import Settings
from hotline.storage import DiskStorage

STATIC_DIR = Path(__file__).parent / "static"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    assert settings.database_url, "the database URL is resolved before the app starts"
    app[POOL] = await db.create_pool(settings.database_url)
    yield
    await app[POOL].close()


async def _redis(app: web.Application) -> AsyncIterator[None]:
    redis_url = app[SETTINGS].redis_url
    assert redis_url, "the Redis URL is resolved before the app starts"
    app[REDIS] = aioredis.Redis.from_url(redis_url)
    yield
    await app[REDIS].aclose()


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


async def report_form(request: web.Request) -> web.FileResponse:
    """The public report form (integrations/open311/form.py takes what it sends)."""
    return web.FileResponse(STATIC_DIR / "report.html")


def _closing_sockets(sockets: socketio.AsyncServer) -> Callable[[web.Application], Any]:
    """On shutdown, before in-flight requests are awaited: close the consoles' sockets
    (they reconnect to another process) instead of holding shutdown for the whole grace
    period."""

    async def close(app: web.Application) -> None:
        if sockets.eio.sockets:  # engine.io cannot close an empty set
            await sockets.eio.disconnect()

    return close


def create_app(settings: Settings, *, clock: Callable[[], dt.datetime] = utcnow) -> web.Application:
    views.load()
    app = web.Application(
        middlewares=[proxy_middleware, metrics_middleware, error_middleware, auth_middleware],
        client_max_size=settings.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[CALENDAR] = CalendarCache(settings)
    app[STORAGE] = DiskStorage(settings.proof_root, settings.proof_max_bytes)
    app.cleanup_ctx.extend([_database, _redis])
    api.add_routes(app)
    sockets = live.attach(app, settings)
    app.on_shutdown.append(_closing_sockets(sockets))
    setup_metrics(app)
    app.router.add_get("/", index)
    app.router.add_get("/report", report_form)
    app.router.add_static("/static/", STATIC_DIR)
    return app
