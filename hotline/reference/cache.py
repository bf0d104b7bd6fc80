"""Hotlines, service items, areas and enterprises, kept in each process for a short while.

They change rarely and are read on every registration and routing decision; reading
them again for each order cost more round trips than the rest of the work. Edits are
seen within ``ttl`` seconds (an item retired a moment ago may still be taken for that
long). A code the cache does not know is looked up in the database, so nothing that was
just created is refused; rows are never deleted, only retired.
"""

from __future__ import annotations

import time

import asyncpg

from hotline.reference import queries


class ReferenceCache:
    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._loaded_at = -ttl
        self._hotlines: dict[str, asyncpg.Record] = {}
        self._items: dict[str, asyncpg.Record] = {}
        self._areas: dict[str, asyncpg.Record] = {}
        self._enterprises: dict[int, asyncpg.Record] = {}

    async def _fresh(self, conn: asyncpg.Connection) -> None:
        if time.monotonic() - self._loaded_at < self.ttl:
            return
        self._hotlines = {r["code"]: r for r in await queries.list_hotlines(conn)}
        self._items = {r["code"]: r for r in await queries.list_service_items(conn, retired=True)}
        self._areas = {r["code"]: r for r in await queries.list_areas(conn)}
        self._enterprises = {r["id"]: r for r in await queries.list_enterprises(conn)}
        self._loaded_at = time.monotonic()

    async def hotline(self, conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
        await self._fresh(conn)
        return self._hotlines.get(code) or await queries.get_hotline(conn, code)

    async def item(self, conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
        await self._fresh(conn)
        return self._items.get(code) or await queries.get_service_item(conn, code)

    async def area(self, conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
        await self._fresh(conn)
        return self._areas.get(code) or await queries.get_area(conn, code)

    async def service_items(self, conn: asyncpg.Connection) -> list[asyncpg.Record]:
        """The whole catalogue, retired items too, in the catalogue's order."""
        await self._fresh(conn)
        return list(self._items.values())

    async def enterprises(
        self, conn: asyncpg.Connection, ids: list[int]
    ) -> dict[int, asyncpg.Record]:
        await self._fresh(conn)
        return {i: self._enterprises[i] for i in ids if i in self._enterprises}


reference = ReferenceCache()
