"""Training runs: when they start and how they reach a worker.

Runs are rows of ``suggest_trainings``, drained by the relay into RQ like the outbox
(``training_source``): a supervisor's request is due at once, the nightly run at
``suggest_training_hour`` local time; every run's end queues the next night's, and the
relay queues one when it starts (and a run at once if no version is promoted yet). The
run itself is ``training.py``, imported only by the job that runs one: scikit-learn takes
seconds to import on a busy machine, and every worker, relay and command-line process
imports the relay's sources.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import asyncpg

from hotline import leased
from hotline.errors import NotFound
from hotline.jobs import run_job
from hotline.relay import Source
from hotline.settings import Settings
from hotline.suggest import queries

LEASE = leased.Lease("suggest_trainings", claimed_state="enqueued")


def next_nightly(now: dt.datetime, timezone: str, hour: int) -> dt.datetime:
    """The next ``hour`` o'clock, local time, after ``now``."""
    local = now.astimezone(ZoneInfo(timezone))
    at = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if at <= local:
        at = (at + dt.timedelta(days=1)).replace(hour=hour)
    return at.astimezone(dt.UTC)


async def do_ensure_nightly(conn: asyncpg.Connection, settings: Settings, now: dt.datetime) -> None:
    """Queue the nightly run if none is waiting (the relay's start and every run's end
    call it)."""
    await queries.insert_training(
        conn,
        "nightly",
        None,
        next_nightly(now, settings.timezone, settings.suggest_training_hour),
    )


async def do_schedule_runs(conn: asyncpg.Connection, settings: Settings, now: dt.datetime) -> None:
    """What the relay queues when it starts: the nightly run, and a run at once when no
    version is promoted yet (a new installation, or one upgraded to the classifier),
    so the console does not wait for the night to have one."""
    await do_ensure_nightly(conn, settings, now)
    if settings.suggest_first_run and await queries.promoted_id(conn) is None:
        await do_request_training(conn, None, now)


async def do_request_training(
    conn: asyncpg.Connection, user_id: int | None, now: dt.datetime
) -> asyncpg.Record:
    """A supervisor's request: due now; a second request while one waits joins it."""
    return await queries.insert_training(conn, "requested", user_id, now)


async def training(conn: asyncpg.Connection, training_id: int) -> asyncpg.Record:
    row = await queries.get_training(conn, training_id)
    if row is None:
        raise NotFound("training {training_id} not found", training_id=training_id)
    return row


def run_training_job(training_id: int) -> str:
    from hotline.suggest.training import run_training

    return run_job(lambda ctx, conn: run_training(conn, training_id, ctx))


training_source = Source("suggest_training", LEASE, run_training_job, slow=True)
