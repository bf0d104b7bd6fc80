"""A database and queue of a benchmark's own, on the configured servers or embedded ones."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from tempfile import mkdtemp

import asyncpg

from hotline.settings import Settings
from wiring.services import running_services, with_database


def run_on_scratch_database(work: Callable[[Settings], Awaitable[None]]) -> None:
    """Run ``work`` with settings that point at a new database and RQ queue; the
    database is dropped afterwards, whatever happens."""
    run_on_scratch_databases(1, lambda every: work(every[0]))


def run_on_scratch_databases(count: int, work: Callable[[list[Settings]], Awaitable[None]]) -> None:
    """``run_on_scratch_database`` with ``count`` databases (and queues) at once."""
    base = Settings(var_dir=Path(mkdtemp(prefix="hotline-bench-")))
    with running_services(base) as urls:
        names = [f"hotline_bench_{uuid.uuid4().hex[:8]}" for _ in range(count)]
        every = [
            base.model_copy(
                update={
                    "database_url": with_database(urls.database_url, name),
                    "redis_url": urls.redis_url,
                    "queue_name": name,
                }
            )
            for name in names
        ]

        async def main() -> None:
            admin = await asyncpg.connect(urls.database_url)
            try:
                for name in names:
                    await admin.execute(f'CREATE DATABASE "{name}"')
                await work(every)
            finally:
                for name in names:
                    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.close()

        asyncio.run(main())
