"""The RQ job that carries out one outbox row."""

from __future__ import annotations

import datetime as dt
import logging

import asyncpg

from hotline.context import JobContext
from hotline.jobs import run_job
from hotline.leased import RetryPolicy
from hotline.outbox import queries
from hotline.outbox.handlers import topics

log = logging.getLogger(__name__)

# 2 s, 4 s ... ; failed once the attempts are used up.
RETRY = RetryPolicy(max_attempts=8, first_wait=dt.timedelta(seconds=2))


async def process_outbox_row(conn: asyncpg.Connection, row_id: int, ctx: JobContext) -> str:
    """Run the row's handlers once; a row already done is left alone."""
    try:
        async with conn.transaction():
            row = await queries.lock(conn, row_id)
            if row is None or row["state"] in ("done", "failed"):
                return "skipped"
            for handler in topics.handlers_for(row["topic"]):
                await handler(conn, row["payload"], ctx)
            await queries.mark_done(conn, row_id)
            return "done"
    except Exception as exc:
        log.exception("outbox row %s failed", row_id)
        async with conn.transaction():
            row = await queries.lock(conn, row_id)
            if row is not None:
                await queries.mark_failed_attempt(
                    conn, row_id, error=repr(exc), retry_in=RETRY.retry_in(row["attempts"])
                )
        raise


def run_outbox_row(row_id: int) -> str:
    return run_job(lambda ctx, conn: process_outbox_row(conn, row_id, ctx))
