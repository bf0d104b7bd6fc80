"""What a job or a handler uses besides its connection: the job context.

Each worker process has one, built by the composition root (``wiring``) from
the process's own settings and handed down from the job's entry point: the settings,
the clock (tests set it), the telephony provider and the caches of the one database the
process works on. Nothing below the entry point reads the environment or the wall clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import cached_property

import asyncpg

from hotline import db
from hotline.fallbacks import Fallbacks
from hotline.reference.calendar import CalendarCache
from hotline.settings import Settings
from hotline.telephony import TelephonyProvider

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class JobContext:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock,
        telephony: Callable[[Settings], TelephonyProvider],
    ) -> None:
        self.settings = settings
        self.clock = clock
        # The working calendar of this context's database, reread after the cache's ttl.
        self.calendar = CalendarCache(settings)
        self._make_telephony = telephony
        # What this process did without a dependency, counted and logged once a minute
        # while it lasts: reports' reads on the primary for want of the replica.
        self.fallbacks = Fallbacks()
        self._read_fallback = db.read_fallback(self.fallbacks)

    @cached_property
    def telephony(self) -> TelephonyProvider:
        """The configured provider, made on first use (a process that never sends needs
        no credentials) and kept: its HTTP client keeps its connections open from one
        call or message to the next (a new client per call halved the callbacks' rate)."""
        return self._make_telephony(self.settings)

    @asynccontextmanager
    async def read_connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection of its own to where reports read, closed when the block ends: the
        replica of ``HOTLINE_READ_DATABASE_URL``, the primary when that is unset or the
        replica cannot be reached. A replica lags the primary: what was just written on
        the job's own connection may not be there yet, so read only what can be a little
        behind (and say how current it is, ``reports.reading.freshness``).

        Opened for each use, not pooled: the reports' jobs run for seconds or minutes,
        against which opening a connection is nothing, and it outlives no job."""
        primary = self.settings.database_url
        if not primary:
            raise RuntimeError("HOTLINE_DATABASE_URL is not set for this process")
        conn = await db.connect_for_reading(
            self.settings.read_database_url, primary, self._read_fallback
        )
        try:
            yield conn
        finally:
            await conn.close()
