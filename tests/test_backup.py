"""The backup and restore commands of docs/deploy.md, run for real: pg_dump of a
database with orders in it, pg_restore into a new database, the same rows come back."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from hotline import db
from hotline.settings import Settings
from tests.factories import make_user, register_order
from tests.process_support import new_database

TABLES = ("work_orders", "order_events", "outbox", "deadlines", "users", "schema_migrations")


async def _counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}
    finally:
        await conn.close()


async def _run(*command: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()


@pytest.mark.skipif(not shutil.which("pg_dump"), reason="PostgreSQL client tools not installed")
async def test_a_dump_restores_into_a_new_database_with_the_same_rows(
    fresh_database: Callable[[str], Awaitable[str]], settings: Settings, tmp_path: Path
) -> None:
    source = await new_database(fresh_database, "backup_source")
    conn = await db.connect(source)
    try:
        _, actor = await make_user(conn, "agent")
        for _ in range(3):
            await register_order(conn, actor, settings, dt.datetime.now(dt.UTC))
    finally:
        await conn.close()
    dump = tmp_path / "hotline.dump"
    await _run("pg_dump", "--format=custom", "--no-owner", f"--file={dump}", source)
    target = await fresh_database("backup_restored")
    await _run("pg_restore", "--no-owner", "--exit-on-error", f"--dbname={target}", str(dump))
    before, after = await _counts(source), await _counts(target)
    assert after == before and before["work_orders"] == 3
    # The restored database numbers new orders after the restored ones.
    conn = await db.connect(target)
    try:
        _, actor = await make_user(conn, "agent")
        order = await register_order(conn, actor, settings, dt.datetime.now(dt.UTC))
        assert order["id"] > 3
    finally:
        await conn.close()
