"""The schedule: rolling the day counts while their facts can change, and making the
reports the morning owes.

Runs are rows of ``report_runs``, drained by the relay into RQ like the outbox (the same
way as the classifier's trainings): a 'recent' run every ``report_recent_minutes`` rolls
today and yesterday (a call or an order move of the last minutes shows in a report
soon); a 'morning' run at ``report_morning_hour`` local time rolls the last
``report_roll_days`` days again (callbacks and late moves change them for days) and
then makes the reports owed that day. Each run's end queues the next one of its kind;
the relay queues one of each when it starts. Rows rather than a cron: a run missed
while the system was down is due, and done, when it comes back, and two relays or
workers never do one twice."""

from __future__ import annotations

import datetime as dt
import logging

import asyncpg

from hotline import leased
from hotline.context import JobContext
from hotline.jobs import run_job
from hotline.relay import Source
from hotline.settings import Settings
from hotline.suggest.runs import next_nightly
from reports.days.service import do_roll_days
from reports.periodic import queries
from reports.periodic.service import make_due_reports

log = logging.getLogger(__name__)

LEASE = leased.Lease("report_runs", claimed_state="enqueued")


def next_due(kind: str, settings: Settings, now: dt.datetime) -> dt.datetime:
    if kind == "recent":
        return now + dt.timedelta(minutes=settings.report_recent_minutes)
    return next_nightly(now, settings.timezone, settings.report_morning_hour)


async def do_ensure_runs(conn: asyncpg.Connection, settings: Settings, now: dt.datetime) -> None:
    """What the relay queues when it starts: a recent roll now, and the next morning's
    run (each only if none of its kind waits)."""
    await queries.insert_run(conn, "recent", now, now)
    await queries.insert_run(conn, "morning", next_due("morning", settings, now), now)


async def carry_out(conn: asyncpg.Connection, run_id: int, ctx: JobContext) -> str:
    """The job: roll the run's days (and, in the morning, make the owed reports), then
    queue the next run of its kind. A run enqueued twice is carried out once."""
    async with leased.sending_lock(conn, "report_runs", run_id) as held:
        if not held:
            return "running elsewhere"
        row = await queries.get_run(conn, run_id)
        if row is None or row["state"] != "enqueued":
            return "done already"
        settings = ctx.settings
        now = ctx.clock()
        today = await conn.fetchval(
            "SELECT ($1::timestamptz AT TIME ZONE (SELECT timezone FROM figure_settings))::date",
            now,
        )
        back = 1 if row["kind"] == "recent" else settings.report_roll_days
        try:
            await do_roll_days(
                conn, today - dt.timedelta(days=back), today + dt.timedelta(days=1), now
            )
            made = 0
            if row["kind"] == "morning":
                calendar = await ctx.calendar.get(conn)
                made = await make_due_reports(conn, settings, calendar, today, now)
            state, error, said = "done", None, f"rolled {back + 1} day(s), made {made} report(s)"
        except Exception as e:
            log.exception("report run %d (%s) failed", run_id, row["kind"])
            state, error, said = "failed", str(e)[:500], "failed"
        async with conn.transaction():
            await queries.finish_run(conn, run_id, state, ctx.clock(), error)
            await queries.insert_run(conn, row["kind"], next_due(row["kind"], settings, now), now)
        return said


def run_report_run(run_id: int) -> str:
    return run_job(lambda ctx, conn: carry_out(conn, run_id, ctx))


report_source = Source("report_run", LEASE, run_report_run)
