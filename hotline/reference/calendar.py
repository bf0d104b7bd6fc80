"""The working calendar as the database defines it, kept until it changes
(hotline/reference/versions.py)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import asyncpg

from hotline.reference import queries, versions
from hotline.settings import Settings
from hotline.workcal import WorkingCalendar


async def load_calendar(conn: asyncpg.Connection, settings: Settings) -> WorkingCalendar:
    return WorkingCalendar(
        periods=settings.working_periods,
        tz=ZoneInfo(settings.timezone),
        overrides=await queries.calendar_overrides(conn),
    )


class CalendarCache:
    """The calendar of one database, read again when its version moved (an
    administrator entered next year's holidays)."""

    def __init__(self, settings: Settings, check_every: float = versions.CHECK_EVERY) -> None:
        self.settings = settings
        self.check_every = check_every
        self._calendar: WorkingCalendar | None = None
        self._seen: versions.Seen | None = None

    async def get(self, conn: asyncpg.Connection) -> WorkingCalendar:
        if self._calendar is not None and self._seen and not self._seen.due(self.check_every):
            return self._calendar
        seen = await versions.look(conn, "calendar")
        if self._calendar is None or self._seen is None or self._seen.version != seen.version:
            self._calendar = await load_calendar(conn, self.settings)
        self._seen = seen
        return self._calendar
