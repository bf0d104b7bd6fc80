"""The RQ job that carries out one outbox row."""

from __future__ import annotations

import datetime as dt
import logging

import asyncpg

from hotline.jobs import run_with_connection
from hotline.outbox import queries
from hotline.outbox.handlers import topics

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def retry_delay(attempts: int) -> dt.timedelta | None:
    """Exponential backoff: 2 s, 4 s ... ; None once the attempts are used up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return dt.timedelta(seconds=2**attempts)


async def process_outbox_row(conn: asyncpg.Connection, row_id: int) -> str:
    """Run the row's handlers once; a row already done is left alone."""
    try:
        async with conn.transaction():
            row = await queries.lock(conn, row_id)
            if row is None or row["state"] in ("done", "failed"):
                return "skipped"
            for handler in topics.handlers_for(row["topic"]):
                await handler(conn, row["payload"])
            await queries.mark_done(conn, row_id)
            return "done"
    except Exception as exc:
        log.exception("outbox row %s failed", row_id)
        async with conn.transaction():
            row = await queries.lock(conn, row_id)
            if row is not None:
                await queries.mark_failed_attempt(
                    conn, row_id, error=repr(exc), retry_in=retry_delay(row["attempts"])
                )
        raise


def run_outbox_row(row_id: int) -> str:
    return run_with_connection(lambda conn: process_outbox_row(conn, row_id))
