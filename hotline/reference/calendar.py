"""The working calendar as the database defines it, cached for a few minutes."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

import asyncpg

from hotline.reference import queries
from hotline.settings import Settings
from hotline.workcal import WorkingCalendar


async def load_calendar(conn: asyncpg.Connection, settings: Settings) -> WorkingCalendar:
    return WorkingCalendar(
        periods=settings.working_periods,
        tz=ZoneInfo(settings.timezone),
        overrides=await queries.calendar_overrides(conn),
    )


class CalendarCache:
    """Edits to ``calendar_days`` are rare; every process rereads them after ``ttl``."""

    def __init__(self, settings: Settings, ttl: float = 300.0) -> None:
        self.settings = settings
        self.ttl = ttl
        self._calendar: WorkingCalendar | None = None
        self._loaded_at = 0.0

    async def get(self, conn: asyncpg.Connection) -> WorkingCalendar:
        if self._calendar is None or time.monotonic() - self._loaded_at > self.ttl:
            self._calendar = await load_calendar(conn, self.settings)
            self._loaded_at = time.monotonic()
        return self._calendar
