"""What every RQ job needs: its own event loop and its own database connection.

Jobs take ids, reopen the database and re-read state, so a job that runs twice (a
relay re-enqueued it after a lost lease) finds its row done and does nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from hotline import db
from hotline.settings import Settings

T = TypeVar("T")


def run_with_connection(work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run ``work`` on a fresh connection to the configured database."""

    async def main() -> T:
        url = Settings().database_url
        if not url:
            raise RuntimeError("HOTLINE_DATABASE_URL is not set for this worker")
        conn = await db.connect(url)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(main())
