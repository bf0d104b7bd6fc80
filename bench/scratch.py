"""A database and queue of a benchmark's own, on the configured servers or embedded ones.

Loading ten million orders takes an hour or more on a small machine, so the benches that
load them (reports, search, exports) can keep what they loaded: with ``--keep`` the
databases are named for their size (``hotline_bench_10000000``), survive the run, and the
next run with ``--keep`` (of this bench or another) finds them and skips the stages
already done (``stage_done``). Kept databases need configured servers
(HOTLINE_DATABASE_URL): the embedded ones live in a temporary directory.
"""

from __future__ import annotations

import asyncio
import os
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


def run_on_scratch_databases(
    count: int,
    work: Callable[[list[Settings]], Awaitable[None]],
    *,
    kept: list[str] | None = None,
) -> None:
    """``run_on_scratch_database`` with ``count`` databases (and queues) at once; with
    ``kept``, the databases of those names, made when missing and never dropped."""
    if kept is not None and not os.environ.get("HOTLINE_DATABASE_URL"):
        raise SystemExit(
            "--keep needs HOTLINE_DATABASE_URL: embedded servers do not outlive the run"
        )
    base = Settings(var_dir=Path(mkdtemp(prefix="hotline-bench-")))
    with running_services(base) as urls:
        names = kept or [f"hotline_bench_{uuid.uuid4().hex[:8]}" for _ in range(count)]
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
                    exists = await admin.fetchval(
                        "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name
                    )
                    if not exists:
                        await admin.execute(f'CREATE DATABASE "{name}"')
                await work(every)
            finally:
                for name in [] if kept else names:
                    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.close()

        asyncio.run(main())


def kept_names(sizes: list[int]) -> list[str]:
    """The kept databases of these sizes of history, shared by the benches."""
    return [f"hotline_bench_{size}" for size in sizes]


async def stage_done(conn: asyncpg.Connection, stage: str) -> bool:
    """Whether a kept database has had ``stage`` done (always False in a new one)."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS bench_stages (stage text PRIMARY KEY, "
        "done_at timestamptz NOT NULL DEFAULT now())"
    )
    return bool(
        await conn.fetchval("SELECT EXISTS (SELECT FROM bench_stages WHERE stage = $1)", stage)
    )


async def mark_stage(conn: asyncpg.Connection, stage: str) -> None:
    await conn.execute("INSERT INTO bench_stages (stage) VALUES ($1) ON CONFLICT DO NOTHING", stage)
