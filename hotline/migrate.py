"""Apply the numbered ``migrations/NNNN_name.sql`` files, each once, in order.

A session-level advisory lock lets several processes start at once: the first applies
what is missing, the others wait and then find nothing to do. Each file runs in its
own transaction with its checksum recorded; a file changed after it was applied is an
error, because the database no longer matches the code that describes it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

# Each lock a migration takes is waited for this long at most, then it starts again.
LOCK_TIMEOUT = "500ms"
LOCK_ATTEMPTS = 200

# How often a process waiting for another's migrations asks for the lock again.
LOCK_POLL_SECONDS = 0.1

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same in every process of this system.
ADVISORY_LOCK_KEY = 0x686F746C696E65  # "hotline"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

# A file's statements after this line run each alone, outside a transaction, before the
# rest of the file: an index on a big table is built with CREATE INDEX CONCURRENTLY,
# which writers do not wait for and which cannot run in a transaction. The file is
# recorded only once all of it is done, so each such statement must be safe to run
# again: only ``CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS name`` is taken.
ALONE_MARKER = "-- migrate: each statement below runs alone, outside a transaction"
_CONCURRENT_INDEX = re.compile(
    r"^CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+IF\s+NOT\s+EXISTS\s+(\w+)\s", re.I
)


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @cached_property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @cached_property
    def in_transaction(self) -> str:
        """What runs in the file's transaction: all of it before ``ALONE_MARKER``."""
        return self.sql.split(ALONE_MARKER, 1)[0]

    @cached_property
    def alone(self) -> list[tuple[str, str]]:
        """(index name, statement) of each statement after ``ALONE_MARKER``."""
        if ALONE_MARKER not in self.sql:
            return []
        statements = []
        for chunk in self.sql.split(ALONE_MARKER, 1)[1].split(";"):
            statement = "\n".join(
                line for line in chunk.splitlines() if not line.lstrip().startswith("--")
            ).strip()
            if not statement:
                continue
            match = _CONCURRENT_INDEX.match(statement + " ")
            if not match:
                raise MigrationError(
                    f"migration {self.version:04d}_{self.name}: outside a transaction only "
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS may run"
                )
            statements.append((match[1], statement))
        return statements


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file {path.name} is not named NNNN_name.sql")
        migrations.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a number")
    return migrations


async def applied_versions(conn: asyncpg.Connection) -> dict[int, str]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
    return {r["version"]: r["checksum"] for r in rows}


@dataclass(frozen=True)
class MigrationStatus:
    """How the database's applied migrations compare with the code's.

    ``pending``: in the code, not applied (this code must not serve yet). ``changed``:
    applied from a different file (the database is not what the code describes).
    ``ahead``: applied, unknown to this code: a newer release migrated first, which the
    additive-first rule (docs/deploy.md) makes safe for this code to keep serving."""

    pending: list[str]
    changed: list[str]
    ahead: list[str]

    @property
    def current(self) -> bool:
        return not self.pending and not self.changed


async def migration_status(
    conn: asyncpg.Connection, migrations: list[Migration]
) -> MigrationStatus:
    """How the database compares with ``migrations`` (the code's, ``load_migrations``)."""
    applied = await applied_versions(conn)
    code = {m.version: m for m in migrations}
    return MigrationStatus(
        pending=[f"{m.version:04d}_{m.name}" for v, m in code.items() if v not in applied],
        changed=[
            f"{m.version:04d}_{m.name}"
            for v, m in code.items()
            if v in applied and applied[v] != m.checksum
        ],
        ahead=[f"{v:04d}" for v in sorted(applied) if v not in code],
    )


async def migrate(url: str, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply every pending migration found in ``directory``; returns what was applied."""
    conn = await asyncpg.connect(url)
    try:
        await _take_lock(conn)
        try:
            return await _apply_pending(conn, directory)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
    finally:
        await conn.close()


async def _take_lock(conn: asyncpg.Connection) -> None:
    """The migrations' lock, waited for by asking again rather than in one blocking
    statement: a statement waiting is a transaction, and the migrating process's
    concurrent index builds wait for every transaction older than them, so the two
    would wait for each other."""
    while True:
        if await conn.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY):
            return
        await asyncio.sleep(LOCK_POLL_SECONDS)


async def _apply_pending(conn: asyncpg.Connection, directory: Path) -> list[Migration]:
    await conn.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    integer PRIMARY KEY,
            name       text NOT NULL,
            checksum   text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    applied = await applied_versions(conn)
    done = []
    for migration in load_migrations(directory):
        recorded = applied.get(migration.version)
        if recorded is not None:
            if recorded != migration.checksum:
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} was changed after it "
                    "was applied; add a new migration instead"
                )
            continue
        log.info("applying migration %04d_%s", migration.version, migration.name)
        await _build_indexes(conn, migration)
        await _apply(conn, migration)
        done.append(migration)
    return done


async def _build_indexes(conn: asyncpg.Connection, migration: Migration) -> None:
    """The file's statements that run alone, each in its own implicit transaction. A
    concurrent build that failed (the process died, a duplicate in a unique index)
    leaves its index behind marked invalid, which IF NOT EXISTS would keep: it is
    dropped and built again."""
    for index, statement in migration.alone:
        invalid = await conn.fetchval(
            """
            SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE c.relname = $1 AND NOT i.indisvalid AND pg_table_is_visible(c.oid)
            """,
            index,
        )
        if invalid is not None:
            log.info("index %s was left invalid by an earlier build; again", invalid)
            await conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {invalid}")
        await conn.execute(statement)


def _has_statement(sql: str) -> bool:
    """Whether ``sql`` holds more than comments: a file of concurrent index builds alone
    has nothing to run in its transaction (and the server refuses an empty query
    through asyncpg)."""
    return any(line.strip() and not line.lstrip().startswith("--") for line in sql.splitlines())


async def _apply(conn: asyncpg.Connection, migration: Migration) -> None:
    """One file in one transaction. Under a serving app its table locks queue behind
    requests, and requests behind it: waiting at most ``LOCK_TIMEOUT`` for each lock,
    below the server's deadlock check (1 s by default), makes the migration the one that
    gives up when the two wait for each other; it starts again a moment later, and no
    request fails."""
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        try:
            async with conn.transaction():
                await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                if _has_statement(migration.in_transaction):
                    await conn.execute(migration.in_transaction)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            return
        except asyncpg.LockNotAvailableError:
            if attempt == LOCK_ATTEMPTS:
                raise
            log.info("migration %04d waits for a table lock; again", migration.version)
            await asyncio.sleep(min(0.05 * attempt, 1.0))
