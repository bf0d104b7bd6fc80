"""Hotlines, service items, areas, enterprises and the GB/T 39666 classification codes,
kept in each process.

They change rarely and are read on every registration and routing decision; reading
them again for each order cost more round trips than the rest of the work. A change is
seen as soon as its announcement reaches the process, and at the latest after
``check_every`` seconds, when the cache compares its version with the database's
(hotline/reference/versions.py). A code the cache does not know is looked up in the
database, so nothing that was just created is refused; rows are never deleted, only
retired. What is kept is kept per database: a process that works on several (a test
run, a command) never mixes them.

The classification codes are loaded on their first use after each reload, not with the
rest: most processes never ask for them, and registration stays one read per table.
"""

from __future__ import annotations

import re
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
    # Each code with its classes' names; None until first asked for.
    classifications: dict[str, asyncpg.Record] | None = None


_CODE = re.compile(r"[0-9]{6}")


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

    async def _classifications(self, conn: asyncpg.Connection) -> dict[str, asyncpg.Record]:
        tables = await self._fresh(conn)
        if tables.classifications is None:
            rows = await queries.list_classifications(conn)
            tables.classifications = {r["code"]: r for r in rows}
        return tables.classifications

    async def classification_of_item(
        self, conn: asyncpg.Connection, item_code: str
    ) -> asyncpg.Record | None:
        """The GB/T 39666 class service item ``item_code`` is exchanged under: its code,
        level and names with those of its major, middle and minor class (``major_code``,
        ``major_name_zh`` … ``minor_name_en``; a middle class has no minor); None for an
        unknown or unmapped item."""
        item = await self.item(conn, item_code)
        code = item["classification_code"] if item is not None else None
        if code is None:
            return None
        found = (await self._classifications(conn)).get(code)
        return found or await queries.classification_path(conn, code)

    async def items_for_classification(self, conn: asyncpg.Connection, code: str) -> list[str]:
        """The active service items an order of class ``code`` (from the 12345 platform)
        can be registered as, in the catalogue's order: those mapped to the code itself;
        else those mapped under its middle class; else under its major class. The code
        need not be in the table (the platform may use codes not loaded here)."""
        if not _CODE.fullmatch(code):
            return []
        items = [
            (r["code"], r["classification_code"])
            for r in (await self._fresh(conn)).items.values()
            if r["active"] and r["classification_code"] is not None
        ]
        for prefix in (code, code[:4], code[:2]):
            found = [item for item, mapped in items if mapped.startswith(prefix)]
            if found:
                return found
        return []


reference = ReferenceCache()
# The lookups other packages call (the 12345 exchange), on the process's cache.
classification_of_item = reference.classification_of_item
items_for_classification = reference.items_for_classification
