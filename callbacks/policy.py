"""When callbacks may happen: the first attempt after completion, the next after a
failed one, always inside the calling hours of an allowed day.

An allowed day is a working day of the calendar (``WorkingCalendar.is_workday``: the
``calendar_days`` table, then chinese-calendar) that is not a configured quiet day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hotline.settings import Settings, SettingsError, parse_working_hours
from hotline.workcal import WorkingCalendar

_MAX_DAYS_SCANNED = 3660


@dataclass(frozen=True)
class CallbackPolicy:
    calendar: WorkingCalendar
    calling_start: dt.time
    calling_end: dt.time
    quiet_days: frozenset[dt.date]
    delay_working_hours: float
    max_attempts: int
    retry_after: tuple[dt.timedelta, ...]  # after failed attempt 1, 2, ...
    sms_reply_window: dt.timedelta
    max_lateness: dt.timedelta | None

    @classmethod
    def from_settings(cls, settings: Settings, calendar: WorkingCalendar) -> CallbackPolicy:
        """Raises ``SettingsError`` for calling hours, quiet days or retries that do not parse."""
        periods = parse_working_hours(settings.callback_calling_hours)
        if len(periods) != 1:
            raise SettingsError("HOTLINE_CALLBACK_CALLING_HOURS is one period, like 09:00-20:00")
        try:
            quiet = frozenset(
                dt.date.fromisoformat(part.strip())
                for part in settings.callback_quiet_days.split(",")
                if part.strip()
            )
            retries = tuple(
                dt.timedelta(minutes=int(part))
                for part in settings.callback_retry_minutes.split(",")
                if part.strip()
            )
        except ValueError as exc:
            raise SettingsError(f"callback settings do not parse: {exc}") from exc
        if not retries or any(r <= dt.timedelta(0) for r in retries):
            raise SettingsError(
                "HOTLINE_CALLBACK_RETRY_MINUTES are positive minutes, like 120,1440"
            )
        lateness = settings.callback_max_lateness_minutes
        return cls(
            calendar=calendar,
            calling_start=periods[0][0],
            calling_end=periods[0][1],
            quiet_days=quiet,
            delay_working_hours=settings.callback_delay_working_hours,
            max_attempts=settings.callback_max_attempts,
            retry_after=retries,
            sms_reply_window=dt.timedelta(hours=settings.callback_sms_reply_hours),
            max_lateness=dt.timedelta(minutes=lateness) if lateness else None,
        )

    def allowed_day(self, day: dt.date) -> bool:
        return day not in self.quiet_days and self.calendar.is_workday(day)

    def is_calling_time(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.calendar.tz)
        return (
            self.allowed_day(local.date()) and self.calling_start <= local.time() < self.calling_end
        )

    def next_calling_time(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` itself when calls are allowed then, else the next start of the
        calling hours on an allowed day (UTC)."""
        if self.is_calling_time(moment):
            return moment.astimezone(dt.UTC)
        local = moment.astimezone(self.calendar.tz)
        day = local.date()
        if local.time() >= self.calling_start:
            day += dt.timedelta(days=1)
        for _ in range(_MAX_DAYS_SCANNED):
            if self.allowed_day(day):
                start = dt.datetime.combine(day, self.calling_start, tzinfo=self.calendar.tz)
                return start.astimezone(dt.UTC)
            day += dt.timedelta(days=1)
        raise ValueError("no allowed calling day within ten years")

    def first_attempt_at(self, completed_at: dt.datetime) -> dt.datetime:
        """``delay_working_hours`` on the working calendar after completion, moved into
        the calling hours."""
        after = self.calendar.add(completed_at, self.delay_working_hours, "working_hours")
        return self.next_calling_time(after)

    def retry_at(self, failed_attempt: int, at: dt.datetime) -> dt.datetime | None:
        """When attempt ``failed_attempt + 1`` is due after attempt ``failed_attempt``
        failed at ``at``; None once ``max_attempts`` were made."""
        if failed_attempt >= self.max_attempts:
            return None
        gap = self.retry_after[min(failed_attempt, len(self.retry_after)) - 1]
        return self.next_calling_time(at + gap)

    def too_late(self, due_at: dt.datetime, now: dt.datetime) -> bool:
        """A call this late (a relay or workers were down) must be checked against the
        calling hours again before it is placed."""
        return (
            self.max_lateness is not None
            and now - due_at > self.max_lateness
            and not self.is_calling_time(now)
        )


def waiting_state(channel: str, campaign_state: str) -> str:
    """The state a new attempt waits in: held while its campaign is paused; for an
    agent (manual) or for the relay otherwise."""
    if campaign_state == "paused":
        return "held"
    return "manual" if channel == "manual" else "pending"
