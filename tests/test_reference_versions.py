"""Reference data changed while the system runs (docs/core.md, "Reference data while
running"): every write to the reference tables moves their version on; a process's
caches see the change as soon as its announcement arrives through Redis, and without
one at their next check."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import asyncpg
import pytest
import redis.asyncio as aioredis

from hotline import audit
from hotline.reference import versions
from hotline.reference.cache import ReferenceCache
from hotline.reference.calendar import CalendarCache
from hotline.settings import Settings
from tests.waiting import until


@pytest.fixture
def listening(settings: Settings) -> Iterator[int]:
    """A listener started; yields how many announcements were heard before it (once
    subscribed, the listener counts one for what changed while nobody listened)."""
    stop = threading.Event()
    assert settings.redis_url
    before = versions.signal.heard
    versions.listen(settings.redis_url, stop)
    yield before
    stop.set()


async def rename_item(conn: asyncpg.Connection, code: str, name: str) -> None:
    await conn.execute("UPDATE service_items SET name_en = $2 WHERE code = $1", code, name)


async def test_each_write_to_a_reference_table_moves_its_version(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        before = await versions.look(conn, "reference")
        calendar = await versions.look(conn, "calendar")
        await rename_item(conn, "G-CONSULT", "General enquiry")
        after = await versions.look(conn, "reference")
        assert after.version > before.version
        assert (await versions.look(conn, "calendar")).version == calendar.version


async def test_an_announced_change_is_seen_at_once(
    pool: asyncpg.Pool, settings: Settings, listening: int
) -> None:
    # A check interval longer than the test: only the announcement can make it look.
    cache = ReferenceCache(check_every=3600)
    client = aioredis.Redis.from_url(settings.redis_url or "")

    async def ready() -> bool:
        # Subscribed, and its first count made: a count after the cache's first read
        # (a loaded machine delays the listener's thread) would make it read again.
        return versions.signal.heard > listening and await subscribed(client)

    try:
        async with pool.acquire() as conn:
            await rename_item(conn, "G-CONSULT", "Enquiry, before")
            await until(ready, "the listener subscribed")
            item = await cache.item(conn, "G-CONSULT")
            assert item is not None and item["name_en"] == "Enquiry, before"

            await rename_item(conn, "G-CONSULT", "Enquiry, after")
            # Not announced yet: the cache keeps what it holds.
            item = await cache.item(conn, "G-CONSULT")
            assert item is not None and item["name_en"] == "Enquiry, before"

            heard = versions.signal.heard
            await versions.announce(client, "reference")

            async def arrived() -> bool:
                return versions.signal.heard > heard

            await until(arrived, "the announcement")
            item = await cache.item(conn, "G-CONSULT")
            assert item is not None and item["name_en"] == "Enquiry, after"
    finally:
        await client.aclose()


async def subscribed(client: aioredis.Redis) -> bool:
    counts = await client.pubsub_numsub(versions.CHANNEL)
    return bool(counts and counts[0][1] > 0)


async def test_an_unannounced_change_is_seen_at_the_next_check(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    reference = ReferenceCache(check_every=0)
    calendar = CalendarCache(settings, check_every=0)
    async with pool.acquire() as conn:
        await rename_item(conn, "G-CONSULT", "Enquiry, one")
        item = await reference.item(conn, "G-CONSULT")
        assert item is not None and item["name_en"] == "Enquiry, one"
        await rename_item(conn, "G-CONSULT", "Enquiry, two")
        item = await reference.item(conn, "G-CONSULT")
        assert item is not None and item["name_en"] == "Enquiry, two"

        # A day long after the calendar's last: no other test's time limits reach it.
        day = await conn.fetchval("SELECT max(day) + 400 FROM calendar_days")
        assert day not in (await calendar.get(conn)).overrides
        await conn.execute(
            "INSERT INTO calendar_days (day, workday, name, source) VALUES ($1, false, 't', 't')",
            day,
        )
        try:
            assert (await calendar.get(conn)).overrides.get(day) is False
        finally:
            await conn.execute("DELETE FROM calendar_days WHERE day = $1", day)


async def test_an_administrators_change_is_recorded_with_its_states(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        user_id = await conn.fetchval("SELECT id FROM users ORDER BY id LIMIT 1")
        key = f"item-{user_id}-{id(conn)}"
        await audit.record_change(
            conn,
            user_id=user_id,
            entity="service_item",
            key=key,
            action="update",
            before={"name_zh": "旧"},
            after={"name_zh": "新", "limit": 5},
        )
        [change] = await audit.list_changes(conn, entity="service_item", key=key)
    assert (change["user_id"], change["action"]) == (user_id, "update")
    assert change["before"] == {"name_zh": "旧"}
    assert change["after"] == {"name_zh": "新", "limit": 5}
