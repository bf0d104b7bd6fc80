"""Backups, run for real: the manual pg_dump and pg_restore commands of docs/deploy.md,
and ``hotline backup`` then ``hotline restore`` into a new database and a new folder:
the same rows and the same files come back."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from hotline import db
from hotline.migrate import load_migrations
from hotline.settings import Settings
from hotline.storage import DiskStorage
from routing import queries as routing_queries
from tests.factories import make_user, register_order
from tests.process_support import new_database
from wiring.backup import BackupError, client_tools, require_tools

TABLES = ("work_orders", "order_events", "outbox", "deadlines", "users", "schema_migrations")
# Compared row by row after `hotline restore`: the orders and all that hangs on them.
COMPARED = (*TABLES, "attachments", "citizens", "calls")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def _counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}
    finally:
        await conn.close()


async def _tools_or_skip(url: str) -> Path:
    conn = await db.connect(url)
    try:
        major = int(await conn.fetchval("SHOW server_version_num")) // 10000
    finally:
        await conn.close()
    tools = client_tools(major)
    if tools is None:
        pytest.skip(f"no pg_dump and pg_restore of PostgreSQL {major} (the server's) here")
    return tools


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
    tools = await _tools_or_skip(source)
    conn = await db.connect(source)
    try:
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


# ------------------------------------------------------- hotline backup / restore


async def _hotline(database_url: str, files: Path, *arguments: str) -> tuple[int, str]:
    """Run the ``hotline`` command against a database and a files folder; its exit status
    and everything it printed."""
    env = {**os.environ, "HOTLINE_DATABASE_URL": database_url, "HOTLINE_PROOF_DIR": str(files)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wiring.cli",
        *arguments,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def _rows(url: str) -> dict[str, list[asyncpg.Record]]:
    conn = await asyncpg.connect(url)
    try:
        return {t: await conn.fetch(f"SELECT * FROM {t} ORDER BY 1") for t in COMPARED}
    finally:
        await conn.close()


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


async def _source_with_orders_and_files(
    fresh_database: Callable[[str], Awaitable[str]], label: str, settings: Settings, files: Path
) -> str:
    """A database with orders, proof files attached to them and a photo no row names."""
    source = await new_database(fresh_database, label)
    storage = DiskStorage(files, settings.proof_max_bytes)
    conn = await db.connect(source)
    try:
        _, actor = await make_user(conn, "agent")
        for n in range(3):
            order = await register_order(conn, actor, settings, dt.datetime.now(dt.UTC))
            stored = storage.save(PNG + bytes([n]))
            await routing_queries.insert_attachment(
                conn,
                {
                    "order_id": order["id"],
                    "dispatch_id": None,
                    "filename": f"现场{n}.png",
                    "content_type": stored.content_type,
                    "size_bytes": stored.size_bytes,
                    "sha256": stored.sha256,
                    "storage_key": stored.key,
                    "uploaded_by": "test",
                    "now": dt.datetime.now(dt.UTC),
                },
            )
    finally:
        await conn.close()
    storage.save(PNG + b"photo")
    return source


async def test_hotline_backup_then_restore_into_a_new_database_and_folder(
    fresh_database: Callable[[str], Awaitable[str]], settings: Settings, tmp_path: Path
) -> None:
    files = tmp_path / "proofs"
    source = await _source_with_orders_and_files(fresh_database, "backup_cmd", settings, files)
    await _tools_or_skip(source)
    saved = tmp_path / "backup"
    status, output = await _hotline(source, files, "backup", str(saved))
    assert status == 0, output
    assert "4 files" in output
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["counts"]["work_orders"] == 3 and manifest["counts"]["attachments"] == 3
    assert manifest["migration"] == max(m.version for m in load_migrations())
    assert len(manifest["files"]) == 4

    target, restored = await fresh_database("backup_cmd_target"), tmp_path / "restored"
    status, output = await _hotline(target, restored, "restore", str(saved))
    assert status == 0, output
    assert await _rows(target) == await _rows(source)
    assert _files(restored) == _files(files) and len(_files(files)) == 4

    # Neither is overwritten unasked; --force empties both first.
    status, output = await _hotline(target, tmp_path / "new", "restore", str(saved))
    assert status == 2 and "the target database is not empty" in output, output
    (restored / "stray").write_bytes(b"x")
    status, output = await _hotline(target, restored, "restore", "--force", str(saved))
    assert status == 0, output
    assert await _rows(target) == await _rows(source)
    assert _files(restored) == _files(files)


async def test_a_damaged_or_unfinished_backup_is_refused_before_anything_is_written(
    fresh_database: Callable[[str], Awaitable[str]], settings: Settings, tmp_path: Path
) -> None:
    files = tmp_path / "proofs"
    source = await _source_with_orders_and_files(fresh_database, "backup_bad", settings, files)
    await _tools_or_skip(source)
    saved = tmp_path / "backup"
    assert (await _hotline(source, files, "backup", str(saved)))[0] == 0
    status, output = await _hotline(source, files, "backup", str(saved))
    assert status == 2 and "is not empty" in output, output

    damaged = next(p for p in (saved / "files").rglob("*") if p.is_file())
    damaged.write_bytes(PNG + b"changed")
    target, restored = await fresh_database("backup_cmd_damaged"), tmp_path / "restored"
    status, output = await _hotline(target, restored, "restore", str(saved))
    assert status == 2 and "is damaged" in output, output
    (saved / "manifest.json").unlink()
    status, output = await _hotline(target, restored, "restore", str(saved))
    assert status == 2 and "no manifest.json" in output, output
    conn = await asyncpg.connect(target)
    try:
        assert (
            await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
        )
    finally:
        await conn.close()
    assert not restored.exists()


def test_no_client_tools_of_the_servers_version_is_a_clear_error() -> None:
    with pytest.raises(BackupError, match="no pg_dump and pg_restore of PostgreSQL 99"):
        require_tools(99, None)
