"""Hotlines, service items, areas and enterprises, kept in each process.

They change rarely and are read on every registration and routing decision; reading
them again for each order cost more round trips than the rest of the work. A change is
seen as soon as its announcement reaches the process, and at the latest after
``check_every`` seconds, when the cache compares its version with the database's
(hotline/reference/versions.py). A code the cache does not know is looked up in the
database, so nothing that was just created is refused; rows are never deleted, only
retired. What is kept is kept per database: a process that works on several (a test
run, a command) never mixes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from hotline.db import database_of
from hotline.reference import queries, versions


@dataclass
class _Tables:
    seen: versions.Seen
    hotlines: dict[str, asyncpg.Record] = field(default_factory=dict)
    items: dict[str, asyncpg.Record] = field(default_factory=dict)
    areas: dict[str, asyncpg.Record] = field(default_factory=dict)
    enterprises: dict[int, asyncpg.Record] = field(default_factory=dict)


class ReferenceCache:
    def __init__(self, check_every: float = versions.CHECK_EVERY) -> None:
        self.check_every = check_every
        self._databases: dict[str, _Tables] = {}

    async def _fresh(self, conn: asyncpg.Connection) -> _Tables:
        database = await database_of(conn)
        tables = self._databases.get(database)
        if tables is not None and not tables.seen.due(self.check_every):
            return tables
        seen = await versions.look(conn, "reference")
        if tables is not None and tables.seen.version == seen.version:
            tables.seen = seen
            return tables
        tables = self._databases[database] = _Tables(
            seen=seen,
            hotlines={r["code"]: r for r in await queries.list_hotlines(conn)},
            items={r["code"]: r for r in await queries.list_service_items(conn, retired=True)},
            areas={r["code"]: r for r in await queries.list_areas(conn)},
            enterprises={r["id"]: r for r in await queries.list_enterprises(conn)},
        )
        return tables

    async def hotline(self, conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
        tables = await self._fresh(conn)
        return tables.hotlines.get(code) or await queries.get_hotline(conn, code)

    async def hotlines(self, conn: asyncpg.Connection) -> list[asyncpg.Record]:
        """Every hotline, by code."""
        return list((await self._fresh(conn)).hotlines.values())

    async def item(self, conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
        tables = await self._fresh(conn)
        return tables.items.get(code) or await queries.get_service_item(conn, code)

    async def area(self, conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
        tables = await self._fresh(conn)
        return tables.areas.get(code) or await queries.get_area(conn, code)

    async def areas(self, conn: asyncpg.Connection) -> list[asyncpg.Record]:
        """Every district and street, districts first."""
        return list((await self._fresh(conn)).areas.values())

    async def service_items(self, conn: asyncpg.Connection) -> list[asyncpg.Record]:
        """The whole catalogue, retired items too, in the catalogue's order."""
        return list((await self._fresh(conn)).items.values())

    async def enterprises(
        self, conn: asyncpg.Connection, ids: list[int]
    ) -> dict[int, asyncpg.Record]:
        enterprises = (await self._fresh(conn)).enterprises
        return {i: enterprises[i] for i in ids if i in enterprises}


reference = ReferenceCache()
