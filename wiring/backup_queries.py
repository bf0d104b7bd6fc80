"""The SQL of ``hotline backup`` and ``hotline restore``: what the database holds."""

from __future__ import annotations

import asyncpg

# Tables, sequences, views and types of the application (the schema ``public``); the
# system's own schemas are in every database.
_OWN_RELATIONS = """
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
"""


async def export_snapshot(conn: asyncpg.Connection) -> str:
    """The transaction's snapshot, for pg_dump to dump exactly what this one sees."""
    return str(await conn.fetchval("SELECT pg_export_snapshot()"))


async def table_counts(conn: asyncpg.Connection) -> dict[str, int]:
    """The rows of every table of the application, by name."""
    names = await conn.fetch(
        f"SELECT c.relname {_OWN_RELATIONS} AND c.relkind IN ('r', 'p') ORDER BY c.relname"
    )
    counts = {}
    for row in names:
        table = row["relname"]
        # Names from the catalogue, quoted as identifiers: nothing else reaches the SQL.
        quoted = '"' + table.replace('"', '""') + '"'
        counts[table] = int(await conn.fetchval(f"SELECT count(*) FROM {quoted}"))
    return counts


async def relation_count(conn: asyncpg.Connection) -> int:
    """How many tables, views and sequences the application schema holds (0: empty)."""
    return int(await conn.fetchval(f"SELECT count(*) {_OWN_RELATIONS}"))


async def server_version(conn: asyncpg.Connection) -> tuple[int, str]:
    """The server's major version and its full version text ("15.20")."""
    number = int(await conn.fetchval("SHOW server_version_num"))
    return number // 10000, str(await conn.fetchval("SHOW server_version")).split()[0]


async def empty_schema(conn: asyncpg.Connection) -> None:
    """Drop everything of the application (tables, sequences, functions, extensions in
    ``public``) and make the schema again, empty."""
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
