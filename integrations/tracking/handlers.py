"""The progress lookup's outbox handler: a code asked for on the page is made and queued
by SMS in a worker, after the request has answered (``service.do_request_code``)."""

from __future__ import annotations

from typing import Any

import asyncpg

from hotline.context import JobContext
from hotline.outbox.handlers import topics
from integrations.tracking import service


async def on_code_requested(
    conn: asyncpg.Connection, payload: dict[str, Any], ctx: JobContext
) -> None:
    """Outbox handler for ``track.code_requested`` (payload: number): a code for the
    order, by SMS to its phone; nothing for a number without an order or a phone. Run
    again after a crash, it rolled back with the row: one code, one SMS."""
    await service.do_send_code(conn, str(payload["number"]), ctx.clock())


def subscribe() -> None:
    """Hang the handler on its outbox topic (idempotent: the registry ignores a repeat)."""
    topics.subscribe(service.CODE_REQUESTED, on_code_requested)
