"""What every RQ job needs: its process's job context, an event loop and a database
connection.

Jobs take ids, re-read state and are idempotent, so a job that runs twice (a relay
re-enqueued it after a lost lease) finds its row done and does nothing.

A worker process keeps one context (``hotline.context``), one event loop and a small
connection pool for all the jobs it runs: opening a loop and a connection per job costs
more than most jobs themselves. The composition root says how the context is built
(``install``); it is built on the first job, from the process's own settings, and again
in a forked child (a pool must never cross a fork) and after a job that left the loop
unusable (a timeout that interrupted it).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from hotline import db
from hotline.context import JobContext

T = TypeVar("T")

POOL_SIZE = 2


class _Runtime:
    def __init__(self, context: JobContext) -> None:
        self.pid = os.getpid()
        url = context.settings.database_url
        if not url:
            raise RuntimeError("HOTLINE_DATABASE_URL is not set for this worker")
        self.context = context
        self.url = url
        self.loop = asyncio.new_event_loop()
        self.pool: asyncpg.Pool | None = None
        self.broken = False

    def run(self, work: Callable[[JobContext, asyncpg.Connection], Awaitable[T]]) -> T:
        task = self.loop.create_task(self._run(work))
        try:
            return self.loop.run_until_complete(task)
        finally:
            # A job that raised has finished its task; one interrupted from outside (a
            # timeout signal) has not, and may hold a connection for ever.
            self.broken = not task.done()

    async def _run(self, work: Callable[[JobContext, asyncpg.Connection], Awaitable[T]]) -> T:
        if self.pool is None:
            self.pool = await db.create_pool(self.url, min_size=1, max_size=POOL_SIZE)
        async with self.pool.acquire() as conn:
            return await work(self.context, conn)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
        self.loop.close()


_build: Callable[[], JobContext] | None = None
_runtime: _Runtime | None = None


def install(build: Callable[[], JobContext]) -> None:
    """Say how this process builds its job context (the composition root does, before
    any job runs); the next job builds it afresh."""
    global _build, _runtime
    _build = build
    if _runtime is not None:
        _runtime.close()
        _runtime = None


def run_job(work: Callable[[JobContext, asyncpg.Connection], Awaitable[T]]) -> T:
    """Run ``work`` with the process's job context, on a pooled connection to the
    context's database."""
    global _runtime
    if _build is None:
        raise RuntimeError("no job context installed in this process (wiring installs it)")
    if _runtime is not None and _runtime.broken:
        _runtime.close()
        _runtime = None
    if _runtime is None or _runtime.pid != os.getpid():
        _runtime = _Runtime(_build())
    return _runtime.run(work)
