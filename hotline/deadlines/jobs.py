"""The RQ job that fires one deadline: once, recorded in the order's history."""

from __future__ import annotations

import datetime as dt

import asyncpg

from hotline.deadlines import queries
from hotline.deadlines.handlers import kinds
from hotline.jobs import run_job
from hotline.orders.service import record_event

DEADLINE_REACHED = "deadline.reached"


async def fire_deadline(conn: asyncpg.Connection, deadline_id: int, now: dt.datetime) -> str:
    """Mark the deadline fired, write its event and run the handlers for its kind, in one
    transaction. A deadline already fired or cancelled is left alone."""
    async with conn.transaction():
        row = await queries.lock(conn, deadline_id)
        if row is None or row["state"] in ("fired", "cancelled"):
            return "skipped"
        await queries.mark_fired(conn, deadline_id, now)
        await record_event(
            conn,
            row["order_id"],
            DEADLINE_REACHED,
            None,
            now,
            data={
                "deadline_id": deadline_id,
                "kind": row["kind"],
                "due_at": row["due_at"].isoformat(),
                "late_seconds": round((now - row["due_at"]).total_seconds(), 3),
            },
        )
        for handler in kinds.handlers_for(row["kind"]):
            await handler(conn, row, now)
    return "fired"


def run_deadline(deadline_id: int) -> str:
    return run_job(lambda ctx, conn: fire_deadline(conn, deadline_id, ctx.clock()))
