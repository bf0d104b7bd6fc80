"""Migrations from an empty database, and the guarantees the schema itself gives."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from hotline.migrate import MIGRATIONS_DIR, MigrationError, load_migrations, migrate
from hotline.orders import queries
from hotline.orders.service import record_event
from tests.factories import order_in_status
from tests.process_support import seed_old_schema, with_todays_order_columns
from tests.waiting import until, waiting_on_a_lock


async def test_migrations_apply_to_an_empty_database_once(fresh_database: Any) -> None:
    url = await fresh_database("migrations")
    applied = await migrate(url)
    assert [m.version for m in applied] == [m.version for m in load_migrations()]
    assert await migrate(url) == []
    conn = await asyncpg.connect(url)
    try:
        tables = {
            r["tablename"]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    finally:
        await conn.close()
    assert {
        "hotlines",
        "enterprises",
        "service_windows",
        "areas",
        "service_items",
        "routing_rules",
        "citizens",
        "work_orders",
        "order_events",
        "deadlines",
        "outbox",
        "calendar_days",
        "users",
        "sessions",
        "api_keys",
        "outage_notices",
        "dispatches",
        "schema_migrations",
    } <= tables


async def test_processes_starting_together_apply_each_migration_once(fresh_database: Any) -> None:
    url = await fresh_database("concurrent")
    results = await asyncio.gather(*(migrate(url) for _ in range(4)))
    assert sorted(len(r) for r in results) == [0, 0, 0, len(load_migrations())]


async def test_a_changed_migration_is_refused(fresh_database: Any, tmp_path: Path) -> None:
    url = await fresh_database("checksum")
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE t (id int);")
    await migrate(url, tmp_path)
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE t (id bigint);")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        await migrate(url, tmp_path)


async def test_a_failing_migration_leaves_nothing_half_done(
    fresh_database: Any, tmp_path: Path
) -> None:
    url = await fresh_database("atomic")
    (tmp_path / "0001_broken.sql").write_text("CREATE TABLE half (id int); SELECT 1/0;")
    with pytest.raises(asyncpg.DivisionByZeroError):
        await migrate(url, tmp_path)
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT to_regclass('half')") is None
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == 0
    finally:
        await conn.close()


async def test_a_migration_gives_way_to_a_transaction_it_would_deadlock_with(
    fresh_database: Any, tmp_path: Path
) -> None:
    url = await fresh_database("give_way")
    (tmp_path / "0001_tables.sql").write_text("CREATE TABLE a (x int); CREATE TABLE b (x int);")
    await migrate(url, tmp_path)
    (tmp_path / "0002_columns.sql").write_text(
        "ALTER TABLE a ADD COLUMN y int; ALTER TABLE b ADD COLUMN y int;"
    )
    app = await asyncpg.connect(url)
    try:
        # A request holds b, then (once the migration holds a) asks for a: each waits
        # for the other. The migration must be the one to give up and start again.
        request = app.transaction()
        await request.start()
        await app.execute("INSERT INTO b VALUES (1)")
        migrating = asyncio.create_task(migrate(url, tmp_path))
        # The migration holds a and waits for b.
        await until(lambda: waiting_on_a_lock(app, "b"), "the migration waits for b")
        await app.execute("INSERT INTO a VALUES (1)")  # no deadlock error here
        await request.commit()
        applied = await migrating
    finally:
        await app.close()
    assert [m.name for m in applied] == ["columns"]


async def test_order_events_cannot_be_changed_or_removed(
    pool: asyncpg.Pool, now: dt.datetime
) -> None:
    async with pool.acquire() as conn:
        order = await order_in_status(conn, "registered", now)
        event = await record_event(conn, order["id"], "order.note", None, now)
        for statement in (
            "UPDATE order_events SET type = 'forged' WHERE seq = $1",
            "DELETE FROM order_events WHERE seq = $1",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(statement, event["seq"])
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("TRUNCATE order_events CASCADE")
        assert [e["type"] for e in await queries.list_events(conn, order["id"])] == ["order.note"]


async def test_event_sequence_is_global_and_increasing(
    pool: asyncpg.Pool, now: dt.datetime
) -> None:
    async with pool.acquire() as conn:
        a = await order_in_status(conn, "registered", now)
        b = await order_in_status(conn, "registered", now)
        seqs = [
            (await record_event(conn, order["id"], "order.note", None, now))["seq"]
            for order in (a, b, a)
        ]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3


async def test_assisting_dispatches_left_open_on_done_orders_are_withdrawn(
    fresh_database: Any, tmp_path: Path
) -> None:
    """Migration 0021: assisting dispatches still open on orders done before the rule
    are withdrawn with its reason, their clocks cancelled, each with an event; those of
    orders still at work are left alone."""
    url = await fresh_database("assisting_closed")
    earlier = tmp_path / "migrations"
    earlier.mkdir()
    for path in MIGRATIONS_DIR.glob("*.sql"):
        if path.name < "0021":
            (earlier / path.name).write_text(path.read_text())
    await migrate(url, earlier)
    now = dt.datetime(2025, 6, 3, 2, 0, tzinfo=dt.UTC)
    conn = await asyncpg.connect(url)
    try:
        await seed_old_schema(conn)
        async with with_todays_order_columns(conn):
            done = await order_in_status(conn, "completed", now)
            working = await order_in_status(conn, "in_progress", now)
        water = await conn.fetchval("SELECT id FROM enterprises WHERE code = 'qd-water'")
        helpers = {}
        for order in (done, working):
            helpers[order["id"]] = await conn.fetchval(
                "INSERT INTO dispatches (order_id, enterprise_id, role, sign_for_due_at, "
                "created_at) VALUES ($1, $2, 'assisting', $3, $3) RETURNING id",
                order["id"],
                water,
                now,
            )
            await conn.execute(
                "INSERT INTO deadlines (order_id, dispatch_id, kind, due_at) "
                "VALUES ($1, $2, 'sign_for', $3)",
                order["id"],
                helpers[order["id"]],
                now + dt.timedelta(hours=4),
            )
        await migrate(url)
        rows = {
            r["order_id"]: r
            for r in await conn.fetch(
                "SELECT d.order_id, d.state, d.withdrawn_reason, t.state AS clock "
                "FROM dispatches d JOIN deadlines t ON t.dispatch_id = d.id"
            )
        }
        assert (rows[done["id"]]["state"], rows[done["id"]]["clock"]) == ("withdrawn", "cancelled")
        assert rows[done["id"]]["withdrawn_reason"] == "订单已办结，协办任务随之撤回"
        assert (rows[working["id"]]["state"], rows[working["id"]]["clock"]) == (
            "pending",
            "pending",
        )
        events = await conn.fetch("SELECT order_id, data FROM order_events")
        assert [(e["order_id"], json.loads(e["data"])["dispatch_id"]) for e in events] == [
            (done["id"], helpers[done["id"]])
        ]
    finally:
        await conn.close()
