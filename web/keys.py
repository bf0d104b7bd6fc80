"""Typed keys for what the web application holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.web_urldispatcher import AbstractRoute

from hotline.db import SharedTransactions
from hotline.fallbacks import Fallbacks
from hotline.reference.calendar import CalendarCache
from hotline.settings import Settings
from hotline.storage import ProofStorage

if TYPE_CHECKING:
    from web.api import Api

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
# What reports read: a streaming replica's pool when HOTLINE_READ_DATABASE_URL is set,
# the primary's otherwise (docs/reports.md). Nothing that must read its own writes uses it.
READ_POOL = web.AppKey("read_pool", asyncpg.Pool)
# Webhooks' writes that arrive together share a transaction (hotline/db.py).
SHARED = web.AppKey("shared_transactions", SharedTransactions)
REDIS = web.AppKey("redis", aioredis.Redis)
CALENDAR = web.AppKey("calendar", CalendarCache)
FALLBACKS = web.AppKey("fallbacks", Fallbacks)
STORAGE: web.AppKey[ProofStorage] = web.AppKey("storage")
CLOCK: web.AppKey[Callable[[], dt.datetime]] = web.AppKey("clock")
API: web.AppKey[Api] = web.AppKey("api")
# The routes that may run twice for one request (web/reconnect.py): a delivery they have
# already taken is recognised by its id and answered again without doing anything more.
REPLAYABLE: web.AppKey[frozenset[AbstractRoute]] = web.AppKey("replayable")
